"""The process owner's workbench: drafts of bundles and their JSON API (``/owner/api``).

Pages: the workbench (drafts, deployed versions, "new draft from this version", a zip as a
new draft) and the editor's route (its template and scripts are the editor's own). The JSON
API lists, creates and reads drafts, saves and deletes their files one at a time (the
editor autosaves), validates them as ``aftersales validate`` does, compares them with a
deployed version, zips and unzips them, deploys them with a note, and serves the editor's
pick lists, operators and form previews. Every error is JSON ``{"error", "message", …}``
naming the field, file or element at fault; nothing is changed by a refused request.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, render_template_string, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine import cockpit, draft_review, drafts, forms
from engine.errors import AftersalesError, DeploymentInvalid, FormValidationError, InvalidInput

from . import formgen, get_services
from .access import current_actor, roles_required
from .audit_views import process_names
from .findings import said
from .i18n import translate, use_bundle_texts
from .owner_views import OWNERS
from .rendering import error_body

bp = Blueprint("workbench", __name__, url_prefix="/owner")
api = Blueprint("workbench_api", __name__, url_prefix="/owner/api")
PREVIEW = ('{% from "macros/form.html" import field with context %}'
           '<div class="form-preview">{% for f in fields %}{{ field(f) }}{% endfor %}</div>')


# --- pages -------------------------------------------------------------------------------

@bp.get("/workbench")
@roles_required(OWNERS)
def workbench():  # type: ignore[no-untyped-def]
    """List the drafts and the deployed versions of every bundle."""
    with get_services().db.transaction(write=False) as s:
        items, bundles = drafts.list_drafts(s), drafts.bundle_versions(s)
        for bundle in bundles:
            for version in bundle["versions"]:
                names = process_names(s, version["id"])
                version["named"] = [(pid, names.get(pid)) for pid in version["processes"]]
    return render_template("owner/workbench.html", drafts=items, bundles=bundles)


@bp.post("/workbench/drafts")
@roles_required(OWNERS)
def new_draft():  # type: ignore[no-untyped-def]
    """Start a draft from a form (a version, or an uploaded zip as a new bundle) and open it."""
    raw = request.form.get("from_deployment_id") or None
    if raw is not None and not (raw.isdigit() and len(raw) <= 9):
        raise InvalidInput("choose a deployed version", field="from_deployment_id")
    uploads = _uploads()
    with get_services().db.transaction() as s:
        draft = drafts.create_draft(s, request.form.get("name", ""), current_actor().username,
                                    int(raw) if raw else None, request.form.get("bundle") or None)
        if uploads:
            drafts.upload(s, draft["id"], uploads, current_actor().username)
    return redirect(url_for("workbench.edit", draft_id=draft["id"]), 303)


@bp.get("/drafts/<int:draft_id>/edit")
@roles_required(OWNERS)
def edit(draft_id: int):  # type: ignore[no-untyped-def]
    """Open a draft in the editor."""
    with get_services().db.transaction(write=False) as s:
        draft = drafts.get_draft(s, draft_id)
        versions = next((b["versions"] for b in drafts.bundle_versions(s) if b["name"] == draft["bundle"]), [])
    deployments = [{"id": v["id"], "name": draft["bundle"], "version": v["version"], "current": v["current"]}
                   for v in versions]
    urls = _urls(draft_id)
    return render_template("owner/editor.html", draft=draft, urls=urls, config={
        "draft": draft, "urls": urls, "deployments": deployments, "user": current_actor().username})


@bp.get("/deployments/<int:deployment_id>/download")
@roles_required(OWNERS)
def download_deployment(deployment_id: int):  # type: ignore[no-untyped-def]
    """Return a deployed version as a zip."""
    with get_services().db.transaction(write=False) as s:
        files = drafts.deployment_files(s, deployment_id)
        dep = cockpit.get_deployment(s, deployment_id)
        name = f"{dep.name}-v{dep.version}"
    return _zip(files, name)


def _urls(draft_id: int) -> dict[str, str]:
    """Return the API URLs the editor calls for one draft (``{path}`` where a file path goes)."""
    file_url = url_for("workbench_api.file", draft_id=draft_id, path="__PATH__").replace("__PATH__", "{path}")
    return {
        "draft": url_for("workbench_api.draft", draft_id=draft_id),
        "file": file_url,
        "validate": url_for("workbench_api.validate", draft_id=draft_id),
        "compare": url_for("workbench_api.compare", draft_id=draft_id),
        "download": url_for("workbench_api.download", draft_id=draft_id),
        "upload": url_for("workbench_api.upload", draft_id=draft_id),
        "deploy": url_for("workbench_api.deploy", draft_id=draft_id),
        "operators": url_for("workbench_api.operators"),
        "bundle_index": url_for("workbench_api.bundle_index", draft=draft_id),
        "forms_preview": url_for("workbench_api.forms_preview"),
        "forms_try": url_for("workbench_api.forms_try"),
        "translations": url_for("workbench_api.translations", draft_id=draft_id, lang="__LANG__")
        .replace("__LANG__", "{lang}"),
        "deployed_file": url_for("owner.deployment_file", deployment_id=0, path="__PATH__")
        .replace("/0/", "/{deployment_id}/").replace("__PATH__", "{path}"),
        "workbench": url_for("workbench.workbench"),
    }


# --- JSON API ----------------------------------------------------------------------------

@api.before_request
def signed_in_owner():  # type: ignore[no-untyped-def]
    """Answer 401/403 as JSON (not a redirect to the sign-in page)."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return _error("unauthorized", translate("Sign in to use the workbench."), 401)
    if not current_actor().roles & OWNERS:
        return _error("forbidden", translate("Only process owners and admins use the workbench."), 403)
    return None


