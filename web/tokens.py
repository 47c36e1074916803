"""Signed links for customers: answer a quote, confirm the repair, take the survey.

A token names the ticket and the message it may send, signed by :mod:`handlers.customer_links`
(``AFTERSALES_SECRET_KEY``, else the installation's own key in the database: the key the worker
signs the links in customer messages with) and valid for ``CUSTOMER_LINK_DAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired

from engine.errors import NotFound
from handlers import customer_links

from . import get_services


@dataclass(frozen=True)
class CustomerAction:
    """What a signed link allows: one message about one ticket."""

    ticket: str
    message: str


def sign(ticket: str, message: str) -> str:
    """Return a token allowing ``message`` about ``ticket``."""
    with get_services().db.transaction() as session:  # the installation's key may be made here, on first use
        return customer_links.sign(session, ticket, message)


def action_url(ticket: str, message: str, external: bool = False) -> str:
    """Return the customer's page for ``message`` about ``ticket``; ``external``: the link to give the
    customer, on the public address their messages' links use (not the address staff reached us at)."""
    if not external:
        return url_for("selfservice.respond", token=sign(ticket, message))
    with get_services().db.transaction() as session:  # the installation's key may be made here
        return customer_links.respond_url(session, customer_links.public_url(session), ticket, message)


def verify(token: str) -> CustomerAction:
    """Return what a token allows, or raise :class:`NotFound` for a bad or expired one."""
    max_age = int(current_app.config["CUSTOMER_LINK_DAYS"]) * 86400
    checker = customer_links.checker(get_services().db)
    if checker is None:  # the installation has not signed a link yet
        raise NotFound("this link is not valid")
    try:
        value = checker.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise NotFound(
            "this link has expired; please check your status page or contact us"
        ) from exc
    except BadSignature as exc:
        raise NotFound("this link is not valid") from exc
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("t"), str)
        or not isinstance(value.get("m"), str)
    ):
        raise NotFound("this link is not valid")
    return CustomerAction(value["t"], value["m"])
