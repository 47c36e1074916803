"""The tasklist: tabs, filters, sort, pages; claim, unclaim and reassign."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

import readmodels
from engine import clock
from engine.errors import InvalidInput
from engine.models import WorkItem
from readmodels.texts import reader_texts

from . import get_services, task_page
from .access import current_actor, safe_next
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import error_text

bp = Blueprint("tasks", __name__)

TABS = ("mine", "group", "all")
FILTERS = ("name", "priority", "stage", "channel", "customer_tier", "ticket", "sla")
SORTS = (
    "business_key",
    "name",
    "customer_tier",
    "priority",
    "due_at",
    "stage",
    "channel",
    "created_at",
)


#: where each role starts its day, the first role in this order that the user holds deciding; each
#: role's pages in order of preference (a page this app does not have is skipped), then the tasklist
LANDING: tuple[tuple[str, tuple[tuple[str, dict[str, str]], ...]], ...] = (
    ("supervisor", (("tasks.tasklist", {"tab": "all"}),)),  # every open task: the team's queue
    ("agent", (("tasks.tasklist", {}),)),
    ("technician", (("technician.my_day", {}),)),
    ("warehouse", (("warehouse.index", {}),)),
    ("qa", (("qa.sample", {}), ("tasks.tasklist", {"tab": "group"}))),  # the QA reviews of the sample
    ("process_owner", (("workbench.workbench", {}),)),
    ("auditor", (("audit.instances", {}),)),
    ("admin", (("admin.users", {}),)),
)


def landing_url(roles: frozenset[str]) -> str:
    """Return the page a user with ``roles`` works from (:data:`LANDING`), else the tasklist."""
    endpoints = current_app.view_functions
    for role, places in LANDING:
        if role in roles:
            for endpoint, args in places:
                if endpoint in endpoints:
                    return url_for(endpoint, **args)
    return url_for("tasks.tasklist")


def index():  # type: ignore[no-untyped-def]
    """Send staff to the page their role works from and everybody else to sign in."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_actor().roles))
    return redirect(url_for("auth.login"))


def read_worklist() -> readmodels.Worklist:
    """Parse the tasklist's query string."""
    args = request.args
    actor = current_actor()
    scope = args.get("tab") or ("mine" if not actor.is_supervisor else "all")
    if scope not in TABS:
        raise InvalidInput("unknown tab '{scope}'", field="tab", params={"scope": scope})
    sort = args.get("sort", "due_at")
    if sort not in SORTS:
        raise InvalidInput("cannot sort by '{sort}'", field="sort", params={"sort": sort})
    try:
        page = max(1, int(args.get("page", "1")))
    except ValueError as exc:
        raise InvalidInput("page must be a number", field="page") from exc
    values = {key: (args.get(key) or "").strip()[:100] or None for key in FILTERS}
    return readmodels.Worklist(
        scope=scope,
        sort=sort,
        descending=args.get("dir") == "desc",
        page=page,
        per_page=current_app.config["TASKS_PER_PAGE"],
        **values,
    )


@bp.get("/tasks")
@login_required
def tasklist():  # type: ignore[no-untyped-def]
    """Show one tab of the tasklist."""
    wl = read_worklist()
    with get_services().db.transaction(write=False) as s:
        page = readmodels.tasklist_page(
            s, current_actor(), wl, clock.now(), current_app.config["SLA_SOON_SECONDS"]
        )
        _use_texts(s)
    pages = max(1, -(-page.total // wl.per_page))
    return render_template("tasks/list.html", wl=wl, page=page, pages=pages, tabs=TABS, sorts=SORTS)


def _use_texts(session: Session) -> None:
    """Let the page and its messages say task and stage names in the reader's language."""
    use_bundle_texts(reader_texts(session, current_language(), get_services().settings.processes_dir / "data"))


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("tasks.tasklist"))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):  # type: ignore[no-untyped-def]
    """Take a task from the group's queue."""
    return _assign(task_id, get_services().runtime.claim, "You took “{name}”.")


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):  # type: ignore[no-untyped-def]
    """Give a task back to its group."""
    return _assign(task_id, get_services().runtime.unclaim, "“{name}” is back in the group's queue.")


def _assign(task_id: str, action: Callable[..., WorkItem], message: str):  # type: ignore[no-untyped-def]
    with get_services().db.transaction() as s:
        name = action(s, task_id, current_actor()).name
        _use_texts(s)
    flash(_(message, name=_(name)), "ok")
    return redirect(_back())


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):  # type: ignore[no-untyped-def]
    """Give a task to another user, with a reason for the audit trail (supervisors)."""
    assignee = request.form.get("assignee", "").strip() or None
    reason = request.form.get("reason", "")
    try:
        with get_services().db.transaction() as s:
            if assignee and current_actor().is_supervisor:
                readmodels.check_assignee(s, assignee, readmodels.task_role(s, task_id))
            item = get_services().runtime.reassign(s, task_id, current_actor(), assignee, reason)
            name = item.name
            _use_texts(s)
    except InvalidInput as exc:
        field = exc.details.get("field")
        if field not in ("reason", "assignee"):
            raise
        # the form again, with what was chosen and typed, and the error on its field
        return task_page.reassign_page(task_id, {"assignee": assignee or "", "reason": reason},
                                       {field: error_text(exc)})
    flash(_("“{name}” was reassigned.", name=_(name)), "ok")
    return redirect(_back())