@api.get("/drafts")
def draft_list():  # type: ignore[no-untyped-def]
    """List the drafts."""
    with get_services().db.transaction(write=False) as s:
        return jsonify(drafts.list_drafts(s))


@api.post("/drafts")
def draft_create():  # type: ignore[no-untyped-def]
    """Create a draft: ``{name, from_deployment_id?, bundle?}``."""
    body = _body()
    base = body.get("from_deployment_id")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise InvalidInput("from_deployment_id is the id of a deployed version", field="from_deployment_id")
    bundle = body.get("bundle")
    if bundle is not None and not isinstance(bundle, str):
        raise InvalidInput("bundle is a text", field="bundle")
    with get_services().db.transaction() as s:
        draft = drafts.create_draft(s, body.get("name", ""), current_actor().username, base, bundle)
    return jsonify(draft), 201


@api.get("/drafts/<int:draft_id>")
def draft(draft_id: int):  # type: ignore[no-untyped-def]
    """Return a draft with its files and the notes of its deployments."""
    with get_services().db.transaction(write=False) as s:
        return jsonify({**drafts.get_draft(s, draft_id), "deployments": drafts.deploy_notes(s, draft_id)})


@api.route("/drafts/<int:draft_id>/files/<path:path>", methods=["GET", "PUT", "DELETE"])
def file(draft_id: int, path: str):  # type: ignore[no-untyped-def]
    """Read (raw text), save (the raw body is the whole file) or delete one file of a draft."""
    actor = current_actor().username
    if request.method == "GET":
        with get_services().db.transaction(write=False) as s:
            content = drafts.read_file(s, draft_id, path)
        return Response(content, mimetype="text/plain", headers={"X-File-Kind": drafts.kind_of(path)})
    with get_services().db.transaction() as s:
        if request.method == "DELETE":
            drafts.delete_file(s, draft_id, path, actor)
            return jsonify(deleted=True)
        return jsonify(drafts.save_file(s, draft_id, path, request.get_data(cache=False), actor))


@api.post("/drafts/<int:draft_id>/validate")
def validate(draft_id: int):  # type: ignore[no-untyped-def]
    """Validate and lint a draft as ``aftersales validate`` does."""
    with get_services().db.transaction(write=False) as s:
        return jsonify(drafts.validate_draft(s, draft_id, say=said))


@api.get("/drafts/<int:draft_id>/compare")
def compare(draft_id: int):  # type: ignore[no-untyped-def]
    """Compare a draft with a deployed version (``?with=<id>``, else the version it started from)."""
    raw = request.args.get("with", "")
    if raw and not (raw.isdigit() and len(raw) <= 9):
        raise InvalidInput("with is the id of a deployed version", field="with")
    with get_services().db.transaction(write=False) as s:
        draft = drafts.get_draft(s, draft_id)
        other = int(raw) if raw else draft["base_deployment_id"]
        if other is None:
            raise InvalidInput("this draft started as a new bundle: say which version to compare with", field="with")
        result = draft_review.compare(drafts.draft_files(s, draft_id), drafts.deployment_files(s, other))
    return jsonify({"with": other, **result})


@api.get("/drafts/<int:draft_id>/download")
def download(draft_id: int):  # type: ignore[no-untyped-def]
    """Return a draft as a zip."""
    with get_services().db.transaction(write=False) as s:
        draft = drafts.get_draft(s, draft_id)
        files = drafts.draft_files(s, draft_id)
    return _zip(files, f"{draft['bundle']}-draft-{draft_id}")


@api.post("/drafts/<int:draft_id>/upload")
def upload(draft_id: int):  # type: ignore[no-untyped-def]
    """Put uploaded files (``files``: one zip or several files) into a draft."""
    uploads = _uploads()
    with get_services().db.transaction() as s:
        return jsonify(drafts.upload(s, draft_id, uploads, current_actor().username))


@api.post("/drafts/<int:draft_id>/deploy")
def deploy(draft_id: int):  # type: ignore[no-untyped-def]
    """Deploy a draft with a note (``{note}``); an invalid draft is refused with its problems."""
    note = _body().get("note", "")
    try:
        with get_services().db.transaction() as s:
            return jsonify(drafts.deploy_draft(s, draft_id, note, current_actor().username))
    except DeploymentInvalid as exc:  # rolled back; the problems located as validate locates them
        with get_services().db.transaction(write=False) as s:
            bundle = drafts.draft_bundle(s, draft_id)
        body = {**exc.to_dict(), "error": exc.code,
                "problems": drafts.located(bundle, exc.problems, said)}
        return jsonify(body), exc.http_status


