"""The process owner's run controls: what-if, migrating running tickets, pilots and roll back.

Every action is a JSON endpoint under ``/owner/api`` (the workbench contract,
``/work/notes/workbench_api.md``) that also takes an ordinary form post from the pages
(``/owner/migrate``, ``/owner/pilots``, ``/owner/whatif``), so they work without JavaScript:
a form post answers with the page again (or a redirect and a flash) instead of JSON.

What-if runs ``python -m simulation.whatif <job folder>`` in its own process (the web app
may not import the simulator): it simulates on throw-away SQLite files in the job folder,
never on the live database, and writes its progress where these views read it.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for

import readmodels
from analytics.versions import pilot_figures, product_line_models
from engine import clock, drafts, migration_batch, pilots
from engine.bundle import Bundle
from engine.deploy import validate
from engine.errors import AftersalesError, DeploymentInvalid, InvalidInput, NotFound
from handlers.values import local_date
from readmodels.element_names import element_names

from . import get_services
from .access import current_actor, roles_required
from .audit_views import diagram_texts, process_names, reader_names
from .i18n import translate as _
from .rendering import error_body, error_text

bp = Blueprint("owner_run", __name__, url_prefix="/owner")
OWNERS = frozenset({"process_owner", "admin"})
ROOT = Path(__file__).resolve().parent.parent
JOB_ID = re.compile(r"^[0-9a-f]{16}$")
WHATIF_LIMITS = {"tickets": (1, 2000), "seed": (0, 2**31 - 1), "days": (1, 90)}


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.errorhandler(AftersalesError)
def run_error(exc: AftersalesError):  # type: ignore[no-untyped-def]
    """Answer JSON clients with ``{error, code, message, field|element_id|file}``, the pages' forms with a page."""
    if _wants_json() or not request.accept_mimetypes.accept_html:
        return jsonify({"error": exc.code, **error_body(exc)}), exc.http_status  # the page shows localized_message
    return render_template("error.html", status=exc.http_status, message=error_text(exc)), exc.http_status


def _body() -> dict[str, Any]:
    """Return the request's JSON object, or its form as a dict (lists for the repeated fields)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object")
        return body
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    if "instance_ids" in request.form:
        form["instance_ids"] = [_int(v, "instance_ids") for v in request.form.getlist("instance_ids")]
    return form


def _int(value: Any, name: str, required: bool = True) -> Any:
    """Read a whole number from JSON or a form field, naming the field when it is not one."""
    if value is None or value == "":
        if required:
            raise InvalidInput("{name} is required", field=name, params={"name": name})
        return None
    if isinstance(value, bool):
        raise InvalidInput("{name} must be a whole number", field=name, params={"name": name})
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    raise InvalidInput("{name} must be a whole number", field=name, params={"name": name})


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput("{name} must be text", field=name, params={"name": name})
    return value.strip() or None


# --- migrate -----------------------------------------------------------------------------------
def _picked(args: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    filters = {"process_id": _text(args, "process_id"), "deployment_id": _int(args.get("deployment_id"),
                                                                              "deployment_id", False),
               "status": _text(args, "status"), "stage": _text(args, "stage"),
               "element_id": _text(args, "element_id"),
               "older_than_days": _int(args.get("older_than_days"), "older_than_days", False)}
    with get_services().db.transaction(write=False) as s:
        return filters, migration_batch.pick(s, **filters)


@bp.get("/api/instances")
@roles_required(OWNERS)
def instances_json():  # type: ignore[no-untyped-def]
    """Return the running instances matching the filters (process, version, status, stage, element, age)."""
    return jsonify(_picked(request.args)[1])


@bp.get("/migrate")
@roles_required(OWNERS)
def migrate_page():  # type: ignore[no-untyped-def]
    """Pick running tickets with filters, choose the target version, dry run, then migrate.

    With ``dry_run_to`` and ``instance_ids`` in the query it shows the dry run of those tickets, with
    ``migrated_to`` where they stand after a migration: the forms post, then come here
    (post/redirect/get), so a refresh only reads (a dry run changes nothing) and never posts again.
    """
    filters, items = _picked(request.args)
    name = next((n for n in ("dry_run_to", "migrated_to") if n in request.args), None)
    if name is None:
        return _migrate_page(filters, items)
    ids, target, errors = _form_batch(request.args, name)
    verdicts = _run_batch(ids, target, errors, dry_run=True)
    action = None if verdicts is None else "dry_run" if name == "dry_run_to" else "migrate"
    if action == "migrate":
        verdicts = [_where_now(v, target) for v in verdicts or []]
    return _migrate_page(filters, items, verdicts, action, target, errors=errors,
                         picked=ids if action != "migrate" else [], typed=request.args.get(name, ""))


def _where_now(verdict: dict[str, Any], target: int | None) -> dict[str, Any]:
    """Say a dry run's verdict after a migration: a ticket already on the target moved; the others say why not."""
    if verdict.get("from_deployment") == target:
        return {**verdict, "ok": True, "moved": True, "problems": [], "element_ids": []}
    return {**verdict, "ok": False}


