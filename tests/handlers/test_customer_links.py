"""Every link in a message to a customer is absolute and opens one of the customer's own pages (no login).

The public address is the admin's setting, else ``AFTERSALES_PUBLIC_URL``, else the demo's
``http://127.0.0.1:5000``; a staff page (the quote at ``/tickets/…``) never leaves the building.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from engine.errors import FormValidationError, HandlerError
from engine.settings import set_setting
from handlers.customer_links import PUBLIC_URL, check_public_url, public_url
from handlers.outbox import Outbox
from tests.handlers.samples import CUSTOMER, TEMPLATES

#: what a customer may be sent to: the answer pages (and their quote view), the survey, the status page
CUSTOMER_PAGES = re.compile(r"^/(service/respond/[\w.-]+(/quote)?|s/[\w.-]+|service/status/[\w.-]+)$")
ABSOLUTE = re.compile(r"[a-z]+://[^\s，。；）)]+")
BARE_PATH = re.compile(r"/[\w-]+/")  # what is left with a path in it once the absolute links are out
QUOTE = {"quote_id": 48, "total": "520.00", "customer_pays": "260.00", "currency": "CNY",
         "document_url": "/tickets/AS-20260302-00001/quote/48"}  # what quote.prepare hands on: the staff page
DATA = {**QUOTE, "summary": "drain filter blocked", "eta": "2026-03-16", "reason": "no longer needed",
        "appointment": {"start": "2026-03-04T00:30:00+00:00", "end": "2026-03-04T02:30:00+00:00"},
        "technician_name": "Wang Lei", "survey_url": None, "expires_at": "2026-03-16T00:00:00+00:00",
        "text": "Please clean the drain filter behind the lower panel."}
REACHED_BY = {"email": {"preferred_channel": "email"}, "sms": {"preferred_channel": "sms"},
              "wechat": {"preferred_channel": "wechat", "wechat_id": "wx_liwei"}}
MILESTONES = sorted({p.name.split(".")[0] for p in (TEMPLATES / "notify").glob("*.j2")})


def sent(database, ticket: str) -> list[Outbox]:
    with database.transaction(write=False) as session:
        return list(session.scalars(select(Outbox).where(Outbox.ticket_number == ticket).order_by(Outbox.id)))


def links_in(text: str) -> list[str]:
    """Return the absolute links of ``text``; fail on a bare path (a link without the address)."""
    assert not BARE_PATH.search(ABSOLUTE.sub("", text)), f"a link without the public address in: {text}"
    return [link.rstrip(".") for link in ABSOLUTE.findall(text)]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("channel", ["email", "sms", "wechat"])
def test_no_customer_message_links_a_staff_page_or_a_bare_path(call, database, channel, language):
    # Given the survey link the survey handler makes for the ticket
    data = {**DATA, "survey_url": call("survey.invite", task="invite", ticket_number="AS-20260302-00001",
                                       customer=CUSTOMER)["survey_url"]}
    # When every milestone's message goes to a customer on this channel and in this language
    customer = {**CUSTOMER, "language": language, **REACHED_BY[channel]}
    for milestone in MILESTONES:
        call("notify.send", task=f"n-{milestone}", ticket_number="AS-20260302-00001", milestone=milestone,
             customer=customer, data=data)
    rows = sent(database, "AS-20260302-00001")
    assert [r.milestone for r in rows] == MILESTONES and {r.channel for r in rows} == {channel}
    # Then each link in them is absolute on the public address and opens a customer's page
    for row in rows:
        text = f"{row.subject}\n{row.body}"
        assert "/tickets/" not in text and "/tasks/" not in text, f"{row.template} links a staff page"
        for link in links_in(text):
            parts = urlsplit(link)
            assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:5000", f"{row.template}: {link}"
            assert CUSTOMER_PAGES.match(parts.path), f"{row.template} links {parts.path}, not a customer page"


@pytest.mark.parametrize(("milestone", "needs"), [
    ("quote", ("/service/respond/", "/quote", "/service/status/")),
    ("reminder", ("/service/respond/",)),
    ("repaired", ("/service/respond/",)),
    ("survey", ("/s/",)),
    ("received", ("/service/status/",)),
    ("reply", ("/service/status/",)),
])
@pytest.mark.parametrize("channel", ["email", "sms", "wechat"])
def test_a_message_that_asks_something_links_the_page_that_answers_it(call, database, milestone, needs, channel):
    data = {**DATA, "survey_url": "http://127.0.0.1:5000/s/token"}
    call("notify.send", task="n", ticket_number="AS-20260302-00001", milestone=milestone,
         customer={**CUSTOMER, **REACHED_BY[channel]}, data=data)
    [row] = sent(database, "AS-20260302-00001")
    paths = [urlsplit(link).path for link in links_in(row.body)]
    for need in needs if channel != "sms" else needs[:1]:  # one link in a text message: the answer
        assert any(need in path for path in paths), f"{row.template} has no {need} link: {row.body}"


def test_a_bundle_that_still_shows_the_quote_s_document_url_links_the_customer_s_quote_page(call, database):
    # Given a running instance of an older bundle whose quote template shows data.document_url
    call.deployment_id = _deploy_old_quote_template(database)
    # When its quote message is sent
    call("notify.send", task="n", ticket_number="AS-20260302-00001", milestone="quote", customer=CUSTOMER,
         data=QUOTE)
    # Then the link is the customer's view of the quote, not the staff page
    [row] = sent(database, "AS-20260302-00001")
    assert re.fullmatch(r"Quote: http://127\.0\.0\.1:5000/service/respond/[\w.-]+/quote\?lang=zh", row.body)


def _deploy_old_quote_template(database) -> int:
    from pathlib import Path

    from engine.bundle import Bundle
    from engine.deploy import deploy

    fixtures = Path(__file__).parent / "fixtures"
    files = {name: (fixtures / name).read_bytes() for name in ("service_journey.bpmn", "messages.json")}
    files["templates/notify/quote.sms.en.j2"] = b"Quote: {{ data.document_url }}"
    with database.transaction() as session:
        return deploy(session, Bundle("service_journey", files), "owner").deployment_id


def test_the_public_address_is_the_admin_s_then_the_environment_s_then_the_demo_s(database, monkeypatch):
    monkeypatch.delenv("AFTERSALES_PUBLIC_URL", raising=False)
    monkeypatch.delenv("AFTERSALES_BASE_URL", raising=False)
    with database.transaction() as session:
        assert public_url(session) == "http://127.0.0.1:5000"
        monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.example.cn/")
        assert public_url(session) == "https://service.example.cn"
        set_setting(session, PUBLIC_URL, "https://kefu.example.cn/aftersales", "admin")
        assert public_url(session) == "https://kefu.example.cn/aftersales"


def test_the_survey_link_starts_with_the_public_address_and_names_the_customer_s_language(call, monkeypatch):
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.example.cn")
    url = call("survey.invite", task="i", ticket_number="AS-20260302-00001", customer=CUSTOMER)["survey_url"]
    assert re.fullmatch(r"https://service\.example\.cn/s/[\w.-]+\?lang=zh", url)


@pytest.mark.parametrize("value", ["service.example.cn", "ftp://service.example.cn", "https://", "https://a b.cn",
                                   "https://service.example.cn/?x=1", "javascript:alert(1)", "",
                                   "https://user:secret@service.example.cn", "https://service.example.cn:99999"])
def test_a_public_address_that_is_not_a_web_address_is_refused_on_its_field(value):
    with pytest.raises(FormValidationError) as info:
        check_public_url(value)
    [problem] = info.value.errors
    assert problem.field == "public_url" and "is not a web address like 'https://service.example.cn'" in problem.message


def test_a_public_address_is_kept_without_its_trailing_slash():
    assert check_public_url(" https://service.example.cn/ ") == "https://service.example.cn"
    assert check_public_url("http://10.0.0.5:8080/aftersales/") == "http://10.0.0.5:8080/aftersales"


@pytest.mark.parametrize("channel", ["email", "sms", "wechat"])
def test_an_answer_that_solved_the_problem_carries_the_link_that_confirms_it(call, database, channel):
    call("notify.send", task="n", ticket_number="AS-20260302-00001", milestone="reply",
         customer={**CUSTOMER, **REACHED_BY[channel]}, data={"text": DATA["text"], "asks": "customer_confirmation"})
    [row] = sent(database, "AS-20260302-00001")
    assert DATA["text"] in row.body
    assert any(urlsplit(link).path.startswith("/service/respond/") for link in links_in(row.body)), row.body


def test_a_message_asking_for_an_answer_the_customer_cannot_give_is_refused_on_data_asks(call, database):
    with pytest.raises(HandlerError, match="data.asks names the answer the message asks for, one of "
                                           "quote_response, customer_confirmation"):
        call("notify.send", task="n", ticket_number="AS-20260302-00001", milestone="reply", customer=CUSTOMER,
             data={"text": DATA["text"], "asks": "customer_cancel"})
    assert sent(database, "AS-20260302-00001") == []


@pytest.mark.parametrize("path", sorted(p for folder in ("message", "rma", "notify")
                                        for p in (TEMPLATES / folder).glob("*.j2")), ids=lambda p: p.name)
def test_no_template_for_customers_writes_a_path_of_its_own(path):
    # every link a customer template shows comes from a placeholder (links.*, status_link, survey_url)
    words = re.sub(r"{{.*?}}|{%.*?%}", " ", path.read_text(encoding="utf-8"), flags=re.S)
    assert not BARE_PATH.search(words) and "://" not in words, f"{path.name} writes a link of its own"


def test_without_a_configured_key_links_are_signed_with_the_installation_s_own_key(database, monkeypatch):
    from engine.models import AuditEvent
    from handlers import customer_links

    monkeypatch.delenv("AFTERSALES_SECRET_KEY", raising=False)
    monkeypatch.setattr(customer_links, "_KEYS", {})
    # Given an installation without AFTERSALES_SECRET_KEY: the first link makes its key
    with database.transaction() as session:
        first = customer_links.secret_key(session)
    # When another process (nothing remembered) signs or checks a link
    monkeypatch.setattr(customer_links, "_KEYS", {})
    checker = customer_links.checker(database)
    # Then it uses the same key, a random one, not the development key in the source, and no audit holds it
    assert checker is not None and checker.secret_keys == [first.encode()]
    assert first != customer_links.DEV_SECRET and len(first) >= 40
    with database.transaction(write=False) as session:
        assert not any(first in str(e.data) for e in session.scalars(select(AuditEvent)))
