"""``aftersales serve`` and ``aftersales demo``: running the product (``aftersales users``: cli/users.py)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from engine import rollup_elements
from engine.bundle import read_bundle
from engine.deploy import deploy as deploy_bundle
from engine.identity import create_user
from engine.migrate import upgrade
from engine.models import DatabaseMark, User
from engine.rehearsal import set_purpose
from engine.worker import Worker

from .main import _services, handled, main

DEMO_USERS = [
    ("agent", "Alice Agent", ["agent"]),
    ("tech", "Tom Technician", ["technician"]),
    ("warehouse", "Wendy Warehouse", ["warehouse"]),
    ("supervisor", "Sam Supervisor", ["supervisor"]),
    # a second supervisor: the quote's approval may not be done by whoever proposed the solution (four eyes,
    # processes/quote_approval.bpmn), so what `supervisor` proposes is approved here (or by admin)
    ("supervisor2", "Sue Supervisor", ["supervisor"]),
    ("qa", "Quinn QA", ["qa"]),
    ("owner", "Olga Process-Owner", ["process_owner"]),
    ("auditor", "Aude Auditor", ["auditor"]),
    ("admin", "Adam Admin", ["admin"]),
]


def demo_password() -> str:
    """Return the demo users' password (``AFTERSALES_DEMO_PASSWORD``, else the documented default)."""
    return os.environ.get("AFTERSALES_DEMO_PASSWORD", "demo-pass-1")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="run the timer/retry/notification worker in a background thread")
@click.pass_context
@handled
def serve(ctx: click.Context, host: str, port: int, worker: bool) -> None:
    """Serve the web UI and API (development server; see README for gunicorn)."""
    from web import create_app

    services = _services(ctx)
    _default_public_url(host, port)
    app = create_app(services=services)
    if worker:
        _start_worker_thread(services)
    click.echo(f"aftersales on http://{host}:{port}/  (database {services.settings.database_url})")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _default_public_url(host: str, port: int) -> None:
    """Point the links in customers' messages at this server, unless ``AFTERSALES_PUBLIC_URL`` says where
    customers reach it (an admin's setting on /admin/settings still comes first)."""
    if os.environ.get("AFTERSALES_PUBLIC_URL") or os.environ.get("AFTERSALES_BASE_URL"):
        return
    name = "127.0.0.1" if host in ("", "0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    os.environ["AFTERSALES_PUBLIC_URL"] = f"http://{name}:{port}"
    click.echo(f"customer links: http://{name}:{port} (set AFTERSALES_PUBLIC_URL to the address customers reach)")


def _start_worker_thread(services) -> None:  # type: ignore[no-untyped-def]
    w = Worker(services.db, services.runtime, services.settings.worker_batch_size)

    def loop() -> None:
        while True:
            try:
                w.run_once()
            except Exception:
                logging.getLogger("aftersales.worker").exception("worker pass failed")
            w.stopping.wait(services.settings.worker_poll_seconds)

    threading.Thread(target=loop, name="aftersales-worker", daemon=True).start()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="prepare the database and exit")
@click.option("--history", default=120, show_default=True, type=click.IntRange(0, 100_000),
              help="simulated tickets over the last 30 days, loaded on the first start (0: none)")
@click.pass_context
@handled
def demo(ctx: click.Context, host: str, port: int, no_serve: bool, history: int) -> None:
    """Migrate the database, deploy processes/, seed demo users and data (and a simulated history on the
    first start, so the dashboard has something to show), then serve."""
    services = _services(ctx)
    _default_public_url(host, port)
    upgrade(services.settings.database_url)
    processes = services.settings.processes_dir
    with services.db.transaction() as session:
        rollup_elements.rebuild_if_stale(session)  # a migration changed how runs count
        if processes.is_dir() and any(processes.glob("*.bpmn")):
            result = deploy_bundle(session, read_bundle([processes], "aftersales"), "demo")
            click.echo(f"processes: {result.name} v{result.version} ({', '.join(result.processes)})")
        seeded = seed_demo_users(session)
        if session.get(DatabaseMark, "purpose") is None:
            set_purpose(session, "demo", "demo")  # so testers may run timers as of a later time
    click.echo(f"demo users: {', '.join(seeded) or 'already there'} (password: see README)")
    _start_mail_sink()
    from .mail_intake import start_demo_listener

    _sinks.extend(filter(None, [start_demo_listener(services)]))  # the demo's inbound e-mail is real too
    try:
        _load_catalogue(services, processes / "data")
        with services.db.transaction() as session:
            roster = seed_roster_logins(session)
        if roster:
            click.echo(f"field technicians who may sign in (same password): {', '.join(roster)}")
        if no_serve:
            _load_history(services, history)
            return
        # The UI answers at once; the history fills in behind it and the worker starts after it.
        filling = _history_in_background(services, history)
        ctx.invoke(serve, host=host, port=port, worker=filling is None)
    finally:
        while _sinks:
            _sinks.pop().stop()