def _form_batch(form: Any, target_name: str = "to_deployment_id") -> tuple[list[int], int | None, dict[str, str]]:
    """Read the ticked tickets and the target deployment of the page's form, with an error per bad field."""
    errors: dict[str, str] = {}
    raw_ids = form.getlist("instance_ids")
    ids = [int(v) for v in raw_ids if v.strip().isdigit() and len(v.strip()) <= 9]
    if not raw_ids:
        errors["instance_ids"] = _("Running tickets: tick at least one ticket.")
    elif len(ids) != len(raw_ids) or len(ids) > migration_batch.MAX_BATCH:
        errors["instance_ids"] = _("Running tickets: tick between 1 and {n} tickets of the list.",
                                   n=migration_batch.MAX_BATCH)
    typed = (form.get(target_name) or "").strip()
    target = int(typed) if typed.isdigit() and len(typed) <= 9 and int(typed) > 0 else None
    if not typed:
        errors["to_deployment_id"] = _("Move to deployment: choose the version to move the tickets to.")
    elif target is None:
        errors["to_deployment_id"] = _(
            "Move to deployment: “{value}” is not a deployment number; enter a whole number such as 3.",
            value=typed)
    return ids, target, errors


def _run_batch(ids: list[int], target: int | None, errors: dict[str, str], *,
               dry_run: bool) -> list[dict[str, Any]] | None:
    """Dry-run (or move) the picked tickets, or add the error of the field at fault (an unknown deployment)."""
    if errors or target is None:
        return None
    services = get_services()
    try:
        return migration_batch.migrate_batch(services.db, services.runtime, ids, target,
                                             current_actor().username, dry_run)
    except InvalidInput as exc:
        if exc.details.get("field") != "to_deployment_id":
            raise
        errors["to_deployment_id"] = _("Move to deployment: there is no deployment {value}.", value=target)
        return None


def _process_labels(s: Any, process_ids: Any) -> dict[str, str]:
    """Name each process in the reader's words, from the version new tickets of it start on (no name: its id)."""
    names: dict[int, dict[str, str | None]] = {}
    labels = {}
    for pid in process_ids:
        deployment_id = pilots.find_definition(s, pid).deployment_id
        if deployment_id not in names:
            names[deployment_id] = process_names(s, deployment_id)
        labels[pid] = names[deployment_id].get(pid) or pid
    return labels


def _said_elements(s: Any, deployment_id: int, element_ids: list[str],
                   words: dict[int, dict[str, str]]) -> list[tuple[str, str]]:
    """Return (id, name in the reader's words) of the named elements among ``element_ids`` of a deployment;
    an element the model leaves unnamed (the engine's own joins and starts) is left out."""
    names = element_names(s, deployment_id)
    said = []
    for element in element_ids:
        name = names.get(element)
        if name:
            said.append((element, words.get(deployment_id, {}).get(name) or _(name)))
    return list(dict.fromkeys(said))


def _migrate_page(filters: dict[str, Any], items: list[dict[str, Any]], verdicts: list[dict[str, Any]] | None = None,
                  action: str | None = None, target: int | None = None, *, errors: dict[str, str] | None = None,
                  picked: list[int] | None = None, typed: str = "") -> Any:
    with get_services().db.transaction(write=False) as s:
        processes = pilots.process_ids(s)
        labels = _process_labels(s, processes)
        targets = pilots.versions(s, filters["process_id"]) if filters.get("process_id") else []
        words = {d: reader_names(s, d) for d in {i["deployment_id"] for i in items}}
        for item in items:  # the tasks it waits at, in the words of the item's own version
            item["current_text"] = [words[item["deployment_id"]].get(n) or _(n) for n in item["current"]]
            item["waiting_text"] = _said_elements(s, item["deployment_id"], item["waiting_at"], words)
        for verdict in verdicts or []:  # the ticket's number, and where it waits in words (no engine internals)
            verdict["ticket"] = readmodels.business_key_of(s, verdict["instance_id"])
            deployment = verdict.get("from_deployment")
            verdict["active_text"] = _said_elements(s, deployment, verdict.get("active") or [],
                                                    {deployment: reader_names(s, deployment)}) if deployment else []
    return render_template("owner/migrate.html", filters=filters, items=items, processes=processes,
                           labels=labels, targets=targets, verdicts=verdicts, action=action, target=target,
                           errors=errors or {}, picked=set(picked or ()),
                           typed=typed or ("" if target is None else str(target))), 422 if errors else 200


