"""``/admin/settings``: the outgoing mail sender, the public address of the links in customers' messages,
the business language (of mail to staff who chose none), business calendars and holidays, KPI alert
thresholds — stored in the database (:mod:`engine.settings`), read by the outbox, the notifications,
the SLA clocks and the KPI alerts before their environment variable or data file."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from analytics.alerts import alert_rules
from engine.errors import FormValidationError
from engine.settings import (
    BUSINESS_LANGUAGE,
    CALENDARS,
    DAYS,
    KPI_THRESHOLDS,
    MAIL_SENDER,
    business_language,
    check_business_language,
    check_calendars,
    check_sender,
    check_thresholds,
    get_setting,
    set_setting,
    stored_settings,
)
from handlers.calendar import calendar_data
from handlers.customer_links import PUBLIC_URL, check_public_url, public_url
from handlers.mail_intake import MAIL_INTAKE, check_intake_settings, effective_intake_settings
from handlers.transports import SmtpSettings

from . import get_services
from .access import current_actor, roles_required
from .account import field_errors
from .admin import ADMIN, bp
from .i18n import translate as _


def _current(session: Any) -> dict[str, Any]:
    rules = alert_rules(session)
    calendars = calendar_data(session)
    return {
        "mail_sender": get_setting(session, MAIL_SENDER, SmtpSettings.from_env().sender),
        "business_language": business_language(session),
        "public_url": public_url(session),
        "mail_intake_maildir": effective_intake_settings(session)["maildir"],
        "mail_intake_max_mb": f"{effective_intake_settings(session)['max_bytes'] / 2**20:g}",
        "calendars": {name: {"description": c.get("description", ""), "timezone": c.get("timezone", "UTC"),
                             "hours": {d: ", ".join(f"{a}-{b}" for a, b in c.get("hours", {}).get(d, []))
                                       for d in DAYS},
                             "holidays": "\n".join(c.get("holidays", []))} for name, c in calendars.items()},
        "rules": [{"id": r["id"], "kpi": r["kpi"], "period": r["period"], "title": r.get("title"),
                   "measure": next(k for k in ("below", "above", "falls_by") if k in r),
                   "threshold": _said_threshold(r, next(r[k] for k in ("below", "above", "falls_by") if k in r)),
                   "percent": _is_share(r), "min_count": r.get("min_count", 1)} for r in rules],
        "changed": {k: (row.updated_at, row.updated_by) for k, row in stored_settings(session).items()},
    }


def _is_share(rule: dict[str, Any]) -> bool:
    """Tell whether a rule's KPI is a share, whose threshold the page says in per cent (85 for 0.85)."""
    return str(rule.get("kpi", "")).endswith("_share")


def _said_threshold(rule: dict[str, Any], value: Any) -> Any:
    """Return a threshold as the page shows it: a share's in per cent, like the rule's title (低于 85 %)."""
    return f"{round(float(value) * 100, 6):g}" if _is_share(rule) and isinstance(value, int | float) else value


def _as_fractions(rules: list[dict[str, Any]], entered: dict[str, dict[str, str]],
                  errors: dict[str, str]) -> dict[str, dict[str, str]]:
    """Return the entered thresholds with each share's per cent (85, 85 %) as the fraction stored (0.85);
    a per cent that is not one from 0 to 100 goes to ``errors`` on its field."""
    shares = {r["id"] for r in rules if _is_share(r)}
    out: dict[str, dict[str, str]] = {}
    for rule_id, values in entered.items():
        values = dict(values)
        if rule_id in shares and "threshold" in values:
            text = values["threshold"].strip().removesuffix("%").strip()
            try:
                percent = float(text)
                if not 0 <= percent <= 100:  # also refuses nan
                    raise ValueError
                values["threshold"] = repr(percent / 100)
            except ValueError:
                errors[f"kpi.{rule_id}.threshold"] = _("Enter a percentage from 0 to 100, such as 85.")
                values["threshold"] = "0"  # said here: the check below judges the rule's other fields
        out[rule_id] = values
    return out


