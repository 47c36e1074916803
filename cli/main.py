"""The ``aftersales`` command line: thin over the engine; ``--json`` for machines.

Errors go to stderr with the exit code of their class in :mod:`engine.errors`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click

from engine import audit, queries, rehearsal, rollup_elements
from engine.bundle import read_bundle
from engine.deploy import deploy as deploy_bundle
from engine.deploy import validate as validate_bundle
from engine.errors import AftersalesError, DeploymentInvalid, InvalidInput
from engine.identity import actor_for
from engine.migrate import upgrade
from engine.registry import all_handlers
from engine.worker import Worker
from web.findings import said
from web.services import Services


def _services(ctx: click.Context) -> Services:
    obj = ctx.ensure_object(dict)
    if "services" not in obj:
        obj["services"] = Services.from_settings()
        ctx.find_root().call_on_close(obj["services"].db.dispose)
    return obj["services"]


def _json_arg(text: str | None, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _emit(value: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    if as_json or human is None:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(human(value))


def handled(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn aftersales errors into a message on stderr and the error's exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DeploymentInvalid as exc:
            click.echo(f"error: {exc.message}", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(exc.exit_code)
        except AftersalesError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for field_error in getattr(exc, "errors", []):
                click.echo(f"  {field_error.field}: {field_error.message}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group()
def main() -> None:
    """aftersales: the after-sales service engine."""


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.pass_context
@handled
def db_upgrade(ctx: click.Context) -> None:
    """Apply every Alembic migration."""
    services = _services(ctx)
    upgrade(services.settings.database_url)
    _rebuild_stale_rollups(services)
    click.echo("database is up to date")


def _rebuild_stale_rollups(services: Services) -> None:
    """Rebuild the element roll-ups when a migration changed how runs count (also after ``alembic upgrade``)."""
    with services.db.transaction() as session:
        runs = rollup_elements.rebuild_if_stale(session)
    if runs is not None:  # on stderr: a worker's --json output stays JSON
        click.echo(f"element roll-ups rebuilt from the audit trail: {runs} runs", err=True)


@main.group("rollups")
def rollups() -> None:
    """Maintain the per-element roll-ups behind the heatmaps."""


@rollups.command("rebuild")
@click.pass_context
@handled
def rollups_rebuild(ctx: click.Context) -> None:
    """Recompute every element run and figure from the audit trail (stop the server and workers first)."""
    with _services(ctx).db.transaction() as session:
        runs = rollup_elements.rebuild(session)
    click.echo(f"element roll-ups rebuilt from the audit trail: {runs} runs")


@db.command("mark")
@click.argument("purpose", type=click.Choice(list(rehearsal.PURPOSES)))
@click.option("--user", default="cli", show_default=True)
@click.pass_context
@handled
def db_mark(ctx: click.Context, purpose: str, user: str) -> None:
    """Mark what this database is for; only demo and test databases may run work as of a later time, and a
    simulation database's e-mail is recorded, never sent."""

    with _services(ctx).db.transaction() as session:
        rehearsal.set_purpose(session, purpose, user)
    click.echo(f"database marked: {purpose}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--name", help="bundle name (default: the folder's name)")
@click.option("--user", default="cli", show_default=True, help="who deploys (recorded in the audit trail)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def deploy(ctx: click.Context, paths: tuple[Path, ...], name: str | None, user: str, as_json: bool) -> None:
    """Validate and deploy BPMN/DMN/forms; the same content returns the same version."""
    services = _services(ctx)
    with services.db.transaction() as session:
        result = deploy_bundle(session, read_bundle(list(paths), name), user)
    _emit(result.to_dict(), as_json, lambda r: (
        f"{'deployed' if r['created'] else 'unchanged'} {r['name']} v{r['version']} "
        f"({r['content_hash'][:12]}): {', '.join(r['processes'])}"
        + "".join(f"\n  warning: {w['file']} {w['element_id'] or ''}: {w['message']}" for w in r["warnings"])))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.option("--language", type=click.Choice(["en", "zh"]), default="en",
              help="Say the findings in this language (the --json output stays English).")
@click.pass_context
@handled
def validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, language: str) -> None:
    """Check BPMN/DMN/forms without deploying; exit 2 when there are errors."""
    with _services(ctx).db.transaction(write=False) as session:
        result = validate_bundle(read_bundle(list(paths)), session)
    problems = [p.to_dict() for p in result.problems]
    _emit({"ok": not result.errors, "problems": problems}, as_json,
          lambda r: "\n".join(str(replace(p, message=said(p, language))) for p in result.problems)
          or "no problems found")
    if result.errors:
        sys.exit(InvalidInput.exit_code)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def definitions(ctx: click.Context, as_json: bool) -> None:
    """List deployed processes and decisions with their versions."""
    with _services(ctx).db.transaction(write=False) as session:
        rows = queries.list_definitions(session)
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['kind']:8} {r['process_id']:30} {r['bundle']} v{r['version']}  {r['instances']} instance(s)"
        for r in rs) or "nothing deployed")


