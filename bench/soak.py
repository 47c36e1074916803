"""Fault soak: kill -9 web and worker processes at random under load, then check everything.

Run: python -m bench.soak [--seconds 60] [--database sqlite|postgresql] [--seed 7].
Runs gunicorn (2 web workers), 2 ``aftersales worker`` processes and 3 client processes
driving field-repair cases over the API (retrying what a dead server did not answer),
with a real SMTP server on loopback receiving the customers' e-mails. A chaos loop
SIGKILLs a random gunicorn worker (its master starts another) or engine worker (the soak
starts another) every 0.5–3 s. Then the load stops, the workers drain, and the soak
checks: the audit trails verify; every instance's stored state agrees with its trail and
no step ran twice; every notification was delivered, none twice (by Message-ID); stock
adds up and never went negative. Prints a PASS/FAIL summary; loops are bounded in time
and traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections import Counter
from pathlib import Path

from bench import scale

ROOT = Path(__file__).parent.parent


def drive_tolerant(base: str, token: str, n: int, deadline: float) -> int:
    """Drive one case, retrying through dead servers; return 1 when it closed, else 0."""
    intake = {**scale.INTAKE, "customer": {**scale.INTAKE["customer"], "phone": f"+86 137 {n:08d}",
                                           "email": f"soak{n}@example.com"},
              "product": {**scale.INTAKE["product"], "serial_number": f"WMF80-S{n:05d}"}}
    ticket, messages = None, list(scale.MESSAGES)
    while time.monotonic() < deadline:
        try:
            if ticket is None:
                status, body, _ = scale.call(base, token, "POST", "/api/v1/service-requests", intake)
                if status in (200, 201):
                    ticket = body["ticket_number"]
                continue
            status, listing, _ = scale.call(base, token, "GET", f"/api/v1/tasks?scope=all&business_key={ticket}")
            tasks = [t for t in (listing or {}).get("items", []) if t["element_id"] in scale.FORMS]
            if tasks:
                scale.call(base, token, "POST", f"/api/v1/tasks/{tasks[0]['task_id']}/complete",
                           {"data": scale.FORMS[tasks[0]["element_id"]]})
            elif messages:
                name, payload = messages[0]
                status, _, _ = scale.call(base, token, "POST", "/api/v1/messages",
                                          {"name": name, "correlation_key": ticket, "payload": payload})
                if status in (200, 404):  # 404: delivered by a request whose answer was lost
                    messages.pop(0)
            else:
                return 1
        except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError):  # a dying server answers oddly
            time.sleep(0.2)
    return 0


def client(base: str, token: str, first: int, seconds: float) -> None:
    """Client process: drive cases until the time is up; print how many closed."""
    deadline, closed, n = time.monotonic() + seconds, 0, first
    while time.monotonic() < deadline:
        closed += drive_tolerant(base, token, n, deadline)
        n += 1
    print(json.dumps({"closed": closed, "started": n - first}))


class Smtp:
    """A real SMTP server on loopback that records Message-IDs."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.ids: Counter[str] = Counter()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                from email import message_from_bytes

                outer.ids[message_from_bytes(envelope.content)["Message-ID"]] += 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=scale._free_port())
        self.controller.start()

    @property
    def port(self) -> int:
        return self.controller.port

    def stop(self) -> None:
        self.controller.stop()


def children_of(pid: int) -> list[int]:
    """Return the process ids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(")")[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def main() -> None:
    """Run the soak and print the summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    smtp = Smtp()
    os.environ.update(AFTERSALES_SMTP_HOST="127.0.0.1", AFTERSALES_SMTP_PORT=str(smtp.port))
    kills = Counter()
    with scale.database(args.database) as url, tempfile.TemporaryDirectory() as logs:
        token = scale.prepare(url)
        env = {**os.environ, "DATABASE_URL": url, "AFTERSALES_SECRET_KEY": "soak", "PYTHONPATH": str(ROOT),
               "AFTERSALES_WORKER_POLL_SECONDS": "1", "AFTERSALES_OUTBOX_LEASE_SECONDS": "10"}
        port = scale._free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(logs) / "all.log", "ab")  # noqa: SIM115  (closed below)
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                "web:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=log)
        workers = [subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=ROOT, env=env, stdout=log,
                                    stderr=log) for _ in range(2)]
        time.sleep(3)
        clients = [subprocess.Popen([sys.executable, "-m", "bench.soak", "--client", base, token,
                                     str(10_000 * (i + 1)), str(args.seconds)], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for i in range(3)]
        stop = threading.Event()

        def chaos() -> None:
            while not stop.wait(rng.uniform(0.5, 3.0)):
                if rng.random() < 0.5:
                    pids = children_of(web.pid)
                    if pids:
                        os.kill(rng.choice(pids), signal.SIGKILL)
                        kills["web worker"] += 1
                else:
                    i = rng.randrange(len(workers))
                    workers[i].kill()
                    workers[i].wait()
                    workers[i] = subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=ROOT, env=env,
                                                  stdout=log, stderr=log)
                    kills["engine worker"] += 1

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        outputs = [c.communicate(timeout=args.seconds + 600) for c in clients]
        broken = [err[-1500:] for (out, err) in outputs if not out.strip()]
        if broken:
            print("a client failed:\n" + broken[0])
        results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs if out.strip()]
        stop.set()
        chaos_thread.join()
        drain(url, deadline=time.monotonic() + 90)  # leases of killed workers expire, the rest goes out
        web.send_signal(signal.SIGTERM)
        for w in workers:
            w.send_signal(signal.SIGTERM)
        web.wait(60)
        for w in workers:
            w.wait(60)
        log.close()
        checks = verify(url, smtp)
    smtp.stop()
    closed = sum(r["closed"] for r in results)
    print(f"kills: {dict(kills)}; cases closed: {closed} of {sum(r['started'] for r in results)} started")
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print("SOAK " + ("PASSED" if all(ok for _, ok, _ in checks) else "FAILED"))
    sys.exit(0 if all(ok for _, ok, _ in checks) else 1)


