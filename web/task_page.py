"""One task: its generated form beside the ticket's context; completing it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

import readmodels
from engine import forms
from engine.errors import FormValidationError
from engine.privacy import keep_hidden_values
from readmodels.texts import reader_texts
from readmodels.workspace import earlier_tickets

from . import formdata, formgen, get_services
from .access import current_actor, safe_next
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import display_tz, instructions_html

bp = Blueprint("task", __name__)


def _detail(task_id: str) -> readmodels.TaskDetail:
    services = get_services()
    with services.db.transaction(write=False) as s:
        detail = readmodels.task_detail(s, services.runtime.specs, current_actor(), task_id, current_language())
        use_bundle_texts(reader_texts(s, current_language(), services.settings.processes_dir / "data",
                                      detail.instance.deployment_id))
    return detail


def _page(
    detail: readmodels.TaskDetail,
    values: dict[str, Any],
    errors: dict[str, str],
    general: list[str],
    status: int = 200,
    reassign: dict[str, Any] | None = None,
):  # type: ignore[no-untyped-def]
    """Render the task page; ``reassign`` holds the reassign form's typed values and field errors."""
    fields: list[formgen.Field] = []
    if detail.schema:
        with get_services().db.transaction(write=False) as s:  # catalogue fields become pick lists
            schema = forms.with_catalogue(s, detail.schema, values, detail.data, current_language())
        fields = formgen.build(schema, detail.ui_schema, values, errors, display_tz())
    earlier: list[dict[str, Any]] = []
    if detail.instance.business_key:  # the customer's earlier tickets, as the ticket page lists them
        with get_services().db.transaction(write=False) as s:
            earlier = earlier_tickets(s, detail.instance.business_key)
    assignees: list[tuple[str, str]] = []
    if current_actor().is_supervisor:
        with get_services().db.transaction(write=False) as s:
            assignees = [(u, n) for u, n in readmodels.users_with_role(s, detail.item.role)
                         if u not in detail.excluded]  # four eyes: not whoever did what this task checks
    notifications: list[dict[str, Any]] = []
    if detail.item.role == "qa":  # the reviewer scores what the customer was told: list it beside the form
        with get_services().db.transaction(write=False) as s:
            notifications = [n for n in readmodels.notifications_for(s, detail.instance.business_key)
                             if n.get("audience") != "staff"]
    return render_template(
        "tasks/task.html",
        notifications=notifications,
        detail=detail,
        item=detail.item,
        ctx=detail.context,
        fields=fields,
        form_title=(detail.schema or {}).get("title", ""),
        general_errors=general,
        instructions=instructions_html(detail.instructions, detail.shown),
        assignees=assignees,
        earlier=earlier,
        error_count=len(errors) + len(general),
        reassign=reassign or {"values": {}, "errors": {}},
    ), status


def reassign_page(task_id: str, values: dict[str, str], errors: dict[str, str]):  # type: ignore[no-untyped-def]
    """Show a task again with the reassign form open, what was chosen kept and its errors on the fields."""
    detail = _detail(task_id)
    shown = forms.prefill(detail.schema, detail.shown, detail.shown) if detail.schema else detail.shown
    return _page(detail, shown, {}, [], 422, reassign={"values": values, "errors": errors})


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str):  # type: ignore[no-untyped-def]
    """Show a task's form, instructions and ticket context."""
    detail = _detail(task_id)
    values = forms.prefill(detail.schema, detail.shown, detail.shown) if detail.schema else detail.shown
    return _page(detail, values, {}, [])


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str):  # type: ignore[no-untyped-def]
    """Complete a task with the submitted form, or show the form again with its errors."""
    detail = _detail(task_id)
    typed: dict[str, Any] = {}
    if detail.schema:
        typed = formdata.parse(
            detail.schema, detail.ui_schema, request.form, detail.shown, display_tz()
        )
    # what the user left as shown masked keeps its clear value
    data = keep_hidden_values(typed, detail.shown, detail.data)
    services = get_services()
    try:
        with services.db.transaction() as s:
            services.runtime.complete_task(s, task_id, current_actor(), data)
            following = readmodels.next_task_for(s, current_actor(), detail.item.instance_id)
    except FormValidationError as exc:
        errors, general = formdata.field_errors(exc.errors)
        # what was typed, and a field the user emptied stays empty (not the task's earlier value)
        asked = set((detail.schema or {}).get("properties") or {})
        kept = {k: v for k, v in detail.shown.items() if k not in asked}
        return _page(detail, {**kept, **typed}, errors, general, 422)
    flash(_("“{name}” is done.", name=_(detail.item.name)), "ok")
    back = safe_next(request.args.get("next"), "")
    if back:  # the page the task was opened from (QA's sample list) rather than the next task
        return redirect(back)
    if following:
        return redirect(url_for("task.show", task_id=following))
    return redirect(url_for("tasks.tasklist"))