@main.command()
@click.argument("process_id")
@click.option("--data", help="initial data as a JSON object")
@click.option("--key", help="business key (ticket number)")
@click.option("--user", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def start(ctx: click.Context, process_id: str, data: str | None, key: str | None, user: str,
          as_json: bool) -> None:
    """Start an instance of PROCESS_ID."""
    services = _services(ctx)
    with services.db.transaction() as session:
        result = services.runtime.start(session, process_id, _json_arg(data, "--data"), key, user)
    _emit(result.__dict__, as_json, lambda r: f"started instance {r['instance_id']} ({r['status']})")


@main.command()
@click.option("--user", "username", help="only tasks this user may work on")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def tasks(ctx: click.Context, username: str | None, as_json: bool) -> None:
    """List ready human tasks."""
    with _services(ctx).db.transaction(write=False) as session:
        if username:
            items, _total = queries.list_tasks(session, actor_for(session, username),
                                               queries.TaskFilter(scope="any", limit=1000))
        else:
            items = queries.list_open_tasks(session)
        rows = [queries.work_item_view(i) for i in items]
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['task_id']}  {r['business_key'] or r['instance_id']!s:22} {r['name']:32} {r['role'] or '-':12} "
        f"{r['assignee'] or ''}" for r in rs) or "no tasks")


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@click.option("--data", help="form data as a JSON object")
@click.pass_context
@handled
def complete(ctx: click.Context, task_id: str, username: str, data: str | None) -> None:
    """Complete a ready human task as USER."""
    services = _services(ctx)
    with services.db.transaction() as session:
        instance = services.runtime.complete_task(session, task_id, actor_for(session, username),
                                                  _json_arg(data, "--data"))
        click.echo(f"completed; instance {instance.id} is {instance.status}")


@main.command()
@click.argument("name")
@click.option("--key", required=True, help="correlation key (ticket number)")
@click.option("--data", help="payload as a JSON object")
@click.option("--user", "username", help="send as this user, held to the senders the message's contract names "
                                         "(default: the trusted operator, allowed what the system may send)")
@click.pass_context
@handled
def message(ctx: click.Context, name: str, key: str, data: str | None, username: str | None) -> None:
    """Deliver message NAME to the instances waiting for it with KEY."""
    from engine.message_contracts import Sender

    services = _services(ctx)
    with services.db.transaction() as session:
        sender = Sender.acting(actor_for(session, username)) if username else Sender.system("cli")
        ids = services.runtime.deliver_message(session, name, key, _json_arg(data, "--data"),
                                               username or "cli", sender=sender)
    click.echo(f"delivered to instance(s) {', '.join(map(str, ids))}")


@main.command()
@click.argument("name")
@click.option("--data", help="payload as a JSON object")
@click.option("--user", "username", required=True, help="who broadcasts it (a supervisor or admin)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def signal(ctx: click.Context, name: str, data: str | None, username: str, as_json: bool) -> None:
    """Broadcast signal NAME to every instance waiting for it; start the processes it starts."""
    services = _services(ctx)
    payload = _json_arg(data, "--data")
    with services.db.transaction() as session:
        outcome = services.runtime.signal(session, name, payload, actor_for(session, username))
    _emit({"signal": name, **outcome.to_dict()}, as_json, lambda r: (
        f"signal {name}: received by instance(s) {', '.join(map(str, r['received'])) or 'none'}; "
        f"started instance(s) {', '.join(map(str, r['started'])) or 'none'}"))


@main.group()
def instance() -> None:
    """Inspect one instance."""


@instance.command("show")
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def instance_show(ctx: click.Context, instance_id: int, as_json: bool) -> None:
    """Show an instance with its tasks, timers, incidents and audit trail."""
    with _services(ctx).db.transaction(write=False) as session:
        view = queries.instance_view(session, queries.get_instance(session, instance_id))
        view["events"] = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind,
                           "element_id": e.element_id, "data": e.data}
                          for e in audit.events_for(session, instance_id)]
    _emit(view, as_json, _human_instance)


