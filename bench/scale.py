"""Throughput of full cases over the REST API with 1, 2 and 4 web and worker processes.

Run: python -m bench.scale [--cases 24] [--procs 1,2,4] [--databases sqlite,postgresql].
For each database and process count: a fresh database with processes/ deployed and the
demo catalogue (stock topped up), gunicorn with N web workers, N ``aftersales worker``
processes, and N client processes that each drive their share of cases through the
field-repair journey (intake, first response, remote help, on-site inspection, quote,
customer's yes, repair, inspection, confirmation, survey) as simulated staff and
customers. Prints cases/s, triggers/s, p50/p95 trigger latency and statements per
trigger (counted in-process over one case). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
INTAKE: dict[str, Any] = {
    "channel": "hotline",
    "customer": {"name": "Li Na", "phone": "+86 138 0000 0001", "email": "li.na@example.com", "tier": "normal",
                 "language": "en", "preferred_channel": "email", "region": "east"},
    "product": {"model": "WM-F80", "serial_number": "WMF80-0001", "purchase_date": "2025-09-01",
                "proof_of_purchase": "INV-2025-0901"},
    "fault": {"category": "hardware", "description": "The washer does not drain; water stays in the drum, E21",
              "symptoms": ["error_code"]},
    "expectation": "Repaired this week", "urgency": "medium", "impact": "high",
}
PUMP = [{"sku": "WM-PUMP-01", "quantity": 1}]
FORMS: dict[str, dict[str, Any]] = {
    "respond_to_customer": {"resolved_now": False, "answer": "We will diagnose the washer for you."},
    "assist_remotely": {"outcome": "unresolved", "finding": "Drain filter cleaned, still E21"},
    "inspect_on_site": {"cause": "Drain pump jammed", "repairable": True, "parts_needed": PUMP, "labour_hours": 1.5},
    "propose_solution": {"solution": "repair", "route": "field", "parts": PUMP, "labour_hours": 1.5,
                         "goodwill": False, "warranty_exception": False},
    "repair_device": {"work_done": "Replaced the drain pump", "parts_used": PUMP, "time_spent_minutes": 75},
    "inspect_repair": {"functional_test": "pass", "safety_check": "pass", "passed": True},
}
MESSAGES = [("quote_response", {"accepted": True, "comment": ""}),
            ("customer_confirmation", {"solved": True, "comment": ""}),
            ("survey_answered", {"csat": 5, "nps": 9, "comment": "Quick", "via": "web"})]


def prepare(url: str) -> str:
    """Migrate, deploy processes/, load the catalogue with deep stock; return an API key."""
    from engine import clock
    from engine.apikeys import SCOPES, create_key
    from engine.bundle import read_bundle
    from engine.db import Database
    from engine.deploy import deploy
    from engine.migrate import upgrade
    from handlers.demo import load_catalogue
    from handlers.parts import restock

    upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        deploy(s, read_bundle([ROOT / "processes"], "aftersales"), "bench")
        load_catalogue(s, ROOT / "processes" / "data")
        restock(s, "WM-PUMP-01", "WH-SH", 100_000, clock.now())
        _, token = create_key(s, "bench", sorted(SCOPES), ["agent", "technician", "supervisor", "warehouse"], "bench")
    db.dispose()
    return token


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
    """Make one API call; return status, JSON body and seconds taken."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null"), time.perf_counter() - t0
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), time.perf_counter() - t0


def drive_case(base: str, token: str, n: int) -> list[float]:
    """Run one case through the API; return the latency of each trigger."""
    latencies = []
    intake = {**INTAKE, "customer": {**INTAKE["customer"], "phone": f"+86 139 {n:08d}",
                                     "email": f"c{n}@example.com"},
              "product": {**INTAKE["product"], "serial_number": f"WMF80-{n:06d}"}}
    status, body, took = call(base, token, "POST", "/api/v1/service-requests", intake)
    if status != 201:
        raise RuntimeError(f"service request refused: {status} {body}")
    latencies.append(took)
    ticket, messages = body["ticket_number"], list(MESSAGES)
    for _ in range(40):
        status, listing, _ = call(base, token, "GET", f"/api/v1/tasks?scope=all&business_key={ticket}")
        tasks = [t for t in listing["items"] if t["element_id"] in FORMS]
        if tasks:
            task = tasks[0]
            status, body, took = call(base, token, "POST", f"/api/v1/tasks/{task['task_id']}/complete",
                                      {"data": FORMS[task["element_id"]]})
        elif messages:
            name, payload = messages[0]
            status, body, took = call(base, token, "POST", "/api/v1/messages",
                                      {"name": name, "correlation_key": ticket, "payload": payload})
            if status == 200:
                messages.pop(0)
        else:
            return latencies
        if status != 200:
            raise RuntimeError(f"ticket {ticket}: {status} {body}")
        latencies.append(took)
    raise RuntimeError(f"ticket {ticket} did not finish: {listing}")


