"""The demo's first start: the UI answers while the month of history is still being simulated.

``aftersales demo`` runs as a real process on a fresh SQLite file: its web UI answers before
the history is complete, staff pages say how far the history has got, the history's clock
stays in its own thread (the UI's clock is the wall clock), and when the history is done the
note goes, the tickets are there and the worker runs.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import clock
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent
NOTE = "history is still being simulated"
pytestmark = pytest.mark.slow


def wait_for(what, timeout: float = 300.0):  # type: ignore[no-untyped-def]
    """Poll ``what()`` until it returns something true (a limit on waiting, not a measurement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting after {timeout} s")


class Staff:
    """A signed-in browser session over plain HTTP (cookies and the sign-in form's CSRF token)."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        assert token, form[:500]
        body = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username,
                                       "password": "demo-pass-1"}).encode()
        self.opener.open(f"{base}/login", body, timeout=30).read()

    def get(self, path: str) -> str:
        return self.opener.open(f"{self.base}{path}", timeout=30).read().decode()


def answers(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
    except OSError:
        return False


def marks(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT name, value FROM database_mark").fetchall())


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_demo_serves_while_its_history_fills_in_and_then_runs_its_worker(tmp_path: Path):
    database, port, intake = tmp_path / "demo.sqlite3", free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "AFTERSALES_SMTP_PORT": str(free_port()),
           "AFTERSALES_MAIL_INTAKE_PORT": str(intake),
           "AFTERSALES_MAIL_SINK_DIR": str(tmp_path / "mail"), "AFTERSALES_DEMO_PASSWORD": "demo-pass-1"}
    env.pop("AFTERSALES_DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "cli", "demo", "--port", str(port), "--history", "12"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(base))
        assert "history" in marks(database), "the UI answered only after the history was complete"
        agent = Staff(base, "agent")
        page = agent.get("/tasks")
        assert NOTE in page and re.search(r"\((\d+) %\)", page)
        wait_for(lambda: "history" not in marks(database) and "history:" in (tmp_path / "demo.log").read_text(), 900)
        assert count(database, "instance") >= 8  # 12 arrivals over the month, a few may fall outside it
        wait_for(lambda: NOTE not in agent.get("/tasks"), 60)  # the pages re-read the note every 3 s
        output = (tmp_path / "demo.log").read_text()
        assert re.search(r"history: \d+ tickets \(\d+ closed\)", output)
        assert server.poll() is None
        # a customer's e-mail to the demo's loopback intake opens a request
        with smtplib.SMTP("127.0.0.1", intake, timeout=30) as smtp:
            smtp.sendmail("li.lei@example.cn", ["service@aftersales.local"],
                          b"From: Li Lei <li.lei@example.cn>\r\nSubject: TV-55U8 stays dark\r\n\r\nNo picture.\r\n")
        assert count(database, "mail_intake") == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_a_thread_may_live_on_its_own_clock_while_the_others_read_the_installed_one():
    past, present = datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    previous = clock.set_clock(clock.FrozenClock(present))
    seen: dict[str, datetime] = {}
    inside, leave = threading.Event(), threading.Event()

    def simulated() -> None:
        with clock.thread_clock(clock.FrozenClock(past)):
            seen["thread"] = clock.now()
            inside.set()
            leave.wait(10)
        seen["after"] = clock.now()

    try:
        worker = threading.Thread(target=simulated)
        worker.start()
        inside.wait(10)
        seen["main"] = clock.now()
        leave.set()
        worker.join(10)
    finally:
        clock.set_clock(previous)
    assert (seen["thread"], seen["main"], seen["after"]) == (past, present, present)
