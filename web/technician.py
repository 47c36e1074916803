"""The field: a technician's day (their visits, on a phone) and the supervisor's dispatch board.

Moving or rescheduling a visit goes through :func:`handlers.dispatch.move_visit` (checks,
customer notice, audit, reassignment of the on-site task) in one transaction; a refused
change re-draws the page with the error naming its field, and nothing is written.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from engine import clock
from engine.errors import InvalidInput, PermissionDenied
from handlers import attachments
from handlers.dispatch import book_visit, move_visit
from handlers.values import business_timezone
from readmodels import appointments
from readmodels.texts import reader_texts

from . import get_services
from .access import current_actor, roles_required
from .i18n import current_language, use_bundle_texts
from .i18n import translate as _
from .rendering import error_text as say_error
from .setup import csrf

bp = Blueprint("technician", __name__)

FIELD = frozenset({"technician", "supervisor", "admin"})
SUPERVISING = frozenset({"supervisor", "admin"})
LABELS = {"task": "Task", "technician": "Technician", "day": "Date", "start": "Starts", "end": "Ends",
          "starts_at": "Starts", "ends_at": "Ends", "visit": "Visit", "tech": "Technician"}


def error_text(exc: InvalidInput) -> tuple[str, str]:
    """Return the field at fault and the error in the reader's language, naming that field."""
    name = str(exc.details.get("field") or "")
    message = say_error(exc)
    return name, (_("{field}: {message}", field=_(LABELS[name]), message=message) if name in LABELS else message)


def _parse_window(form: Any) -> tuple[datetime, datetime]:
    """Read the day and the HH:MM start and end of a window form, in the business time zone."""
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError as exc:
        raise InvalidInput("Enter the day as a date like 2026-03-02.", params={}, field="day") from exc
    moments = []
    for name in ("start", "end"):
        try:
            moments.append(datetime.combine(day, time.fromisoformat(form.get(name, "")), business_timezone()))
        except ValueError as exc:
            raise InvalidInput("Enter a time like 09:30.", params={}, field=name) from exc
    return moments[0], moments[1]


def _use_texts(session: Any) -> None:
    """Let the page name tasks, technicians, regions and parts in the reader's language."""
    use_bundle_texts(reader_texts(session, current_language(), get_services().settings.processes_dir / "data"))


def _technician_of_page() -> str | None:
    """Return whose day is shown: the signed-in technician's, or the one a supervisor picked."""
    actor = current_actor()
    asked = (request.args.get("tech") or "").strip()[:64]
    if asked and asked != actor.username and not actor.is_supervisor:
        raise PermissionDenied("only supervisors may look at another technician's day")
    if asked:
        return asked
    return actor.username if "technician" in actor.roles else None


