"""The warehouse: stock, reservations, back-orders, goods-in, the movement ledger, count
corrections, the RMA inbox, pick lists and shipments back to customers.

The warehouse role works here; supervisors and admins may read. Thin views: what a page
shows comes from :mod:`readmodels.warehouse`, what a form changes from :mod:`handlers.stock`,
one transaction each. A refused form is shown again with the error on its field (422) and
nothing changed.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from engine import clock
from engine.errors import AftersalesError, FormValidationError
from handlers import stock
from handlers.parts import MOVEMENT_KINDS
from handlers.stock import SHIPMENT_STATES
from readmodels import warehouse as reads
from readmodels.element_names import element_names
from readmodels.texts import reader_texts

from . import formdata, get_services
from .access import current_actor, roles_required
from .i18n import current_language, data_text, use_bundle_texts
from .i18n import translate as _
from .rendering import error_text

bp = Blueprint("warehouse", __name__, url_prefix="/warehouse")
READERS = frozenset({"warehouse", "supervisor", "admin"})
WORKERS = frozenset({"warehouse"})


def _texts(s: Any) -> None:
    """Let part, warehouse and task names read in the reader's language."""
    use_bundle_texts(reader_texts(s, current_language(), get_services().settings.processes_dir / "data"))


#: the reasons handlers write on the ledger themselves (English, stored), each as a template of the reader's
_REASONS = (
    (re.compile(r"(?P<step>\w+) \(instance (?P<instance>\d+)\)"), "Process step “{step}”"),
    (re.compile(r"back-order (?P<order>\d+) fulfilled"), "back-order {order} fulfilled"),
    (re.compile(r"sent to the customer with shipment (?P<shipment>\d+)"),
     "sent to the customer with shipment {shipment}"),
    (re.compile(r"restock"), "restock"),
    (re.compile(r"goods-in"), "goods-in"),
)


def reason_text(reason: str, steps: dict[str, str] | None = None) -> Any:
    """Say a ledger row's reason in the reader's language; a reason someone typed is shown as data. A process
    step is named as the process names it (``steps``: element id → name), in the reader's words; the ticket
    is the row's own column (the instance's number means nothing to the warehouse)."""
    for pattern, template in _REASONS:
        match = pattern.fullmatch(reason)
        if match:
            values = match.groupdict()
            if "step" in values:
                step = values["step"]
                return _(template, step=_(steps[step]) if steps and step in steps else data_text(step))
            return _(template, **{k: data_text(v) for k, v in values.items()})
    return data_text(reason) if reason else ""


def by_process(reason: str) -> bool:
    """Tell whether a ledger row was written by a process step (its actor only set the process going)."""
    return bool(_REASONS[0][0].fullmatch(reason or ""))


def _form() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in request.form if key != "csrf_token"}


def _page(template: str, status: int = 200, **shown: Any):  # type: ignore[no-untyped-def]
    return render_template(f"warehouse/{template}", may_work=bool(current_actor().roles & WORKERS),
                           **shown), status


@bp.get("/")
@roles_required(READERS)
def index():  # type: ignore[no-untyped-def]
    """Show stock per part and location: on hand, reserved, available; search and low-stock filter."""
    q = request.args.get("q", "").strip()[:60]
    low = request.args.get("low") == "1"
    with get_services().db.transaction(write=False) as s:
        lines = reads.stock_lines(s, q, low)
        counts = reads.summary(s, clock.now())
        _texts(s)
    return _page("index.html", lines=lines, q=q, low=low, counts=counts)


@bp.get("/reservations")
@roles_required(READERS)
def reservations():  # type: ignore[no-untyped-def]
    """List the parts held for tickets (or every reservation, used ones too)."""
    ticket = request.args.get("ticket", "").strip()[:32]
    everything = request.args.get("all") == "1"
    with get_services().db.transaction(write=False) as s:
        rows = reads.reservations(s, ticket, include_done=everything)
        _texts(s)
    return _page("reservations.html", rows=rows, ticket=ticket, everything=everything)