def _human_instance(v: dict[str, Any]) -> str:
    lines = [f"instance {v['id']} {v['business_key'] or ''} {v['process_id']} — {v['status']}"]
    lines += [f"  task  {t['name']} ({t['role']}) {t['task_id']}" for t in v["tasks"]]
    lines += [f"  timer {t['name']} due {t['due_at']}" for t in v["timers"]]
    lines += [f"  incident {i['id']} {i['element_name']}: {i['message']}" for i in v["incidents"]]
    lines += [f"  {e['seq']:4} {e['at']} {e['actor']:10} {e['kind']:18} {e['element_id'] or ''}" for e in v["events"]]
    return "\n".join(lines)


@main.command()
@click.option("--status")
@click.option("--key", help="business key (ticket number)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def instances(ctx: click.Context, status: str | None, key: str | None, as_json: bool) -> None:
    """List instances, newest first."""
    with _services(ctx).db.transaction(write=False) as session:
        rows = [{"id": i.id, "business_key": i.business_key, "process_id": i.process_id, "status": i.status,
                 "started_at": i.started_at.isoformat(), "current": i.summary.get("current", [])}
                for i in queries.find_instances(session, status=status, business_key=key)]
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['id']:6} {r['business_key'] or '-':22} {r['process_id']:20} {r['status']:10} {', '.join(r['current'])}"
        for r in rs) or "no instances")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--reason", default="", help="why (recorded in the audit trail)")
@click.option("--user", default="cli", show_default=True)
@click.pass_context
@handled
def cancel(ctx: click.Context, instance_id: int, reason: str, user: str) -> None:
    """Cancel a running instance."""
    services = _services(ctx)
    with services.db.transaction() as session:
        services.runtime.cancel(session, instance_id, user, reason)
    click.echo(f"instance {instance_id} cancelled")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def incidents(ctx: click.Context, as_json: bool) -> None:
    """List unresolved incidents."""
    with _services(ctx).db.transaction(write=False) as session:
        rows = [queries.incident_view(i) for i in queries.list_incidents(session)]
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['id']:5} instance {r['instance_id']:<6} {r['element_name']:28} {r['status']:9} "
        f"x{r['attempts']} {r['message'][:80]}" for r in rs) or "no incidents")


@main.command()
@click.argument("incident_id", type=int)
@click.option("--user", default="cli", show_default=True)
@click.pass_context
@handled
def retry(ctx: click.Context, incident_id: int, user: str) -> None:
    """Retry the failed task of an incident and report the truth."""
    services = _services(ctx)
    with services.db.transaction() as session:
        incident = services.runtime.retry(session, incident_id, user)
        status, attempts, msg = incident.status, incident.attempts, incident.message
    click.echo(f"incident {incident_id}: {status} after {attempts} attempt(s)"
               + ("" if status == "resolved" else f" — {msg}"))
    if status != "resolved":
        sys.exit(5)


@main.command()
@click.option("--once", is_flag=True, help="one pass over due work, then exit")
@click.option("--as-of", "as_of", metavar="TIME",
              help="with --once: run everything due by TIME (ISO 8601; without an offset, in the business "
                   "time zone) on a clock set there; demo and test databases only")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def worker(ctx: click.Context, once: bool, as_of: str | None, as_json: bool) -> None:
    """Fire due timers, retry failed handlers and deliver notifications."""
    services = _services(ctx)
    if as_of is not None:
        _rehearse(services, once, as_of, as_json)
        return
    _rebuild_stale_rollups(services)  # a database upgraded with Alembic directly, not `aftersales db upgrade`
    w = Worker(services.db, services.runtime, services.settings.worker_batch_size)
    if once:
        stats = w.run_once()
        _emit(stats.to_dict(), as_json, lambda s: (
            f"timers fired: {s['timers_fired']}, retries: {s['retries']}, failures: {s['failures']}"
            + "".join(f", {k}: {v}" for k, v in s["jobs"].items())))
        return
    w.run_forever(services.settings.worker_poll_seconds,
                  on_ready=lambda: click.echo("worker running; Ctrl-C or SIGTERM to stop", err=True))