def _my_day(error: tuple[int, str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    now = clock.now()
    day = appointments.parse_day(request.args.get("day"), now)  # the page's day, not a form's new one
    tech = _technician_of_page()
    services = get_services()
    with services.db.transaction(write=False) as s:
        known = appointments.technicians(s)
        _use_texts(s)
        visits = (appointments.my_day(s, services.runtime.specs, current_actor(), tech, day, now)
                  if tech in known else [])
    return render_template("technician/my_day.html", day=day, tech=tech, known=known, visits=visits,
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           error=error), status


@bp.get("/my-day")
@roles_required(FIELD)
def my_day():  # type: ignore[no-untyped-def]
    """Show a technician's visits of one day in time order."""
    return _my_day()


@bp.post("/my-day/visits/<int:visit_id>/reschedule")
@roles_required(FIELD)
def reschedule(visit_id: int):  # type: ignore[no-untyped-def]
    """Move a visit's window (the technician's own, or any for a supervisor); the customer is told."""
    services = get_services()
    try:
        starts_at, ends_at = _parse_window(request.form)
        with services.db.transaction() as s:
            visit = appointments.visit(s, visit_id)
            move_visit(s, services.runtime, current_actor(), visit_id, visit.technician, starts_at, ends_at,
                       clock.now())
    except InvalidInput as exc:
        field, message = error_text(exc)
        return _my_day((visit_id, field, message), 422)
    flash(_("The visit for {ticket} is now {start}; the customer is told.", ticket=visit.ticket,
            start=f"{starts_at:%Y-%m-%d %H:%M}"), "ok")
    return redirect(url_for("technician.my_day", day=starts_at.date().isoformat(),
                            tech=request.args.get("tech") or None))


def _board(error: tuple[Any, str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    now = clock.now()
    first = appointments.parse_day(request.args.get("week") or request.form.get("week"), now)
    with get_services().db.transaction(write=False) as s:
        board = appointments.dispatch_board(s, first, now)
        _use_texts(s)
    return render_template("technician/board.html", board=board, first=first, error=error,
                           prev_week=first - timedelta(days=7), next_week=first + timedelta(days=7)), status


@bp.get("/dispatch")
@roles_required(SUPERVISING)
def board():  # type: ignore[no-untyped-def]
    """Show technicians × days of a week with their visits and load, and the missed windows."""
    return _board()


def _change_board(key: Any, change: Any, done: str):  # type: ignore[no-untyped-def]
    """Run ``change(session, technician, starts_at, ends_at)`` on the posted window; re-draw the board
    with the error on its field (nothing written), or flash ``done(ticket=, technician=, start=)``."""
    services = get_services()
    technician = (request.form.get("technician") or "").strip()[:64]
    try:
        starts_at, ends_at = _parse_window(request.form)
        with services.db.transaction() as s:
            ticket = change(s, technician, starts_at, ends_at).ticket_number
    except InvalidInput as exc:
        field, message = error_text(exc)
        return _board((key, field, message), 422)
    flash(done(ticket=ticket, technician=technician, start=f"{starts_at:%Y-%m-%d %H:%M}"), "ok")
    return redirect(url_for("technician.board", week=request.form.get("week") or None))


@bp.post("/dispatch/move")
@roles_required(SUPERVISING)
def move():  # type: ignore[no-untyped-def]
    """Give a visit to another technician, day or window; the task follows, the customer is told."""
    try:
        visit_id = int(request.form.get("visit", ""))
    except ValueError as exc:
        raise InvalidInput("visit must be a visit number", field="visit") from exc
    return _change_board(visit_id, lambda s, tech, start, end: move_visit(
        s, get_services().runtime, current_actor(), visit_id, tech, start, end, clock.now()),
        lambda **values: _("The visit for {ticket} is now {technician}'s, {start}; the customer is told.", **values))


@bp.post("/tasks/<task_id>/photo")
@csrf.exempt  # checked below, once the (large) form is read
@roles_required(FIELD & attachments.MAY_ADD)
def photo(task_id: str):  # type: ignore[no-untyped-def]
    """Keep a photo from the phone's camera with the task's ticket; back to the task page."""
    back = redirect(url_for("task.show", task_id=task_id))
    request.max_content_length = attachments.MAX_BYTES + 256 * 1024
    limit = attachments.MAX_BYTES // 2**20
    try:
        upload = request.files.get("photo")
    except RequestEntityTooLarge:
        too_big = _("The photo is larger than {mb} MB; nothing was kept.", mb=limit)
        flash(_("{field}: {message}", field=_("Photo"), message=too_big), "error")
        return back
    csrf.protect()
    if upload is None or not upload.filename:
        flash(_("{field}: {message}", field=_("Photo"), message=_("Take or choose a photo first.")), "error")
        return back
    services = get_services()
    try:
        with services.db.transaction() as s:
            ticket = appointments.ticket_of_task(s, task_id)
            kept = attachments.add_attachment(s, ticket, upload.filename, upload.read(), upload.mimetype,
                                              current_actor().username, "task:photo").filename
    except InvalidInput as exc:
        message = (say_error(exc) if exc.details.get("field") == "photo" else _(
            "{name} was not kept: only photos (JPEG, PNG, WebP, HEIC) up to {mb} MB are.", name=upload.filename,
            mb=limit))
        flash(_("{field}: {message}", field=_("Photo"), message=message), "error")
        return back
    flash(_("The photo {name} is kept with ticket {ticket}.", name=kept, ticket=ticket), "ok")
    return back


@bp.post("/dispatch/assign")
@roles_required(SUPERVISING)
def assign():  # type: ignore[no-untyped-def]
    """Book a visit dispatch could not place: a technician and a window; the process goes on."""
    task_id = (request.form.get("task") or "").strip()[:36]
    return _change_board(task_id, lambda s, tech, start, end: book_visit(
        s, get_services().runtime, current_actor(), task_id, tech, start, end, clock.now()),
        lambda **values: _("The visit for {ticket} is booked with {technician}, {start}; the customer is told.",
                           **values))