@bp.get("/backorders")
@roles_required(READERS)
def backorders():  # type: ignore[no-untyped-def]
    """List open back-orders with their age and the tickets waiting on them."""
    with get_services().db.transaction(write=False) as s:
        rows = reads.backorders(s, clock.now())
        _texts(s)
    return _page("backorders.html", rows=rows)


def _form_page(template: str, values: dict[str, str], exc: AftersalesError | None = None, **shown: Any):  # type: ignore[no-untyped-def]
    """Render a stock form with the catalogue's choices and, after a refusal, the error on its field (422)."""
    if isinstance(exc, FormValidationError):  # several fields at fault: each error on its field
        errors = {e.field: formdata.said(e) for e in exc.errors}
    else:
        errors = {exc.details.get("field"): error_text(exc)} if exc else {}
    with get_services().db.transaction(write=False) as s:
        _texts(s)
        sku = values.get("sku", "").strip()
        return _page(template, 422 if exc else 200, values=values, errors=errors, warehouses=reads.warehouses(s),
                     parts=reads.parts(s), lines=reads.stock_lines(s, sku) if sku else [], **shown)


@bp.get("/goods-in")
@roles_required(READERS)
def goods_in():  # type: ignore[no-untyped-def]
    """Show the goods-in form (pre-filled from a back-order), and what the last goods-in released."""
    return _form_page("goods_in.html", dict(request.args.items()), done=session.pop("warehouse_goods_in", None))


@bp.post("/goods-in")
@roles_required(WORKERS)
def book_in():  # type: ignore[no-untyped-def]
    """Book a delivery in; back-ordered tickets whose parts are now all there move on."""
    services, values = get_services(), _form()
    try:
        with services.db.transaction() as s:
            done = stock.goods_in(s, services.runtime, values, current_actor(), clock.now())
    except AftersalesError as exc:
        return _form_page("goods_in.html", values, exc)
    session["warehouse_goods_in"] = {"sku": done.sku, "warehouse": done.warehouse, "quantity": done.quantity,
                                     "released": done.released, "supplied": done.supplied_not_waiting}
    return redirect(url_for("warehouse.goods_in"))


@bp.get("/adjust")
@roles_required(READERS)
def adjust():  # type: ignore[no-untyped-def]
    """Show the count-correction form, with the part's stock once one is chosen."""
    return _form_page("adjust.html", dict(request.args.items()))


@bp.post("/adjust")
@roles_required(WORKERS)
def correct():  # type: ignore[no-untyped-def]
    """Correct a count (found or missing units) with a reason; never below zero."""
    values = _form()
    try:
        with get_services().db.transaction() as s:
            moved = stock.adjust(s, values, current_actor(), clock.now())
            change, sku, code = moved.on_hand_change, moved.sku, moved.warehouse
    except AftersalesError as exc:
        return _form_page("adjust.html", values, exc)
    flash(_("Count corrected: {change} × {sku} in {warehouse}.", change=f"{change:+d}", sku=sku, warehouse=code),
          "ok")
    return redirect(url_for("warehouse.movements", sku=sku))


@bp.get("/movements")
@roles_required(READERS)
def movements():  # type: ignore[no-untyped-def]
    """Show the stock ledger: every movement with who, when and why, newest first."""
    sku = request.args.get("sku", "").strip()[:40]
    kind = request.args.get("kind", "").strip()
    ticket = request.args.get("ticket", "").strip()[:32]
    with get_services().db.transaction(write=False) as s:
        _texts(s)
        try:
            rows = reads.movements(s, sku, kind, ticket)
        except AftersalesError as exc:
            return _page("movements.html", 400, rows=[], sku=sku, kind=kind, ticket=ticket, kinds=MOVEMENT_KINDS,
                         errors={"kind": error_text(exc)}, reason_text=reason_text, by_process=by_process)
        steps = element_names(s)
    return _page("movements.html", rows=rows, sku=sku, kind=kind, ticket=ticket, kinds=MOVEMENT_KINDS, errors={},
                 reason_text=partial(reason_text, steps=steps), by_process=by_process)


