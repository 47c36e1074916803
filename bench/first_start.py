"""The newcomer's first start: seconds until the demo's web UI answers, and until its history is in.

Run: python -m bench.first_start [--history 120]. Starts ``aftersales demo`` (what
``scripts/run`` runs after the install step) on a fresh SQLite file in a temporary folder
and prints, next to the target, the seconds until ``/healthz`` and ``/login`` answer, and the
seconds until the simulated history is complete (the UI serves meanwhile). Figures only.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def history_running(database: Path) -> bool:
    try:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT 1 FROM database_mark WHERE name = 'history'").fetchone() is not None
    except sqlite3.Error:
        return True  # not migrated yet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=120, help="simulated tickets (the demo's default: 120)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database, port = Path(folder) / "demo.sqlite3", free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "AFTERSALES_SMTP_PORT": str(free_port()),
               "AFTERSALES_MAIL_SINK_DIR": str(Path(folder) / "mail")}
        env.pop("AFTERSALES_DATABASE_URL", None)
        began = time.monotonic()
        with (Path(folder) / "demo.log").open("w") as log:
            server = subprocess.Popen([sys.executable, "-m", "cli", "demo", "--port", str(port),
                                       "--history", str(args.history)], cwd=ROOT, env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            try:
                while not answers(f"http://127.0.0.1:{port}/healthz"):
                    time.sleep(0.1)
                health = time.monotonic() - began
                while not answers(f"http://127.0.0.1:{port}/login"):
                    time.sleep(0.1)
                login = time.monotonic() - began
                while history_running(database) or "history:" not in (Path(folder) / "demo.log").read_text():
                    if server.poll() is not None:
                        raise SystemExit((Path(folder) / "demo.log").read_text())
                    time.sleep(0.5)
                history = time.monotonic() - began
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(f"first start, UI answers (/healthz): {health:6.1f} s   target <= {TARGET_SECONDS:.0f} s")
    print(f"first start, sign-in page (/login): {login:6.1f} s   target <= {TARGET_SECONDS:.0f} s")
    print(f"history of {args.history} tickets complete:  {history:6.1f} s   (the UI serves meanwhile)")


if __name__ == "__main__":
    main()