def drain(url: str, deadline: float) -> None:
    """Wait until the outbox has nothing pending or being sent (or the deadline passes)."""
    from sqlalchemy import func, select

    from engine.db import Database
    from handlers.outbox import Outbox

    db = Database(url)
    while time.monotonic() < deadline:
        with db.transaction(write=False) as s:
            left = s.scalar(select(func.count()).where(Outbox.status.in_(("pending", "sending"))))
        if not left:
            break
        time.sleep(1)
    db.dispose()


def verify(url: str, smtp: Smtp) -> list[tuple[str, bool, str]]:
    """Check the invariants after the soak."""
    from SpiffWorkflow.util.task import TaskState
    from sqlalchemy import func, select

    from engine import store
    from engine.audit import events_for
    from engine.audit import verify as verify_trail
    from engine.config import load_settings
    from engine.db import Database
    from engine.models import Instance
    from engine.runtime import Runtime
    from handlers.outbox import Outbox
    from handlers.parts import Reservation, Stock

    db, runtime = Database(url), Runtime(load_settings(database_url=url))
    checks: list[tuple[str, bool, str]] = []
    with db.transaction(write=False) as s:
        report = verify_trail(s)
        checks.append(("audit trails verify", report.ok, f"{report.streams} streams, {report.events} events"))
        disagreements, repeats = [], []
        for inst in s.scalars(select(Instance)):
            done = [e.task_id for e in events_for(s, inst.id) if e.kind in ("task.completed", "timer.fired")]
            if len(done) != len(set(done)):
                repeats.append(inst.id)
            workflow = store.read_workflow(s, inst, runtime.specs)
            in_state = {str(t.id) for t in workflow.get_tasks(state=TaskState.COMPLETED)
                        if t.task_spec.bpmn_id is not None}
            if in_state != set(done):
                disagreements.append(inst.id)
        checks.append(("no step twice", not repeats, f"instances with a repeated step: {repeats[:10]}"))
        checks.append(("state agrees with trail", not disagreements, f"disagreeing: {disagreements[:10]}"))
        statuses = dict(s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
        emails = s.scalars(select(Outbox.message_id).where(Outbox.channel == "email",
                                                           Outbox.status == "delivered")).all()
        repeated = sum(n - 1 for n in smtp.ids.values())
        missing = [m for m in emails if m not in smtp.ids]
        strangers = [m for m in smtp.ids if m not in set(emails)]
        checks.append(("notifications delivered", set(statuses) <= {"delivered"} and not missing,
                       f"outbox {statuses}; delivered e-mails missing at the server: {len(missing)}"))
        checks.append(("each e-mail is one outbox row, once by Message-ID", not strangers,
                       f"{len(smtp.ids)} distinct Message-IDs for {len(emails)} rows; {repeated} resent copies "
                       f"(a worker killed between the server's 250 and its commit) carry the same Message-ID"))
        stock = s.execute(select(func.sum(Stock.available), func.sum(Stock.reserved), func.min(Stock.available))
                          .where(Stock.sku == "WM-PUMP-01")).one()
        held = s.scalar(select(func.coalesce(func.sum(Reservation.quantity - Reservation.consumed
                                                      - Reservation.released), 0))
                        .where(Reservation.sku == "WM-PUMP-01"))
        checks.append(("stock adds up", stock[1] == held and stock[2] >= 0,
                       f"available {stock[0]}, reserved {stock[1]} (reservations hold {held}), lowest {stock[2]}"))
    db.dispose()
    return checks


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        main()