def _rows_page(template: str, key: Any = None, exc: AftersalesError | None = None,
               values: dict[str, str] | None = None, **shown: Any):  # type: ignore[no-untyped-def]
    """Render a page of cards; after a refusal, the error on the field of card ``key`` (422)."""
    errors = {f"{key}:{exc.details.get('field')}": error_text(exc)} if exc else {}
    return _page(template, 422 if exc else 200, errors=errors, values={key: values} if exc else {}, **shown)


def _rma_page(key: str | None = None, exc: AftersalesError | None = None, values: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    services = get_services()
    with services.db.transaction(write=False) as s:
        parcels = reads.rma_inbox(s, services.runtime.specs, current_actor(), clock.now())
        _texts(s)
        return _rows_page("rma.html", key, exc, values, parcels=parcels)


@bp.get("/rma")
@roles_required(READERS)
def rma():  # type: ignore[no-untyped-def]
    """Show the devices in the post: expected ones, then received ones."""
    return _rma_page()


@bp.post("/rma/<rma_number>/receive")
@roles_required(WORKERS)
def receive(rma_number: str):  # type: ignore[no-untyped-def]
    """Book a device in; its process hears ``device_received`` if it waits for it."""
    services, values = get_services(), _form()
    try:
        with services.db.transaction() as s:
            done = stock.receive_rma(s, services.runtime, rma_number, values, current_actor(), clock.now())
    except AftersalesError as exc:
        return _rma_page(rma_number, exc, values)
    if done.process_notified:
        flash(_("RMA {rma} received: ticket {ticket} moves on; the device is due back to the customer.",
                rma=done.rma_number, ticket=done.ticket), "ok")
    else:
        flash(_("RMA {rma} received. Ticket {ticket} was not waiting for its device; the receipt is recorded.",
                rma=done.rma_number, ticket=done.ticket), "warn")
    return redirect(url_for("warehouse.rma"))


@bp.get("/picking")
@roles_required(READERS)
def picking():  # type: ignore[no-untyped-def]
    """Show the pick lists of a day's visits, per technician (printable)."""
    with get_services().db.transaction(write=False) as s:
        _texts(s)
        try:
            day = reads.parse_day(request.args.get("day"), clock.now())
        except AftersalesError as exc:
            return _page("picking.html", 400, picks=[], day=request.args.get("day", ""),
                         errors={"day": error_text(exc)})
        return _page("picking.html", picks=reads.pick_lists(s, day), day=day.isoformat(), errors={})


def _shipments_page(key: int | None = None, exc: AftersalesError | None = None,
                    values: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    shown = request.args.get("status", "").strip()
    with get_services().db.transaction(write=False) as s:
        rows = reads.shipments(s, current_actor(), shown if shown in SHIPMENT_STATES else "")
        _texts(s)
        return _rows_page("shipments.html", key, exc, values, rows=rows, shown=shown, states=SHIPMENT_STATES)


@bp.get("/shipments")
@roles_required(READERS)
def shipments():  # type: ignore[no-untyped-def]
    """Show the parcels due back to customers and those shipped."""
    return _shipments_page()


@bp.post("/shipments/<int:shipment_id>/ship")
@roles_required(WORKERS)
def ship(shipment_id: int):  # type: ignore[no-untyped-def]
    """Mark a parcel shipped with its carrier and tracking number."""
    values = _form()
    try:
        with get_services().db.transaction() as s:
            done = stock.ship(s, shipment_id, values, current_actor(), clock.now())
            ticket, tracking = done.ticket_number, done.tracking_number
    except AftersalesError as exc:
        return _shipments_page(shipment_id, exc, values)
    flash(_("Shipment for {ticket} shipped, tracking number {tracking}.", ticket=ticket, tracking=tracking), "ok")
    return redirect(url_for("warehouse.shipments"))
