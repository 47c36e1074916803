"""The process owner's views: definitions and their files, deploy from the browser,
heatmaps per version, incidents with retry, messages nobody was waiting for.

Deploying runs the same validation and lint as ``aftersales deploy``; every problem is
listed with file, element and line (and, with ``static/js/deploy.js``, highlighted on
the diagrams of the uploaded files). Nothing is deployed unless all of them pass.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from engine import cockpit, delivery, rollup_elements
from engine.deploy import deploy, validate
from engine.errors import DeploymentInvalid, InvalidInput, NotFound
from engine.privacy import mask_personal

from . import findings, get_services
from .access import current_actor, roles_required
from .api.uploads import bundle_from_upload
from .audit_views import diagram_texts, process_names, reader_names
from .i18n import translate
from .rendering import error_body, error_text

bp = Blueprint("owner", __name__, url_prefix="/owner")
OWNERS = frozenset({"process_owner", "admin"})
VIEWERS = frozenset({"process_owner", "admin", "auditor", "supervisor"})
MIME = {"bpmn": "application/xml", "dmn": "application/xml", "json": "application/json"}
UNDELIVERED_PAGE = 100


@bp.get("/definitions")
@roles_required(OWNERS)
def definitions():  # type: ignore[no-untyped-def]
    """List every process and decision with its versions."""
    with get_services().db.transaction(write=False) as s:
        items = cockpit.definitions(s)
        for item in items:  # the name in the words of the newest version's bundle
            words = reader_names(s, item["versions"][0]["deployment_id"]) if item["name"] else {}
            item["name_text"] = words.get(item["name"]) or translate(item["name"]) if item["name"] else None
    return render_template("owner/definitions.html", items=items)


@bp.get("/deployments/<int:deployment_id>")
@roles_required(OWNERS)
def deployment(deployment_id: int):  # type: ignore[no-untyped-def]
    """List the files of a deployment."""
    with get_services().db.transaction(write=False) as s:
        dep = cockpit.get_deployment(s, deployment_id)
        files = cockpit.deployment_files(s, deployment_id)
        names = process_names(s, deployment_id)
        processes = [(p.process_id, p.kind, p.file, names.get(p.process_id)) for p in dep.processes]
    return render_template("owner/deployment.html", dep=dep, files=files, processes=processes)


@bp.get("/deployments/<int:deployment_id>/files/<path:path>")
@roles_required(VIEWERS)
def deployment_file(deployment_id: int, path: str):  # type: ignore[no-untyped-def]
    """Return a deployed file byte for byte (``?download=1`` as an attachment)."""
    with get_services().db.transaction(write=False) as s:
        kind, content = cockpit.deployment_file(s, deployment_id, path)
    headers = {}
    if request.args.get("download"):
        headers["Content-Disposition"] = f"attachment; filename={path.rsplit('/', 1)[-1]}"
    return Response(content, mimetype=MIME.get(kind, "application/octet-stream"), headers=headers)


@bp.get("/heatmap/<int:deployment_id>/<process_id>")
@roles_required(OWNERS)
def heatmap(deployment_id: int, process_id: str):  # type: ignore[no-untyped-def]
    """Show a process version's diagram with executions and waiting/working times per element."""
    with get_services().db.transaction(write=False) as s:
        dep = cockpit.get_deployment(s, deployment_id)
        data = rollup_elements.heatmap(s, deployment_id, process_id)
        file = next((p.file for p in dep.processes if p.process_id == process_id and p.kind == "process"), None)
        if file is None:
            raise NotFound("deployment {deployment_id} has no process '{process_id}'",
                           params={"deployment_id": deployment_id, "process_id": process_id})
        diagram = cockpit.deployment_file(s, deployment_id, file)[1].decode("utf-8")
        texts = diagram_texts(s, deployment_id)
    return render_template("owner/heatmap.html", dep=dep, data=data, process_id=process_id, file=file,
                           diagram=diagram, diagram_texts=texts)


@bp.get("/heatmap/<int:deployment_id>/<process_id>.json")
@roles_required(OWNERS)
def heatmap_json(deployment_id: int, process_id: str):  # type: ignore[no-untyped-def]
    """Return the heatmap figures of a process version."""
    with get_services().db.transaction(write=False) as s:
        return jsonify(rollup_elements.heatmap(s, deployment_id, process_id))