def _start_mail_sink() -> None:
    """Receive the demo's e-mail on loopback (``AFTERSALES_SMTP_PORT``, default 8025) in a Maildir.

    The outbox then really delivers; staff read what was sent on ``/mail``. Skipped when
    ``AFTERSALES_SMTP_HOST`` names another server, or something already listens there.
    """
    from handlers.transports import MailSink, SmtpSettings

    settings = SmtpSettings.from_env()
    if settings.host not in ("localhost", "127.0.0.1"):
        click.echo(f"mail: sent to {settings.host}:{settings.port}")
        return
    folder = Path(os.environ.get("AFTERSALES_MAIL_SINK_DIR", "instance/mail"))
    try:
        sink = MailSink(folder, "127.0.0.1", settings.port).start()
    except (OSError, RuntimeError) as exc:  # the port is taken: a sink or a real server is already there
        click.echo(f"mail: 127.0.0.1:{settings.port} is in use ({exc}); sending there")
        return
    os.environ["AFTERSALES_SMTP_HOST"] = "127.0.0.1"  # the sink listens on IPv4 loopback only
    _sinks.append(sink)
    click.echo(f"mail: a local mail sink on 127.0.0.1:{settings.port} keeps the demo's e-mail in {folder}/ "
               "(read it on /mail)")


_sinks: list[Any] = []  # the running mail sink, stopped when the command ends


def _history_needed(services, tickets: int) -> bool:  # type: ignore[no-untyped-def]
    """Tell whether the demo database still needs its simulated history (it has no instance yet)."""
    from engine import history_status
    from engine.models import Instance

    with services.db.transaction() as session:
        if history_status.clear(session):
            click.echo("history: an earlier start was stopped while simulating; its tickets stay as they are")
        return tickets > 0 and session.scalar(select(Instance.id).limit(1)) is None


def _load_history(services, tickets: int) -> None:  # type: ignore[no-untyped-def]
    """Simulate a month of tickets through the real process, once, on an empty demo database."""
    from engine import history_status
    from simulation.history import simulate_history

    if not _history_needed(services, tickets):
        return
    days = 30
    click.echo(f"simulating {tickets} tickets over the last {days} days for the dashboard (first start only)")
    shown = {"percent": -1}
    with click.progressbar(length=days * 86400, label="history", show_percent=True, width=30) as bar:
        def advanced(seconds: int) -> None:
            bar.update(seconds)
            percent = int(100 * bar.pos / bar.length) if bar.length else 100
            if percent >= shown["percent"] + 5:  # every 5 %: what the web pages tell staff
                shown["percent"] = percent
                with services.db.transaction() as session:
                    history_status.set_progress(session, percent, tickets)

        with services.db.transaction() as session:
            history_status.set_progress(session, 0, tickets)
        try:
            report = simulate_history(services.db, services.runtime, tickets, days, seed=1, progress=advanced)
        finally:
            with services.db.transaction() as session:
                history_status.clear(session)
    click.echo(f"history: {report.tickets} tickets ({report.closed} closed) in {report.seconds:.0f} s")


def _history_in_background(services, tickets: int) -> threading.Thread | None:  # type: ignore[no-untyped-def]
    """Simulate the history in a thread (its own clock, in the past), then start the worker; None if not needed."""
    if not _history_needed(services, tickets):
        return None

    def run() -> None:
        try:
            _load_history(services, tickets)
        except Exception:
            logging.getLogger("aftersales.demo").exception("simulating the demo history failed")
        finally:
            _start_worker_thread(services)

    thread = threading.Thread(target=run, name="aftersales-history", daemon=True)
    thread.start()
    return thread


def seed_demo_users(session) -> list[str]:  # type: ignore[no-untyped-def]
    """Create the demo users that don't exist yet; return their names."""
    existing = set(session.scalars(select(User.username)))
    created = []
    for username, name, roles in DEMO_USERS:
        if username not in existing:
            create_user(session, username, demo_password(), roles, display_name=name,
                        email=f"{username}@aftersales.example", by="demo")
            created.append(username)
    return created


def seed_roster_logins(session) -> list[str]:  # type: ignore[no-untyped-def]
    """Give every field technician on the dispatch roster who has no account yet a demo sign-in, so that a
    tester can open the visits booked to them (``/my-day``); return their names."""
    from handlers.dispatch import Technician

    existing = set(session.scalars(select(User.username)))
    created = []
    for tech in session.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.username)):
        if tech.username not in existing:
            create_user(session, tech.username, demo_password(), ["technician"], display_name=tech.name,
                        email=f"{tech.username}@aftersales.example", by="demo")
            created.append(tech.username)
    return created


def _load_catalogue(services, folder: Path) -> None:  # type: ignore[no-untyped-def]
    if not folder.is_dir():
        return
    from handlers import demo as demo_data

    with services.db.transaction() as session:
        summary = demo_data.load_catalogue(session, folder)
    click.echo(f"demo catalogue: {summary}")


from . import users  # noqa: E402,F401  (aftersales users …, in its own module)