def _migrate(dry_run: bool) -> Any:
    if not _wants_json():
        return _migrate_form(dry_run)
    body = _body()
    services = get_services()
    target = _int(body.get("to_deployment_id"), "to_deployment_id")
    verdicts = migration_batch.migrate_batch(services.db, services.runtime, body.get("instance_ids"), target,
                                             current_actor().username, dry_run)
    return jsonify(verdicts)


def _migrate_form(dry_run: bool) -> Any:
    """Answer the page's form: its errors on their fields with what was ticked and typed kept; a dry run or a
    migration redirects to the page that shows its verdicts (a refresh does not post again)."""
    filters, items = _picked(request.form)
    ids, target, errors = _form_batch(request.form)
    kept = {k: v for k, v in filters.items() if v is not None}
    if dry_run and not errors:
        return redirect(url_for("owner_run.migrate_page", **kept, dry_run_to=target, instance_ids=ids), 303)
    if _run_batch(ids, target, errors, dry_run=False) is None:
        return _migrate_page(filters, items, errors=errors, picked=ids, typed=request.form.get("to_deployment_id", ""))
    return redirect(url_for("owner_run.migrate_page", **kept, migrated_to=target, instance_ids=ids), 303)


@bp.post("/api/migrations/dry-run")
@roles_required(OWNERS)
def migration_dry_run():  # type: ignore[no-untyped-def]
    """Say for each chosen instance whether it can move to the target version (nothing changes)."""
    return _migrate(dry_run=True)


@bp.post("/api/migrations")
@roles_required(OWNERS)
def migrations():  # type: ignore[no-untyped-def]
    """Move each chosen instance that can move; a refused one stays untouched on its version."""
    return _migrate(dry_run=False)


# --- pilots and roll back ----------------------------------------------------------------------
def _pilot_rows(s: Any) -> list[dict[str, Any]]:
    rows = []
    for pilot in pilots.list_pilots(s):
        figures = pilot_figures(s, pilot.id, [pilot.base_deployment_id, pilot.deployment_id])
        rows.append({**pilot.to_dict(), "figures": {"current": figures[pilot.base_deployment_id],
                                                    "pilot": figures[pilot.deployment_id]}})
    return rows


@bp.get("/pilots")
@roles_required(OWNERS)
def pilots_page():  # type: ignore[no-untyped-def]
    """Show the versions of each process (current marked, roll back), pilots with their figures side by side."""
    with get_services().db.transaction(write=False) as s:
        processes = {p: pilots.versions(s, p) for p in pilots.process_ids(s)}
        labels = _process_labels(s, processes)
        rows = _pilot_rows(s)
    return render_template("owner/pilots.html", processes=processes, labels=labels, pilots=rows)


def _done(result: Any, message: str) -> Any:
    if _wants_json():
        return jsonify(result)
    flash(message, "ok")
    return redirect(url_for("owner_run.pilots_page"))


@bp.get("/api/pilots")
@roles_required(OWNERS)
def pilots_json():  # type: ignore[no-untyped-def]
    """Return every pilot, the newest first, with both sides' figures."""
    with get_services().db.transaction(write=False) as s:
        return jsonify(_pilot_rows(s))


@bp.post("/api/pilots")
@roles_required(OWNERS)
def start_pilot():  # type: ignore[no-untyped-def]
    """Start a pilot: ``{process_id, deployment_id, share?, channel?, region?, product_line?}``."""
    body = _body()
    process_id = _text(body, "process_id")
    if not process_id:
        raise InvalidInput("process_id is required", field="process_id")
    line = _text(body, "product_line")
    with get_services().db.transaction() as s:
        models = product_line_models(s, line) if line else None
        pilot = pilots.start_pilot(s, process_id, _int(body.get("deployment_id"), "deployment_id"),
                                   current_actor().username, _int(body.get("share", 100), "share"),
                                   _text(body, "channel"), _text(body, "region"), line, models)
        result = pilot.to_dict()
    return _done(result, _("Pilot {id} started.", id=result["id"]))