def _entered() -> dict[str, Any]:
    """Return the posted form as the shape the checks take (calendars and rules by name)."""
    form = request.form
    calendars: dict[str, dict[str, Any]] = {}
    rules: dict[str, dict[str, str]] = {}
    for key, value in form.items():
        parts = key.split(".")
        if parts[0] == "cal" and len(parts) >= 3:
            entry = calendars.setdefault(parts[1], {"hours": {}})
            if parts[2] == "hours" and len(parts) == 4:
                entry["hours"][parts[3]] = value
            else:
                entry[parts[2]] = value
        elif parts[0] == "kpi" and len(parts) == 3:
            rules.setdefault(parts[1], {})[parts[2]] = value
    return {"mail_sender": form.get("mail_sender", ""), "calendars": calendars, "rules": rules,
            "business_language": form.get("business_language", ""),
            "public_url": form.get("public_url"),  # None: not sent, unchanged; "": back to the environment's
            "mail_intake_maildir": form.get("mail_intake_maildir", ""),
            "mail_intake_max_mb": form.get("mail_intake_max_mb", "")}


def _shown(current: dict[str, Any], entered: dict[str, Any]) -> dict[str, Any]:
    """Return the page's values with what was entered in place (a refused form keeps the input)."""
    current["mail_sender"] = entered["mail_sender"]
    current["business_language"] = entered["business_language"] or current["business_language"]
    current["public_url"] = current["public_url"] if entered["public_url"] is None else entered["public_url"]
    current["mail_intake_maildir"], current["mail_intake_max_mb"] = (entered["mail_intake_maildir"],
                                                                     entered["mail_intake_max_mb"])
    for name, values in entered["calendars"].items():
        if name in current["calendars"]:
            shown = current["calendars"][name]
            shown["timezone"] = values.get("timezone", shown["timezone"])
            shown["holidays"] = values.get("holidays", shown["holidays"])
            shown["hours"].update(values.get("hours", {}))
    for rule in current["rules"]:
        rule.update(entered["rules"].get(rule["id"], {}))
    return current


def _public_url(session: Any, entered: str | None) -> str | None:
    """Return the public address to store: the one entered, checked; None (the environment's) when cleared."""
    if entered is None:
        return public_url(session) if get_setting(session, PUBLIC_URL) else None
    return check_public_url(entered) if entered.strip() else None


@bp.get("/settings")
@roles_required(ADMIN)
def settings():  # type: ignore[no-untyped-def]
    """Show the settings with their current values."""
    with get_services().db.transaction(write=False) as s:
        current = _current(s)
    return render_template("admin/settings.html", current=current, errors={}, days=DAYS)


@bp.post("/settings")
@roles_required(ADMIN)
def save_settings():  # type: ignore[no-untyped-def]
    """Check every entered setting; store them all (audited) or none, with errors by field."""
    entered = _entered()
    by = current_actor().username
    errors: dict[str, str] = {}
    try:
        with get_services().db.transaction() as s:
            values: dict[str, Any] = {}
            for key, check in ((MAIL_SENDER, lambda: check_sender(entered["mail_sender"])),
                               (BUSINESS_LANGUAGE, lambda: check_business_language(  # not sent: unchanged
                                   entered["business_language"] or business_language(s))),
                               (PUBLIC_URL, lambda: _public_url(s, entered["public_url"])),
                               (CALENDARS, lambda: check_calendars(entered["calendars"], calendar_data(s))),
                               (KPI_THRESHOLDS, lambda: check_thresholds(alert_rules(s), _as_fractions(
                                   alert_rules(s), entered["rules"], errors))),
                               (MAIL_INTAKE, lambda: check_intake_settings(entered["mail_intake_maildir"],
                                                                           entered["mail_intake_max_mb"]))):
                try:
                    values[key] = check()
                except FormValidationError as exc:
                    errors.update(field_errors(exc))
            if errors:
                raise FormValidationError("the settings have errors", [])
            effective = {MAIL_SENDER: get_setting(s, MAIL_SENDER, SmtpSettings.from_env().sender),
                         CALENDARS: calendar_data(s), MAIL_INTAKE: effective_intake_settings(s),
                         BUSINESS_LANGUAGE: business_language(s),
                         PUBLIC_URL: public_url(s) if values[PUBLIC_URL] else get_setting(s, PUBLIC_URL),
                         KPI_THRESHOLDS: {r["id"]: {"threshold": next(r[k] for k in ("below", "above", "falls_by")
                                                                      if k in r), "min_count": r.get("min_count", 1)}
                                          for r in alert_rules(s)}}
            changed = [key for key, value in values.items()
                       if value != effective[key] and set_setting(s, key, value, by)]
    except FormValidationError:
        with get_services().db.transaction(write=False) as s:
            current = _shown(_current(s), entered)
        return render_template("admin/settings.html", current=current, errors=errors, days=DAYS), 422
    flash(_("Settings saved.") if changed else _("Nothing changed."), "ok")
    return redirect(url_for("admin.settings"))
