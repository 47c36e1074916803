"""The auditor's views: instances, the trace of one instance, verification and exports.

Read-only for the ``auditor`` role (supervisors, process owners and admins see them too).
The trace page is a shell: ``static/js/trace.js`` draws the instance's own BPMN with
bpmn-js and fetches the JSON endpoints below. Personal data stays masked until a user
with the right unmasks one instance, with a reason; that act is audited and lasts
``UNMASK_MINUTES``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import orjson
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

import readmodels
from engine import audit, audit_export, clock, cockpit, instance_trace
from engine.cockpit import InstanceFilter
from engine.errors import InvalidInput
from engine.models import DeploymentFile, Instance, ProcessDefinition
from engine.privacy import UNMASK_ROLES, may_unmask, record_unmasking
from readmodels.texts import reader_texts

from . import get_services
from .access import current_actor, roles_required
from .i18n import current_language, translate
from .rendering import csv_response, when

bp = Blueprint("audit", __name__, url_prefix="/audit")
READERS = frozenset({"auditor", "supervisor", "process_owner", "admin"})
CSV_LIMIT = 10_000


def _filter() -> InstanceFilter:
    args = request.args

    def day(name: str) -> date | None:
        raw = args.get(name, "").strip()
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise InvalidInput("{name} must be a date (YYYY-MM-DD)", field=name, params={"name": name}) from exc

    def number(name: str, default: int | None) -> int | None:
        raw = args.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or len(raw) > 9:
            raise InvalidInput("{name} must be a whole number", field=name, params={"name": name})
        return int(raw)

    status = args.get("status") or None
    if status and status not in cockpit.STATUSES:
        raise InvalidInput("status must be one of {statuses}",
                           field="status", params={"statuses": ", ".join(cockpit.STATUSES)})
    return InstanceFilter(process_id=args.get("process") or None, version=number("version", None),
                          status=status, stage=args.get("stage") or None, priority=args.get("priority") or None,
                          sla_breached=args.get("sla") == "breached", started_from=day("from"),
                          started_to=day("to"), ticket=(args.get("ticket") or "").strip()[:64] or None,
                          has_incident=args.get("incident") == "yes", page=number("page", 1) or 1)


def _unmasked(instance_id: int) -> bool:
    until = session.get("unmasked", {}).get(str(instance_id))
    return bool(until) and datetime.fromisoformat(until) > clock.now() and may_unmask(current_actor())


@bp.get("/instances")
@roles_required(READERS)
def instances():  # type: ignore[no-untyped-def]
    """List instances with filters."""
    flt = _filter()
    with get_services().db.transaction(write=False) as s:
        rows, total = cockpit.find_instances(s, flt, clock.now())
        choices = cockpit.filter_choices(s)
        name_rows(s, rows)
        stage_words = reader_names(s, None)
    return render_template("audit/instances.html", rows=rows, total=total, flt=flt, choices=choices,
                           stage_words=stage_words, args=request.args, pages=max(1, -(-total // flt.per_page)))


@bp.get("/instances.csv")
@roles_required(READERS)
def instances_csv():  # type: ignore[no-untyped-def]
    """Export the filtered instance list as CSV."""
    flt = _filter()
    with get_services().db.transaction(write=False) as s:
        rows, _ = cockpit.find_instances(s, flt, clock.now(), limit=CSV_LIMIT)
    out = io.StringIO()
    fields = ["id", "ticket", "process_id", "bundle", "version", "status", "stage", "priority", "channel",
              "current", "started_at", "started_by", "ended_at", "has_incident", "audit_events"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()})
    return csv_response(out.getvalue(), "instances.csv")


def reader_names(s: Session, deployment_id: int | None) -> dict[str, str]:
    """Return the reader's words for a deployment's process, stage, lane and element names
    (English → text; every deployment's with ``None``); nothing to change for an English reader."""
    language = current_language()
    if language == "en":
        return {}
    return reader_texts(s, language, get_services().settings.processes_dir / "data", deployment_id)


def process_names(s: Session, deployment_id: int) -> dict[str, str]:
    """Name each process and decision of a deployment in the reader's words (id → name; no name: None)."""
    words = reader_names(s, deployment_id)
    return {pid: (words.get(name) or translate(name)) if name else None for pid, name in s.execute(
        select(ProcessDefinition.process_id, ProcessDefinition.name)
        .where(ProcessDefinition.deployment_id == deployment_id))}


def name_rows(s: Session, rows: list[dict]) -> None:
    """Give each instance row its process name, stage and current tasks in the reader's words,
    from the bundle of the row's own deployment (``process_name``, ``stage_text``, ``current_text``)."""
    deployments = dict(s.execute(select(Instance.id, Instance.deployment_id)
                                 .where(Instance.id.in_([r["id"] for r in rows]))).all()) if rows else {}
    names = {(d, p): n for d, p, n in s.execute(
        select(ProcessDefinition.deployment_id, ProcessDefinition.process_id, ProcessDefinition.name)
        .where(ProcessDefinition.deployment_id.in_(set(deployments.values()))))} if deployments else {}
    words = {d: reader_names(s, d) for d in set(deployments.values())}

    def word(text: str, deployment_id: int | None) -> str:
        return words.get(deployment_id, {}).get(text) or translate(text)

    for row in rows:
        deployment_id = deployments.get(row["id"])
        name = names.get((deployment_id, row["process_id"]))
        row["process_name"] = word(name, deployment_id) if name else None
        row["stage_text"] = word(row["stage"], deployment_id) if row["stage"] else ""
        row["current_text"] = ", ".join(word(c, deployment_id) for c in row["current"].split(", ")) \
            if row["current"] else ""


_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def diagram_texts(s: Session, deployment_id: int) -> dict[str, str]:
    """Return the reader's words for the names in the deployment's diagrams (English name → text).

    The diagrams' JavaScript puts them on the drawn elements and lanes; the BPMN files
    themselves (and their download) stay as deployed.
    """
    texts = reader_names(s, deployment_id)
    if not texts:
        return {}
    names: set[str] = set()
    for content in s.scalars(select(DeploymentFile.content).where(DeploymentFile.deployment_id == deployment_id,
                                                                 DeploymentFile.path.endswith(".bpmn"))):
        try:
            names.update(str(n) for n in etree.fromstring(content, _XML).xpath("//@name"))
        except etree.XMLSyntaxError:
            continue  # the deploy lint refuses such a file; nothing to name
    return {name: texts[name] for name in sorted(names) if texts.get(name, name) != name}


@bp.get("/instances/<int:instance_id>")
@roles_required(READERS)
def trace_page(instance_id: int):  # type: ignore[no-untyped-def]
    """Show the trace page (diagram, element details, timeline)."""
    with get_services().db.transaction(write=False) as s:
        row = cockpit.instance_summary(s, instance_id)
        instance = s.get(Instance, instance_id)
        texts = diagram_texts(s, instance.deployment_id) if instance is not None else {}
    return render_template("audit/trace.html", row=row, diagram_texts=texts, unmasked=_unmasked(instance_id),
                           may_unmask=may_unmask(current_actor()),
                           until=session.get("unmasked", {}).get(str(instance_id)))


@bp.get("/instances/<int:instance_id>/trace.json")
@roles_required(READERS)
def trace_json(instance_id: int):  # type: ignore[no-untyped-def]
    """Return the markers, runs, timeline and data of an instance."""
    services = get_services()
    with services.db.transaction(write=False) as s:
        result = instance_trace.instance_trace(s, services.runtime.specs, instance_id, _unmasked(instance_id))
        texts = readmodels.bundle_texts(s, result["instance"]["deployment_id"], current_language())
    deployment_id = result["instance"]["deployment_id"]
    for ev in result["timeline"]:  # read in the business time zone and the reader's language
        ev["at_text"] = when(ev["at"], "%Y-%m-%d %H:%M:%S")
        if ev.get("name"):
            ev["name"] = texts.get(ev["name"], ev["name"])
    for token in result["tokens"]:
        token["name"] = texts.get(token["name"], token["name"])
    for scope in result["scopes"]:
        scope["diagram_url"] = url_for("owner.deployment_file", deployment_id=deployment_id, path=scope["file"])
    return Response(orjson.dumps(result), mimetype="application/json")  # a long trail's answer is big


@bp.get("/instances/<int:instance_id>/elements/<element_id>.json")
@roles_required(READERS)
def element_json(instance_id: int, element_id: str):  # type: ignore[no-untyped-def]
    """Return when an element ran, who did it and the data before and after."""
    tasks = [t for t in request.args.getlist("task") if t]
    with get_services().db.transaction(write=False) as s:
        return jsonify(instance_trace.element_detail(s, instance_id, element_id, _unmasked(instance_id),
                                                     tasks or None))


@bp.get("/instances/<int:instance_id>/data.json")
@roles_required(READERS)
def data_json(instance_id: int):  # type: ignore[no-untyped-def]
    """Return the instance data as of audit event ``seq``."""
    raw = request.args.get("seq", "")
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput("seq must be the number of an audit event", field="seq")
    with get_services().db.transaction(write=False) as s:
        step = instance_trace.data_at_step(s, instance_id, int(raw), _unmasked(instance_id))
    return jsonify({**step, "at_text": when(step["at"], "%Y-%m-%d %H:%M:%S")})


@bp.post("/instances/<int:instance_id>/unmask")
@roles_required(UNMASK_ROLES)  # before the instance is looked up: no answer tells others it exists
def unmask(instance_id: int):  # type: ignore[no-untyped-def]
    """Show one instance's personal data for a while, with a reason; the act is audited."""
    minutes = current_app.config.get("UNMASK_MINUTES", 15)
    with get_services().db.transaction() as s:
        cockpit.get_instance_or_404(s, instance_id)
        record_unmasking(s, current_actor(), f"instance {instance_id} for {minutes} minutes",
                         request.form.get("reason", ""), instance_id)
    windows = dict(session.get("unmasked", {}))
    windows[str(instance_id)] = (clock.now() + timedelta(minutes=minutes)).isoformat()
    session["unmasked"] = windows
    return redirect(url_for("audit.trace_page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/mask")
@roles_required(READERS)
def mask(instance_id: int):  # type: ignore[no-untyped-def]
    """Mask the instance's personal data again."""
    windows = dict(session.get("unmasked", {}))
    windows.pop(str(instance_id), None)
    session["unmasked"] = windows
    return redirect(url_for("audit.trace_page", instance_id=instance_id))


@bp.get("/verify")
@roles_required(READERS)
def verify():  # type: ignore[no-untyped-def]
    """Recompute every hash chain (one instance with ``?instance=ID``), as ``aftersales audit verify``."""
    raw = request.args.get("instance", "")
    instance_id = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    if raw and instance_id is None:
        raise InvalidInput("instance must be an instance number", field="instance")
    with get_services().db.transaction(write=False) as s:
        if instance_id is not None:
            cockpit.get_instance_or_404(s, instance_id)
        report = audit.verify(s, instance_id)
    status = 200 if report.ok else 409
    if request.accept_mimetypes.best == "application/json":
        return jsonify(report.to_dict()), status
    return render_template("audit/verify.html", report=report, instance_id=instance_id), status


@bp.get("/instances/<int:instance_id>/trail.<fmt>")
@roles_required(READERS)
def export(instance_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """Export the complete trail as JSON or CSV, verifiable with docs/audit-verification.md."""
    if fmt not in ("json", "csv"):
        raise InvalidInput("export as trail.json or trail.csv", field="format")
    reveal = _unmasked(instance_id)
    with get_services().db.transaction(write=reveal) as s:
        doc = audit_export.export_trail(s, instance_id, reveal, current_actor().username, clock.now())
        if reveal:
            record_unmasking(s, current_actor(), f"export of instance {instance_id} trail ({fmt})",
                             "export while personal data was shown", instance_id)
    name = f"instance-{instance_id}-trail.{fmt}"
    if fmt == "csv":
        return csv_response(audit_export.trail_csv(doc), name)
    return Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