@bp.post("/api/pilots/<int:pilot_id>/<any(promote, stop):action>")
@roles_required(OWNERS)
def end_pilot(pilot_id: int, action: str):  # type: ignore[no-untyped-def]
    """Promote a pilot's version to everyone, or stop the pilot (new tickets start on the current version)."""
    with get_services().db.transaction() as s:
        result = pilots.end_pilot(s, pilot_id, current_actor().username, promote=action == "promote").to_dict()
    message = _("Pilot {id} promoted: its version is now current.", id=pilot_id) if action == "promote" else \
        _("Pilot {id} stopped.", id=pilot_id)
    return _done(result, message)


@bp.get("/api/pilots/<int:pilot_id>/figures")
@roles_required(OWNERS)
def pilot_figures_json(pilot_id: int):  # type: ignore[no-untyped-def]
    """Return the figures of the pilot's tickets on the current and on the pilot version."""
    with get_services().db.transaction(write=False) as s:
        pilot = pilots.get_pilot(s, pilot_id)
        figures = pilot_figures(s, pilot_id, [pilot.base_deployment_id, pilot.deployment_id])
        return jsonify({"pilot": pilot.to_dict(), "current": figures[pilot.base_deployment_id],
                        "pilot_version": figures[pilot.deployment_id]})


@bp.post("/api/processes/<process_id>/current")
@roles_required(OWNERS)
def make_current(process_id: str):  # type: ignore[no-untyped-def]
    """Make a version the one new tickets start on (roll back): ``{deployment_id}``."""
    body = _body()
    with get_services().db.transaction() as s:
        dep = pilots.set_current(s, process_id, _int(body.get("deployment_id"), "deployment_id"),
                                 current_actor().username)
        result = {"process_id": process_id, "deployment_id": dep.id, "version": dep.version}
    return _done(result, _("Version {version} is now the one new tickets of {process} start on.",
                           version=result["version"], process=process_id))