@bp.route("/deploy", methods=["GET", "POST"])
@roles_required(OWNERS)
def deploy_page():  # type: ignore[no-untyped-def]
    """Upload files (or a zip), validate them, and deploy only when every check passes."""
    if request.method == "GET":
        return render_template("owner/deploy.html", problems=None, result=None, name="processes")
    name = request.form.get("name", "").strip()
    action = request.form.get("action", "deploy")
    try:
        bundle = bundle_from_upload(name, request.files.getlist("files"))
        with get_services().db.transaction() as s:
            if action == "validate":
                checked = validate(bundle, s)
                if checked.errors:
                    raise DeploymentInvalid(checked.problems)
                result = {"validated": True, "warnings": [p.to_dict() for p in checked.problems],
                          "processes": [p["process_id"] for p in checked.processes]}
                warnings = checked.problems
            else:
                deployed = deploy(s, bundle, current_actor().username)
                result, warnings = deployed.to_dict(), deployed.warnings
    except DeploymentInvalid as exc:
        problems = findings.shown(exc.problems)
        if request.accept_mimetypes.best == "application/json":  # the page's script shows localized_message
            return jsonify({**exc.to_dict(), "problems": problems}), 422
        return render_template("owner/deploy.html", problems=problems, result=None, name=name), 422
    except InvalidInput as exc:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error_body(exc)), exc.http_status
        return render_template("owner/deploy.html", problems=None, result=None, name=name,
                               error=error_text(exc)), exc.http_status
    if request.accept_mimetypes.best == "application/json":
        return jsonify(result)
    result["warnings"] = findings.shown(warnings)
    return render_template("owner/deploy.html", problems=None, result=result, name=name)


@bp.get("/incidents")
@roles_required(OWNERS | {"supervisor"})
def incidents():  # type: ignore[no-untyped-def]
    """List incidents (open and retrying; ``?status=all`` for every one)."""
    status = request.args.get("status") or None
    if status not in (None, "all", "open", "retrying", "resolved"):
        raise InvalidInput("status is open, retrying, resolved or all", field="status")
    with get_services().db.transaction(write=False) as s:
        items = cockpit.incidents(s, status)
    return render_template("owner/incidents.html", items=items, outcomes=None, status=status)


@bp.post("/incidents/retry")
@roles_required(OWNERS | {"supervisor"})
def retry():  # type: ignore[no-untyped-def]
    """Retry the chosen incidents, each in its own transaction; show what each retry really did."""
    raw = request.form.getlist("incident")
    if not raw or not all(r.isdigit() and len(r) <= 9 for r in raw):
        raise InvalidInput("choose at least one incident to retry", field="incident")
    services = get_services()
    outcomes = cockpit.retry_incidents(services.db, services.runtime, [int(r) for r in raw],
                                       current_actor().username)
    with services.db.transaction(write=False) as s:
        items = cockpit.incidents(s, None)
    return render_template("owner/incidents.html", items=items, outcomes=outcomes, status=None)



@bp.get("/undelivered-messages")
@roles_required(OWNERS | {"supervisor"})
def undelivered_messages():  # type: ignore[no-untyped-def]
    """List the messages instances threw that nobody was waiting for, newest first (payloads masked)."""
    raw = request.args.get("offset", "0")
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput("offset is a whole number", field="offset")
    offset = int(raw)
    with get_services().db.transaction(write=False) as s:
        items, total = delivery.undelivered(s, UNDELIVERED_PAGE, offset)
    items = [{**i, "payload": mask_personal(i["payload"])} for i in items]
    return render_template("owner/undelivered.html", items=items, total=total, offset=offset,
                           page=UNDELIVERED_PAGE, timezone=current_app.config["DISPLAY_TIMEZONE"])


@bp.app_template_filter("seconds_text")
def seconds_text(seconds: float | None) -> str:
    """Show a duration in seconds as s / min / h."""
    if seconds is None:
        return "–"
    if seconds < 90:
        return translate("{n} s", n=f"{seconds:.0f}")
    if seconds < 5400:
        return translate("{n} min", n=f"{seconds / 60:.0f}")
    return translate("{n} h", n=f"{seconds / 3600:.1f}")
