"""Long soak: one web process and one worker under mixed load for ten minutes or more.

Run: python -m bench.soak_long [--minutes 10] [--database sqlite|postgresql] [--clients 2].
One gunicorn web worker and one ``aftersales worker`` serve clients that, in a loop, drive
field repairs through every task (quote, confirmation and survey messages), cancel
requests (``customer_cancel``), contact again about an open ticket (``customer_contact``)
and send ``parts_arrived`` and ``device_received`` whether or not anyone waits; every 30 s
the demo clock moves on by half a day for one round of due work (``aftersales worker
--once --as-of``), which fires SLA warnings, breaches and reminders on the open tickets.
The resident memory of the web worker and the engine worker is sampled every 5 s.

Afterwards it checks that every started ticket has ended or waits where the model says
(an open task or a message it expects, no incident), that the audit trails verify, and that
memory after warm-up stayed flat; prints the figures and PASS/FAIL. Traffic stays on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import scale

ROOT = Path(__file__).parent.parent
#: memory growth after warm-up that still counts as flat
FLAT_MB = 30.0


def rss_mb(pid: int) -> float | None:
    """Return the resident set size of ``pid`` in MB (None when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if int((proc / "stat").read_text().split(") ", 1)[1].split()[1]) == pid:
                    found.append(int(proc.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def request(n: int) -> dict:
    return {**scale.INTAKE, "customer": {**scale.INTAKE["customer"], "phone": f"+86 136 {n:08d}",
                                         "email": f"long{n}@example.com"},
            "product": {**scale.INTAKE["product"], "serial_number": f"WMF80-L{n:06d}"}}


class Load:
    """The clients' shared bookkeeping: tickets started, outcomes per kind of call."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.tickets: list[str] = []
        self.calls: Counter[str] = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def call(self, what: str, method: str, path: str, body=None):  # type: ignore[no-untyped-def]
        status, answer, _ = scale.call(self.base, self.token, method, path, body)
        with self.lock:
            self.calls[f"{what} {status}"] += 1
        return status, answer

    def open(self, n: int) -> str | None:
        status, answer = self.call("open", "POST", "/api/v1/service-requests", request(n))
        if status not in (200, 201):
            self.errors.append(f"open {n}: {status} {answer}")
            return None
        with self.lock:
            self.tickets.append(answer["ticket_number"])
        return str(answer["ticket_number"])

    def message(self, name: str, ticket: str, payload: dict) -> int:
        status, answer = self.call(name, "POST", "/api/v1/messages",
                                   {"name": name, "correlation_key": ticket, "payload": payload})
        if status not in (200, 404, 409):
            self.errors.append(f"{name} {ticket}: {status} {answer}")
        return status


def client(load: Load, first: int, deadline: float, seed: int) -> None:
    """Drive a mix of cases until the deadline."""
    rng, n = random.Random(seed), first
    while time.monotonic() < deadline:
        n += 1
        kind = rng.choices(["field", "cancel", "again", "stray"], [5, 2, 2, 1])[0]
        try:
            if kind == "field":
                scale.drive_case(load.base, load.token, n)
                with load.lock:
                    load.calls["field journey done"] += 1
            elif kind == "cancel" and (ticket := load.open(n)):
                load.message("customer_cancel", ticket, {"reason": "Solved it myself"})
            elif kind == "again" and (ticket := load.open(n)):
                load.call("repeat contact", "POST", "/api/v1/service-requests",
                          {**request(n), "fault": {**scale.INTAKE["fault"], "description": "Any news?"}})
                load.message("customer_contact", ticket, {"channel": "chat", "fault": {"description": "Still?"}})
            elif kind == "stray" and load.tickets:
                ticket = rng.choice(load.tickets)
                load.message("parts_arrived", ticket, {"skus": ["WM-PUMP-01"]})
                load.message("device_received", ticket, {"condition": "as described", "received_by": "soak"})
        except Exception as exc:  # a client must not die: what failed is reported
            load.errors.append(f"{kind} {n}: {exc}")


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def move_clock(url: str, stop: threading.Event, passes: list[str]) -> None:
    """Every 30 s, run one round of due work as of a later time (hours ahead, growing)."""
    ahead = 0
    while not stop.wait(30):
        ahead += 12  # half a day per round: SLA warnings, breaches and reminders come due
        when = (datetime.now(UTC) + timedelta(hours=ahead)).strftime("%Y-%m-%dT%H:%M")
        done = cli(url, "worker", "--once", "--as-of", when, "--json")
        passes.append(done.stdout.strip() or done.stderr.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    with scale.database(args.database) as url:
        token = scale.prepare(url)
        marked = cli(url, "db", "mark", "test")
        assert marked.returncode == 0, marked.stderr
        with tempfile.TemporaryDirectory() as logs, scale.servers(url, 1, Path(logs)) as base:
            run(url, base, token, args)


def run(url: str, base: str, token: str, args: argparse.Namespace) -> None:
    web = [p for p in children_of(os.getpid()) if "gunicorn" in Path(f"/proc/{p}/cmdline").read_text()]
    workers = [p for p in children_of(os.getpid()) if "worker" in Path(f"/proc/{p}/cmdline").read_text()
               and "gunicorn" not in Path(f"/proc/{p}/cmdline").read_text()]
    web_worker = children_of(web[0])[0]
    load, stop, passes = Load(base, token), threading.Event(), []
    seconds = args.minutes * 60
    deadline = time.monotonic() + seconds
    samples: list[tuple[float, float | None, float | None]] = []
    threads = [threading.Thread(target=client, args=(load, 100_000 * (i + 1), deadline, i))
               for i in range(args.clients)]
    threads.append(threading.Thread(target=move_clock, args=(url, stop, passes)))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - began, rss_mb(web_worker), rss_mb(workers[0])))
        time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join()
    time.sleep(5)  # the worker drains what the last triggers queued
    report(url, base, token, load, passes, samples, seconds)


def flat(samples: list[tuple[float, float | None, float | None]], index: int, seconds: float) -> tuple[float, float]:
    """Return (RSS just after warm-up, growth since) for one process: warm-up is the first quarter."""
    after = [s[index] for s in samples if s[0] >= seconds / 4 and s[index] is not None]
    if len(after) < 4:
        return float("nan"), float("nan")
    start, end = statistics.median(after[:3]), statistics.median(after[-3:])
    return start, end - start


def report(url: str, base: str, token: str, load: Load, passes: list[str],
           samples: list[tuple[float, float | None, float | None]], seconds: float) -> None:
    stuck = []
    for ticket in load.tickets:
        status, answer, _ = scale.call(base, token, "GET", f"/api/v1/service-requests/{ticket}")
        if status != 200 or (answer.get("status") == "active" and not answer.get("current")):
            stuck.append((ticket, status, answer.get("status") if isinstance(answer, dict) else answer))
    states = Counter()
    for ticket in load.tickets:
        status, answer, _ = scale.call(base, token, "GET", f"/api/v1/service-requests/{ticket}")
        states[answer.get("status") if status == 200 else status] += 1
    incidents = json.loads(cli(url, "incidents", "--json").stdout or "[]")
    verified = cli(url, "audit", "verify")
    web_start, web_growth = flat(samples, 1, seconds)
    work_start, work_growth = flat(samples, 2, seconds)
    fired = sum(json.loads(p).get("timers_fired", 0) for p in passes if p.startswith("{"))
    print(f"long soak: {seconds / 60:.0f} min, {len(load.tickets)} tickets started, states {dict(states)}")
    print(f"calls: {dict(sorted(load.calls.items()))}")
    print(f"clock moved {len(passes)} times, {fired} timers fired by the as-of rounds")
    print(f"web worker RSS after warm-up {web_start:.0f} MB, growth {web_growth:+.1f} MB   target <= {FLAT_MB:.0f} MB")
    print(f"engine worker RSS after warm-up {work_start:.0f} MB, growth {work_growth:+.1f} MB   "
          f"target <= {FLAT_MB:.0f} MB")
    print(f"tickets neither ended nor waiting: {len(stuck)} {stuck[:5]}; incidents: {len(incidents)}; "
          f"client errors: {len(load.errors)} {load.errors[:3]}")
    print(f"audit verify: {verified.stdout.strip().splitlines()[-1] if verified.stdout.strip() else verified.stderr}")
    ok = (not stuck and not incidents and not load.errors and verified.returncode == 0
          and web_growth <= FLAT_MB and work_growth <= FLAT_MB)
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