def client(base: str, token: str, first: int, count: int) -> None:
    """Client process: drive ``count`` cases and print their latencies as JSON."""
    latencies: list[float] = []
    for n in range(first, first + count):
        latencies += drive_case(base, token, n)
    print(json.dumps(latencies))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database(kind: str):  # type: ignore[no-untyped-def]
    """Yield the URL of a fresh database of ``kind``."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'scale.sqlite3'}"
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import create_database, running_postgres

    with running_postgres() as admin:
        yield create_database(admin, "scale")


@contextmanager
def servers(url: str, n: int, logs: Path):  # type: ignore[no-untyped-def]
    """Run gunicorn with ``n`` web workers and ``n`` engine workers; yield the base URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "AFTERSALES_SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT),
           "AFTERSALES_WORKER_POLL_SECONDS": "1"}
    procs = []
    with open(logs / "web.log", "ab") as log:
        procs.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(n), "--bind",
                                       f"127.0.0.1:{port}", "web:create_app()"], cwd=ROOT, env=env,
                                      stdout=log, stderr=log))
    for i in range(n):
        with open(logs / f"worker-{i}.log", "ab") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=ROOT, env=env,
                                          stdout=log, stderr=log))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def statements_per_trigger(url: str, token: str) -> float:
    """Drive one case in-process and count SQL statements per trigger."""
    from sqlalchemy import event

    from engine.config import load_settings
    from web import create_app
    from web.services import Services

    services = Services.from_settings(load_settings(database_url=url))
    app = create_app({"TESTING": True}, services=services)
    count = {"n": 0}
    event.listen(services.db.engine, "before_cursor_execute", lambda *a: count.__setitem__("n", count["n"] + 1))
    client_ = app.test_client()

    def fake_call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
        response = client_.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.get_json(), 0.0

    global call
    real, call = call, fake_call
    try:
        before = count["n"]
        triggers = len(drive_case("", token, 999_999))
    finally:
        call = real
    services.db.dispose()
    return (count["n"] - before) / triggers


def main() -> None:
    """Print the figures for every database and process count."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{'db':10} {'procs':>5} {'cases/s':>8} {'triggers/s':>10} {'p50 ms':>7} {'p95 ms':>7}")
    for kind in args.databases.split(","):
        for n in [int(p) for p in args.procs.split(",")]:
            with database(kind) as url, tempfile.TemporaryDirectory() as logs, ExitStack() as stack:
                token = prepare(url)
                base = stack.enter_context(servers(url, n, Path(logs)))
                share = max(1, args.cases // n)
                t0 = time.perf_counter()
                clients = [subprocess.Popen([sys.executable, "-m", "bench.scale", "--client", base, token,
                                             str(i * share), str(share)], cwd=ROOT, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True) for i in range(n)]
                outputs = [c.communicate(timeout=1800) for c in clients]
                elapsed = time.perf_counter() - t0
                failed = [err for (_, err), c in zip(outputs, clients, strict=True) if c.returncode != 0]
                if failed:
                    print(f"{kind:10} {n:>5} failed: {failed[0][-800:]}")
                    continue
                latencies = [x for out, _ in outputs for x in json.loads(out.strip().splitlines()[-1])]
                cases = share * n
                cut = statistics.quantiles(latencies, n=20)
                print(f"{kind:10} {n:>5} {cases / elapsed:8.2f} {len(latencies) / elapsed:10.1f} "
                      f"{statistics.median(latencies) * 1000:7.1f} {cut[18] * 1000:7.1f}")
            if n == 1:
                with database(kind) as url:
                    token = prepare(url)
                    print(f"{kind:10} SQL statements per trigger (with its GET /tasks): "
                          f"{statements_per_trigger(url, token):.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