def _rehearse(services: Services, once: bool, text: str, as_json: bool) -> None:
    from engine.rehearsal import run_as_of
    from handlers.values import business_timezone

    if not once:
        raise InvalidInput("--as-of runs one round of due work: use it with --once", field="as_of")
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"--as-of {text!r} is not an ISO 8601 time such as 2026-12-09T10:00",
                           field="as_of") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=business_timezone())
    done = run_as_of(services.db, services.runtime, when, "cli")
    stats = done.stats.to_dict()
    _emit({"as_of": done.as_of.isoformat(), "passes": done.passes, **stats}, as_json, lambda s: (
        f"as of {s['as_of']}: timers fired: {s['timers_fired']}, retries: {s['retries']}, "
        f"failures: {s['failures']}" + "".join(f", {k}: {v}" for k, v in s["jobs"].items())))


@main.group("audit")
def audit_group() -> None:
    """Verify the audit trail."""


@audit_group.command("verify")
@click.option("--instance", "instance_id", type=int, help="only this instance")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def audit_verify(ctx: click.Context, instance_id: int | None, as_json: bool) -> None:
    """Recompute every hash chain; report the first broken link of each stream."""
    with _services(ctx).db.transaction(write=False) as session:
        report = audit.verify(session, instance_id)
    _emit(report.to_dict(), as_json, lambda r: (
        f"ok: {r['streams']} stream(s), {r['events']} event(s) verified" if r["ok"] else
        "BROKEN:\n" + "\n".join(f"  {b['stream']} at event {b['seq']}: {b['reason']}" for b in r["breaks"])))
    if not report.ok:
        sys.exit(6)


@main.command()
@click.argument("instance_ids", nargs=-1, type=int, required=True)
@click.option("--to", "to_deployment", type=int, required=True, help="deployment id to move to")
@click.option("--dry-run", is_flag=True, help="only report what would happen")
@click.option("--user", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def migrate(ctx: click.Context, instance_ids: tuple[int, ...], to_deployment: int, dry_run: bool, user: str,
            as_json: bool) -> None:
    """Move running instances to another deployment (try --dry-run first)."""
    from engine.instance_migration import migrate as migrate_instance

    services = _services(ctx)
    plans = []
    for instance_id in instance_ids:
        with services.db.transaction(write=not dry_run) as session:
            plans.append(migrate_instance(session, services.runtime, instance_id, to_deployment, user,
                                          dry_run).to_dict())
    _emit(plans, as_json, lambda ps: "\n".join(
        f"instance {p['instance_id']}: {'can move' if dry_run and p['ok'] else 'moved' if p['ok'] else 'cannot move'}"
        f" {p['from_deployment']} -> {p['to_deployment']}" + "".join(f"\n  {x}" for x in p["problems"])
        for p in ps))
    if any(not p["ok"] for p in plans):
        sys.exit(5)


@main.command("handlers")
@click.option("--json", "as_json", is_flag=True)
def list_handlers(as_json: bool) -> None:
    """List the registered service operators for process owners."""
    rows = [{"operator": h.name, "doc": h.doc, "parameters": [
        {"name": p.name, "required": p.required, "type": p.annotation} for p in h.parameters]}
        for h in all_handlers().values()]
    _emit(rows, as_json, lambda rs: "\n".join(
        f"{r['operator']}({', '.join(p['name'] + ('' if p['required'] else '?') for p in r['parameters'])})"
        f"\n    {r['doc']}" for r in rs))


from . import kpi, mail_intake, privacy, serve, simulate  # noqa: E402,F401  (register kpi, mail-intake, privacy, serve, demo, simulate)
from .apikeys import apikeys  # noqa: E402

main.add_command(apikeys)