@api.get("/operators")
def operators():  # type: ignore[no-untyped-def]
    """List the service-task operators: the registered handlers with their typed parameters and docs."""
    return jsonify(draft_review.operators())


@api.get("/bundle-index")
def bundle_index():  # type: ignore[no-untyped-def]
    """List what a draft's bundle defines, for pick lists (``?draft=<id>``)."""
    raw = request.args.get("draft", "")
    if not (raw.isdigit() and len(raw) <= 9):
        raise InvalidInput("draft is the id of a draft", field="draft")
    with get_services().db.transaction(write=False) as s:
        return jsonify(draft_review.bundle_index(drafts.draft_files(s, int(raw))))


@api.post("/forms/preview")
def forms_preview():  # type: ignore[no-untyped-def]
    """Render a form as staff see it: ``{schema, uischema?, data?, lang?, draft?}`` → ``{html}``."""
    body = _body()
    schema, ui, data = _form_parts(body)
    lang, draft_id = body.get("lang"), body.get("draft")
    if lang is not None and lang not in ("en", "zh"):
        raise InvalidInput("lang is en or zh", field="lang")
    if lang and lang != "en" and isinstance(draft_id, int) and not isinstance(draft_id, bool):
        with get_services().db.transaction(write=False) as s:
            files = drafts.draft_files(s, draft_id)
        texts = json.loads(files.get(f"translations.{lang}.json", b"{}") or b"{}")
        if isinstance(texts, dict):
            use_bundle_texts({str(k): str(v) for k, v in texts.items() if isinstance(v, str)})
    html = render_template_string(PREVIEW, fields=formgen.build(schema, ui, data))
    return jsonify(html=html)


@api.post("/forms/try")
def forms_try():  # type: ignore[no-untyped-def]
    """Check data against a form with the server's validator: ``{schema, uischema?, data}``."""
    schema, _ui, data = _form_parts(_body())
    try:
        forms.validate(schema, data, "the form")
    except FormValidationError as exc:
        return jsonify(ok=False, errors=[e.to_dict() for e in exc.errors], data=data)
    return jsonify(ok=True, errors=[], data=data)


@api.get("/drafts/<int:draft_id>/translations/<lang>")
def translations(draft_id: int, lang: str):  # type: ignore[no-untyped-def]
    """List the texts of a draft a person reads, with their translation into ``lang`` and how many lack one."""
    with get_services().db.transaction(write=False) as s:
        bundle = drafts.draft_bundle(s, draft_id)
    return jsonify(draft_review.translations(bundle, lang))


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object (Content-Type: application/json)", field="body")
    return body


def _form_parts(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    schema, ui, data = body.get("schema"), body.get("uischema"), body.get("data")
    ui, data = {} if ui is None else ui, {} if data is None else data
    problems = forms.schema_problems(schema)
    if problems:
        raise InvalidInput("schema: {problems}", field="schema", params={"problems": problems[0]})
    if not isinstance(ui, dict):
        raise InvalidInput("uischema is a JSON object", field="uischema")
    if not isinstance(data, dict):
        raise InvalidInput("data is a JSON object", field="data")
    return schema, ui, data  # type: ignore[return-value]


def _uploads() -> list[tuple[str, bytes]]:
    return [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]


def _zip(files: dict[str, bytes], name: str) -> Response:
    return Response(drafts.zip_files(files), mimetype="application/zip",
                    headers={"Content-Disposition": f"attachment; filename={name}.zip"})


def _error(code: str, message: str, status: int, **details: Any) -> tuple[Response, int]:
    return jsonify({"error": code, "code": code, "message": message,
                    **{k: v for k, v in details.items() if v is not None}}), status


@api.errorhandler(AftersalesError)
def api_error(exc: AftersalesError):  # type: ignore[no-untyped-def]
    """Answer the project's errors as JSON naming the field, file or element."""
    body = error_body(exc)  # with localized_message, in the owner's language (a finding inside it too)
    body["error"] = body["code"]
    if isinstance(exc, DeploymentInvalid):
        body["problems"] = [p.to_dict() for p in exc.problems]
    return jsonify(body), exc.http_status


@api.errorhandler(CSRFError)
def api_csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
    """Answer a missing or wrong CSRF token as JSON."""
    return _error("csrf_failed", translate("The CSRF token is missing or wrong; reload the page."), 400)


@api.errorhandler(RequestEntityTooLarge)
def api_too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """Answer an upload over the request limit with the limit."""
    from flask import current_app

    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 2**20
    return _error("too_large", translate("The upload is larger than {limit} MiB; nothing was changed.",
                                         limit=limit), 413, field="files")


@api.errorhandler(HTTPException)
def api_http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    """Answer other HTTP errors (404, 405) as JSON."""
    return _error((exc.name or "error").lower().replace(" ", "_"), exc.description or "", exc.code or 500)