# --- what-if ------------------------------------------------------------------------------------
def _jobs_dir() -> Path:
    folder = Path(current_app.config.get("WHATIF_DIR") or Path(tempfile.gettempdir()) / "aftersales-whatif")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_bundle(folder: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _whatif_request(body: dict[str, Any]) -> dict[str, int]:
    asked = {}
    for name, default in (("tickets", 50), ("seed", 1), ("days", 14)):
        value = _int(body.get(name, default), name)
        low, high = WHATIF_LIMITS[name]
        if not low <= value <= high:
            raise InvalidInput("{name} is from {low} to {high}",
                               field=name, params={"name": name, "low": low, "high": high})
        asked[name] = value
    return asked


def start_whatif(tried: dict[str, bytes], against: int, body: dict[str, Any], label: str) -> str:
    """Check the tried bundle, write both sides into a new job folder and start the simulator on it."""
    asked = _whatif_request(body)
    result = validate(Bundle("tried", tried))
    if result.errors:
        raise DeploymentInvalid(result.problems)
    job_id = secrets.token_hex(8)
    folder = _jobs_dir() / job_id
    folder.mkdir()
    with get_services().db.transaction(write=False) as s:
        _write_bundle(folder / "deployed", drafts.deployment_files(s, against))
    _write_bundle(folder / "tried", tried)
    (folder / "request.json").write_text(json.dumps({
        **asked, "first_day": (local_date(clock.now()) - timedelta(days=asked["days"])).isoformat(), "label": label,
        "against": against, "arms": {"tried": "tried", "deployed": "deployed"}}), encoding="utf-8")
    with open(folder / "log.txt", "wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "simulation.whatif", str(folder)], cwd=ROOT, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    threading.Thread(target=child.wait, daemon=True).start()  # reap it when it ends
    return job_id


@bp.post("/api/whatif")
@roles_required(OWNERS)
def whatif_versions():  # type: ignore[no-untyped-def]
    """Simulate a deployed version against another: ``{deployment_id, against_deployment_id, tickets, seed, days}``."""
    body = _body()
    try:
        tried, against = _int(body.get("deployment_id"), "deployment_id"), _int(body.get("against_deployment_id"),
                                                                                 "against_deployment_id")
        if tried == against:
            raise InvalidInput("the version to compare with is deployment {deployment_id}, the version tried itself: "
                               "choose another", field="against_deployment_id", params={"deployment_id": tried})
        with get_services().db.transaction(write=False) as s:
            files = drafts.deployment_files(s, tried)
            drafts.deployment_files(s, against)
        job_id = start_whatif(files, against, body, f"deployment {tried}")
    except InvalidInput as exc:
        return _form_again(None, url_for("owner_run.whatif_versions"), body, exc)
    if _wants_json():
        return jsonify({"job_id": job_id}), 202
    return redirect(url_for("owner_run.whatif_page", deployment=tried, against=against, job=job_id))


def _job_status(job_id: str) -> dict[str, Any]:
    if not JOB_ID.match(job_id) or not (_jobs_dir() / job_id / "request.json").is_file():
        raise NotFound("what-if job '{job_id}' does not exist", job_id=job_id, params={"job_id": job_id})
    folder = _jobs_dir() / job_id
    path = folder / "status.json"
    status = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"state": "running", "progress": 0}
    return {**status, "job_id": job_id, "request": json.loads((folder / "request.json").read_text(encoding="utf-8"))}


@bp.get("/api/whatif/<job_id>")
@roles_required(OWNERS)
def whatif_status(job_id: str):  # type: ignore[no-untyped-def]
    """Return a what-if job's state, progress and, when done, both sides' figures and heatmaps."""
    return jsonify(_job_status(job_id))


@bp.post("/api/drafts/<int:draft_id>/whatif")
@roles_required(OWNERS)
def whatif_draft(draft_id: int):  # type: ignore[no-untyped-def]
    """Simulate a draft against a deployed version (its base unless ``against_deployment_id``); invalid: 422."""
    body = _body()
    with get_services().db.transaction(write=False) as s:
        draft = drafts.get_draft(s, draft_id)
    try:
        with get_services().db.transaction(write=False) as s:
            files = drafts.draft_files(s, draft_id)
            against = _int(body.get("against_deployment_id"), "against_deployment_id", False) or \
                draft["base_deployment_id"]
            if against is None:
                raise InvalidInput("the draft has no base version: choose the deployed version to compare with",
                                   field="against_deployment_id")
            drafts.deployment_files(s, against)
        job_id = start_whatif(files, against, body, f"draft {draft_id}")
    except InvalidInput as exc:
        return _form_again(draft, url_for("owner_run.whatif_draft", draft_id=draft_id), body, exc)
    if _wants_json():
        return jsonify({"job_id": job_id}), 202
    return redirect(url_for("owner_run.draft_whatif_page", draft_id=draft_id, against=against, job=job_id))


@bp.get("/whatif")
@roles_required(OWNERS)
def whatif_page():  # type: ignore[no-untyped-def]
    """Try a version (``?deployment=``) against another (``?against=``, the current one by default)."""
    if request.args.get("draft"):
        return redirect(url_for("owner_run.draft_whatif_page", draft_id=_int(request.args["draft"], "draft")))
    return _whatif_page(None, url_for("owner_run.whatif_versions"))


@bp.get("/drafts/<int:draft_id>/whatif")
@roles_required(OWNERS)
def draft_whatif_page(draft_id: int):  # type: ignore[no-untyped-def]
    """Try a draft against a deployed version (the draft's base by default)."""
    with get_services().db.transaction(write=False) as s:
        draft = drafts.get_draft(s, draft_id)
    return _whatif_page(draft, url_for("owner_run.whatif_draft", draft_id=draft_id))


def default_pair(choices: dict[str, list[dict[str, Any]]], tried: int | None,
                 against: int | None) -> tuple[int | None, int | None]:
    """Fill in what a what-if of deployed versions compares when the page is not told: versions of one
    process (the tried one's, else the one deployed last), the newest against the current one, or the
    current one against the one before it when it is the newest. Only one version: that one on both
    sides (the run refuses it, the page says so)."""
    if tried is not None and against is not None:
        return tried, against
    shown = tried or against
    if shown:
        process = next((p for p, vs in choices.items() if any(v["deployment_id"] == shown for v in vs)), None)
    else:  # the process deployed last; of a bundle's processes the first by id (after_sales before its RCA)
        process = max(choices, key=lambda p: max((v["deployment_id"] for v in choices[p]), default=0), default=None)
    versions = sorted(choices.get(process) or [], key=lambda v: v["deployment_id"], reverse=True)  # newest first
    current = next((v["deployment_id"] for v in versions if v["current"]), None)
    newest = versions[0]["deployment_id"] if versions else None
    if tried is None and against is None:
        tried, against = newest, current
    elif tried is None:
        tried = newest if newest != against else next((v["deployment_id"] for v in versions[1:]), against)
    else:
        against = current
    if tried == against and tried is not None:  # the current one is the newest: against the one before it
        against = next((v["deployment_id"] for v in versions if v["deployment_id"] != tried), against)
    return tried, against


def selected_groups(choices: dict[str, list[dict[str, Any]]], tried: int | None,
                    against: int | None) -> dict[str, str | None]:
    """Name the process under which each side's deployment is selected (a bundle's deployment is listed
    under each of its processes): the tried one's process for both where it has the deployment."""
    def holding(deployment_id: int | None, preferred: str | None) -> str | None:
        holders = [p for p, vs in choices.items() if any(v["deployment_id"] == deployment_id for v in vs)]
        return preferred if preferred in holders else next(iter(holders), None)

    tried_group = holding(tried, None)
    return {"tried": tried_group, "against": holding(against, tried_group)}


def _form_again(draft: dict[str, Any] | None, start_url: str, body: dict[str, Any], exc: InvalidInput) -> Any:
    """Answer a bad what-if request: JSON for the page's script; a form posted without it gets the page
    again, the error said on the form, what was chosen and typed kept, nothing started."""
    if _wants_json() or not request.accept_mimetypes.accept_html:
        raise exc
    return _whatif_page(draft, start_url, posted=body, error=error_text(exc)), exc.http_status


def _whatif_page(draft: dict[str, Any] | None, start_url: str, posted: dict[str, Any] | None = None,
                 error: str | None = None) -> Any:
    if posted is not None:  # the sides a bad form asked for, as far as they are numbers
        chosen = {k: str(posted.get(k, "")).strip() for k in ("deployment_id", "against_deployment_id")}
        tried, against = (int(v) if v.isdigit() and len(v) <= 9 else None for v in chosen.values())
        against = against or (draft or {}).get("base_deployment_id")
    else:
        tried = _int(request.args.get("deployment"), "deployment", False)
        against = _int(request.args.get("against"), "against", False) or (draft or {}).get("base_deployment_id")
    job = _job_status(request.args["job"]) if request.args.get("job") and posted is None else None
    with get_services().db.transaction(write=False) as s:
        choices = {p: pilots.versions(s, p) for p in pilots.process_ids(s)}
        if draft is None:
            tried, against = default_pair(choices, tried, against)
        groups = selected_groups(choices, tried, against)
        others = [d for d in drafts.list_drafts(s) if draft is None or d["id"] != draft["id"]]
        labels = _process_labels(s, choices)
        deployed = (job or {}).get("request", {}).get("against") or against
        texts = diagram_texts(s, deployed) if deployed else {}  # the heatmaps' names, as deployed
        words = {"tried": reader_names(s, tried),  # a draft's words: every deployment's
                 "deployed": reader_names(s, deployed) if deployed else {}}
    return render_template("owner/whatif.html", tried=tried, against=against, job=job, choices=choices,
                           labels=labels, draft=draft, start_url=start_url, diagram_texts=texts, drafts=others,
                           groups=groups, posted=posted or {}, error=error,
                           route_names=_route_names(job, words))


def _route_names(job: dict[str, Any] | None, words: dict[str, dict[str, str]]) -> dict[str, str]:
    """Name each route of a finished what-if (``process/end event id``) by its end event, in the
    reader's words (the deployed side's name where both sides have one)."""
    result = (job or {}).get("result") or {}
    names: dict[str, str] = {}
    for side in ("tried", "deployed"):
        for process_id, heatmap in (result.get(side) or {}).get("heatmaps", {}).items():
            for element in heatmap.get("elements", []):
                if element.get("name"):
                    name = element["name"]
                    names[f"{process_id}/{element['element_id']}"] = words[side].get(name) or _(name)
    return names


@bp.get("/api/whatif/<job_id>/files/<side>/<path:path>")
@roles_required(OWNERS)
def whatif_file(job_id: str, side: str, path: str):  # type: ignore[no-untyped-def]
    """Return a diagram of one side (``tried`` or ``deployed``) of a what-if, for its heatmap."""
    _job_status(job_id)
    if side not in ("tried", "deployed"):
        raise NotFound("a what-if has no side '{side}': tried or deployed", field="side", params={"side": side})
    folder = (_jobs_dir() / job_id / side).resolve()
    target = (folder / path).resolve()
    if folder not in target.parents or not target.is_file() or target.suffix not in (".bpmn", ".dmn"):
        raise NotFound("the what-if has no diagram '{path}'", file=path, params={"path": path})
    return current_app.response_class(target.read_bytes(), mimetype="application/xml")
