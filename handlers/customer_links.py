"""Links a customer opens from a message: absolute, signed, no login.

A message leaves the building, so every link in it starts with the installation's public
address: the admin's ``customer.public_url`` setting, else ``AFTERSALES_PUBLIC_URL`` (the older
``AFTERSALES_BASE_URL`` is still read), else ``http://127.0.0.1:5000`` for the demo. The links
point at the customer's pages only (``/service/respond/<token>``, its ``/quote``, ``/s/<token>``,
``/service/status/<token>``), never at a staff page, and name the customer's language
(``?lang=zh``): the page opens in it whatever language the phone asks for.

A respond or status token names the ticket and the one message it allows, signed with
``AFTERSALES_SECRET_KEY`` (itsdangerous, salt ``aftersales.customer-action``); the web layer
(:mod:`web.tokens`) checks it with the same key, so a link made by the worker opens in the
web process. Without the variable (never in production) the installation makes a random key of
its own on first use and keeps it in the database, which the worker and the web share.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.db import Database
from engine.errors import ConfigError
from engine.settings import Setting, get_setting, problem, refuse

PUBLIC_URL = "customer.public_url"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
DEV_SECRET = "aftersales-dev-secret-do-not-use-in-production"
LINK_KEY = "customer.link_key"  # the installation's own signing key, when AFTERSALES_SECRET_KEY is not set
_KEYS: dict[str, str] = {}  # the installation's key per database URL, once read
SALT = "aftersales.customer-action"
LANGUAGES = ("en", "zh")
STATUS = "status"  # the message name of a status-page token: it allows the page's own actions
#: the answers a customer sends from a signed link (the survey has its own link, ``/s/<token>``)
ANSWERS = ("quote_response", "customer_confirmation")
#: which answer a milestone's message asks for: its link opens the page that sends it
ANSWER_FOR = {"quote": "quote_response", "reminder": "quote_response", "repaired": "customer_confirmation"}


def secret_key(session: Session | None = None) -> str:
    """Return the key customer links are signed with: ``AFTERSALES_SECRET_KEY``; without it (never in
    production) the installation's own key in the database when a ``session`` is given (made on first
    use), else the development key (the survey's links)."""
    secret = os.environ.get("AFTERSALES_SECRET_KEY", "")
    if secret:
        return secret
    if os.environ.get("AFTERSALES_ENV", "development") == "production":
        raise ConfigError("AFTERSALES_SECRET_KEY must be set in production")
    return DEV_SECRET if session is None else str(installation_key(session, create=True))


def installation_key(session: Session, create: bool) -> str | None:
    """Return the installation's own signing key (``create``: make it if there is none yet).

    The worker that signs a message's links and the web process that checks them share the
    database, so the key lives there: a random one per installation, not the development key
    everyone can read in the source. It is not a setting an admin changes, and is not audited (the
    audit trail must not hold a key)."""
    url = str(session.get_bind().url)
    if url in _KEYS:
        return _KEYS[url]
    key = get_setting(session, LINK_KEY)
    if key is None and create:
        try:
            with session.begin_nested():
                session.add(Setting(key=LINK_KEY, value={"value": secrets.token_urlsafe(32)},
                                    updated_at=clock.now(), updated_by="system"))
        except IntegrityError:
            pass  # another process made it first: take theirs
        key = get_setting(session, LINK_KEY)
    if key:
        _KEYS[url] = str(key)
    return _KEYS.get(url)


def serializer(session: Session) -> URLSafeTimedSerializer:
    """Return the signer of respond and status tokens."""
    return URLSafeTimedSerializer(secret_key(session), salt=SALT)


def checker(db: Database) -> URLSafeTimedSerializer | None:
    """Return the signer that checks a token, for a caller outside a transaction (the web layer);
    None while the installation has signed no link yet."""
    if os.environ.get("AFTERSALES_SECRET_KEY") or os.environ.get("AFTERSALES_ENV") == "production":
        return URLSafeTimedSerializer(secret_key(), salt=SALT)
    key = _KEYS.get(str(db.engine.url))
    if key is None:
        with db.transaction(write=False) as session:
            key = installation_key(session, create=False)
    return None if key is None else URLSafeTimedSerializer(key, salt=SALT)


def sign(session: Session, ticket: str, message: str) -> str:
    """Return a token allowing ``message`` (or the status page, ``status``) about ``ticket``."""
    return str(serializer(session).dumps({"t": ticket, "m": message}))


def env_public_url() -> str:
    """Return the public address from the environment, else the demo's."""
    for name in ("AFTERSALES_PUBLIC_URL", "AFTERSALES_BASE_URL"):
        value = os.environ.get(name, "").strip()
        if value:
            return value.rstrip("/")
    return DEFAULT_PUBLIC_URL


def public_url(session: Session) -> str:
    """Return the address customers reach the service pages at, without a trailing slash."""
    stored = get_setting(session, PUBLIC_URL)
    return str(stored).rstrip("/") if stored else env_public_url()


def check_public_url(text: str) -> str:
    """Return the public address an admin entered (http or https, a host, no query), or refuse it."""
    value = text.strip().rstrip("/")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (a port out of range raises here)
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or "@" in parts.netloc or any(c.isspace() for c in value):
        refuse([problem("public_url", "{value!r} is not a web address like 'https://service.example.cn'",
                        value=text.strip())], "the settings")
    return value


def respond_url(session: Session, base: str, ticket: str, message: str) -> str:
    """Return the customer's page that sends ``message`` about ``ticket``."""
    return f"{base}/service/respond/{sign(session, ticket, message)}"


def in_language(url: str, language: str | None) -> str:
    """Return ``url`` naming the customer's language, so their page opens in it whatever the phone's is."""
    return f"{url}?lang={language}" if language in LANGUAGES else url


def links_for(session: Session, ticket: str, milestone: str, asks: str | None = None,
              language: str | None = None) -> dict[str, Any]:
    """Return the links a milestone's message may carry: ``status`` always; ``respond`` when the
    message asks for an answer (``asks``, else the milestone's own, :data:`ANSWER_FOR`); ``quote``
    (the customer's view of the quote) with a quote. Each names ``language`` (en, zh) when given."""
    base = public_url(session)
    links = {"status": f"{base}/service/status/{sign(session, ticket, STATUS)}"}
    answer = asks or ANSWER_FOR.get(milestone)
    if answer is not None:
        links["respond"] = respond_url(session, base, ticket, answer)
        if answer == "quote_response":
            links["quote"] = links["respond"] + "/quote"
    return {name: in_language(url, language) for name, url in links.items()}
