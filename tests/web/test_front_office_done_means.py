"""Issue 18's *Done means*, walked once in Chromium, in Chinese and in English.

A customer on a 390 px phone asks for a repair on the public form (a purchase date in the future
is refused on its field) and gets a ticket number at once. On a desktop the agent triages that
ticket, attaches a photo (a 30 MB file and a program posing as a photo are refused on the file
field), adds an internal note and messages the customer; the supervisor assigns a technician by
hand (an unknown technician and an appointment that ends before it starts are refused on their
fields); after the technician recorded parts and hours on site the agent finds them pre-filled in
the solution (an unknown part is refused on its row) and proposes goodwill; the supervisor
approves; the customer's status page, answer link and quote document show the reduced amount.
Once the ticket is closed, QA reads its whole record and scores it. Every refusal is checked in
the database and the audit trail, not only on the screen. Steps outside the front office (the
technician on site, the repair, the customer's survey) are driven through the engine.
Screenshots: ``test-artifacts/screenshots/done-means-{lang}-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.identity import Actor
from engine.models import AuditEvent, Instance, WorkItem
from handlers.attachments import Attachment
from handlers.dispatch import Assignment, Technician
from handlers.outbox import Outbox
from handlers.quote import Quote
from handlers.ticket_notes import TicketActivity
from handlers.ticketing import Ticket
from handlers.values import business_timezone
from tests.conftest import PROCESSES
from tests.process.driver import Case, Desk
from tests.process.test_journey_intake import first_ticket_day
from tests.web.live import chromium, live_site, shot, sign_in
from tests.web.test_form_catalogue_browser import UNKNOWN
from tests.web.test_ticket_workspace_browser import PHOTO, PROGRAM, TEXT

pytestmark = pytest.mark.browser
USERS = {"ann": ["agent"], "sue": ["supervisor"], "quinn": ["qa"], "tech.wang": ["technician"],
         "wes": ["warehouse"]}
STAFF = {role: Actor(name, frozenset(roles)) for name, roles in USERS.items() for role in roles}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 860}
LOCALE = {"zh": "zh-CN", "en": "en-US"}
MOTOR = [{"sku": "WM-MOTOR-INV", "quantity": 1}]
SCORES = {"response": "5", "diagnosis": "4", "communication": "4", "documentation": "5", "overall": "4"}
NOT_IN_CATALOGUE = {"en": "Not in the catalogue: choose one of the options.", "zh": "目录中没有此项，请从选项中选择。"}
SAY = {
    "en": {"future": "The purchase date cannot be in the future.", "thanks": "Thank you, we have your request.",
           "end": "Must be after “From”.", "words": "The washer stops mid-wash and the drum will not turn",
           "note": "Customer asks for a visit after 14:00", "message": "We will send a technician this week.",
           "goodwill": "Goodwill (50 %)", "skill": "washing machine", "no_proof": "no proof of purchase",
           "covered": "of which {covered} is covered for you", "system": "System"},
    "zh": {"future": "购买日期不能晚于今天。", "thanks": "谢谢，我们已收到您的请求。",
           "end": "必须晚于 “开始时间”。", "words": "洗衣机洗到一半停机，滚筒不转",
           "note": "客户希望下午两点以后上门", "message": "本周内安排技术员上门。", "goodwill": "商誉优惠（50%）",
           "skill": "洗衣机", "no_proof": "无购买凭证", "covered": "其中 {covered} 由我们承担", "system": "系统"},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template) -> Iterator[tuple[str, Any]]:
    """The real processes and catalogue served on loopback once for the module's walks."""
    from werkzeug.security import generate_password_hash

    with pytest.MonkeyPatch.context() as patch:  # cheap test passwords, as the per-test fixture does
        patch.setattr("engine.identity.generate_password_hash",
                      lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
        with live_site(tmp_path_factory.mktemp("done-means"), sqlite_template, [PROCESSES], USERS,
                       catalogue=PROCESSES / "data") as served:
            yield served


def trail(services: Any, number: str) -> dict[str, Any]:
    """What a refused input must leave alone: the ticket's instance, tasks, audit trail, files, notes, visits, mail."""
    with services.db.transaction(write=False) as s:
        count = lambda model, *where: s.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        instance = s.scalars(select(Instance).where(Instance.business_key == number)).one()
        return {"version": instance.version, "audit": count(AuditEvent, AuditEvent.instance_id == instance.id),
                "tasks": sorted((w.element_id, w.assignee or "") for w in s.scalars(
                    select(WorkItem).where(WorkItem.business_key == number))),
                "files": count(Attachment, Attachment.ticket_number == number),
                "activity": count(TicketActivity, TicketActivity.ticket_number == number),
                "visits": count(Assignment, Assignment.ticket_number == number),
                "quotes": count(Quote, Quote.ticket_number == number),
                "outbox": count(Outbox, Outbox.ticket_number == number), "tickets": count(Ticket)}


@contextmanager
def front_office(lang: str) -> Iterator[Callable[[dict[str, int]], Any]]:
    """Yield a maker of pages, each in its own browser context (one person, own cookies) in ``lang``."""
    opened: list[Any] = []
    with chromium(LOCALE[lang]) as context:
        def person(size: dict[str, int]) -> Any:
            own = context.browser.new_context(locale=LOCALE[lang], viewport=size, is_mobile=size == PHONE,
                                              has_touch=size == PHONE)
            own.set_default_timeout(15_000)
            opened.append(own)
            return own.new_page()
        try:
            yield person
        finally:
            for own in opened:
                own.close()


def staff_page(person: Callable[[dict[str, int]], Any], base: str, user: str, lang: str) -> Any:
    """A desktop page signed in as ``user``, in ``lang``."""
    page = person(DESKTOP)
    sign_in(page, base, user)
    page.goto(f"{base}/lang/{lang}?next=/tasks")
    return page


def open_task_of(page: Any, base: str, number: str) -> None:
    """Open the ticket's task from the tasklist, as the person would find it."""
    page.goto(f"{base}/tasks?tab=group")
    row = page.locator("table.tasklist tbody tr", has_text=number)
    if row.count() == 0:
        page.goto(f"{base}/tasks")
        row = page.locator("table.tasklist tbody tr", has_text=number)
    row.first.locator("td.col-name a").click()
    page.wait_for_load_state()
    assert number in page.locator(".pagehead").inner_text()


def submit_task(page: Any) -> None:
    page.locator("form.taskform button[type=submit]").last.click()
    page.wait_for_load_state()


def said(page: Any, error: str, lang: str) -> str:
    """Return the error shown on a field, checking it is in the page's language (no English on the Chinese walk)."""
    text = page.locator(error).inner_text()
    assert text and (lang == "en" or re.search(r"[\u4e00-\u9fff]", text)), text
    if lang == "zh":
        assert not re.search(r"\b(is|the|not|in|of)\b", text), f"English in a Chinese error: {text}"
    return text


def fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def services_count(services: Any, model: Any) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_front_office_does_its_whole_job_in_the_browser(site, clock, tmp_path, lang):
    base, services = site
    say, t = SAY[lang], TEXT[lang]
    # Given a day whose first ticket QA samples (another day per language), and the east washer
    # technicians on leave for the next days, so the visit waits for a supervisor's assignment
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    day = first_ticket_day(start, sampled=True, rate=0.2)
    if lang == "zh":
        day = first_ticket_day(day + timedelta(days=1), sampled=True, rate=0.2)
    clock.set(day)
    local_day = day.astimezone(business_timezone()).date()
    away = [{"from": (local_day - timedelta(days=1)).isoformat(), "to": (local_day + timedelta(days=1)).isoformat()}]
    with services.db.transaction() as s:
        for tech in s.scalars(select(Technician).where(Technician.region == "east")):
            if "washing_machine" in tech.skills:
                tech.leave = away
    desk = Desk(services.db, services.runtime, clock, STAFF)
    visit_day = (local_day + timedelta(days=3)).isoformat()

    with front_office(lang) as person:
        # --- the customer, on a phone: a future purchase date is refused, then the number at once
        customer = person(PHONE)
        customer.goto(f"{base}/lang/{lang}?next=/service/request")
        customer.fill("[name='customer.name']", "Zhou Xun")
        customer.fill("[name='customer.email']", f"zhou.{lang}@example.com")
        customer.fill("[name='customer.phone']", "139 0000 1234" if lang == "zh" else "139 0000 5678")
        customer.select_option("[name='product.model']", "WM-F80")
        customer.fill("[name='product.serial_number']", f"WMF80-DONE-{lang.upper()}")
        customer.fill("[name='product.purchase_date']", "2099-01-01")
        customer.fill("[name='fault.description']", say["words"])
        opened_before = (services_count(services, Ticket), services_count(services, Instance))
        customer.click("button.primary")
        assert customer.locator("#f-product-purchase_date-error").inner_text() == say["future"]
        assert customer.input_value("[name='fault.description']") == say["words"]
        assert (services_count(services, Ticket), services_count(services, Instance)) == opened_before  # none opened
        shot(customer, f"done-means-{lang}-01-customer-future-date")
        customer.fill("[name='product.purchase_date']", "2021-05-01")  # out of warranty
        customer.click("button.primary")
        assert customer.locator("h1").inner_text() == say["thanks"]
        number = customer.locator("#ticket-number").inner_text()
        assert number == f"AS-{local_day:%Y%m%d}-00001"
        assert fits(customer)
        shot(customer, f"done-means-{lang}-02-customer-number")
        customer.click("#status-link")
        status_url = customer.url
        assert number in customer.locator("h1").inner_text()
        case = Case(desk)
        case.instance_id = desk.read(lambda s: s.scalars(select(Instance.id).where(
            Instance.business_key == number)).one())

        # --- the agent triages the ticket
        agent = staff_page(person, base, "ann", lang)
        open_task_of(agent, base, number)
        assert agent.input_value("[name='customer.name']") == "Zhou Xun"
        agent.check("input[name='customer.tier'][value=normal]")
        agent.select_option("[name='customer.region']", "east")
        agent.check("input[name='fault.category'][value=hardware]")
        shot(agent, f"done-means-{lang}-03-agent-triage")
        submit_task(agent)
        assert case.ready() == ["respond_to_customer"]

        # --- on the ticket page: a photo, refused uploads, an internal note, a message to the customer
        agent.goto(f"{base}/tickets/{number}")
        agent.set_input_files("#ws-file", files=[{"name": "drum.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])
        agent.click(f"form.ws-upload button:has-text('{t['attach']}')")
        agent.locator("ul.files a:has-text('drum.jpg')").wait_for()
        before = trail(services, number)
        assert before["files"] == 1
        huge = tmp_path / "huge.jpg"
        huge.write_bytes(PHOTO + b"\x00" * (30 * 1024 * 1024))
        agent.set_input_files("#ws-file", files=[str(huge)])
        agent.click(f"form.ws-upload button:has-text('{t['attach']}')")
        assert t["too_big"] in agent.locator("#err-file").inner_text()
        assert agent.locator("#ws-file").get_attribute("aria-invalid") == "true"
        shot(agent, f"done-means-{lang}-04-agent-30mb-refused")
        assert trail(services, number) == before
        agent.set_input_files("#ws-file", files=[{"name": "setup.jpg", "mimeType": "image/jpeg", "buffer": PROGRAM}])
        agent.click(f"form.ws-upload button:has-text('{t['attach']}')")
        assert t["refused"] in agent.locator("#err-file").inner_text()
        shot(agent, f"done-means-{lang}-05-agent-program-refused")
        assert trail(services, number) == before
        agent.goto(f"{base}/tickets/{number}")
        agent.click(f"details.ws-form > summary:has-text('{t['note']}')")
        agent.fill("#ws-note", say["note"])
        agent.click(f"#note button:has-text('{t['add_note']}')")
        agent.click(f"details.ws-form > summary:has-text('{t['message']}')")
        picker = agent.locator("#ws-template")
        if picker.count():  # a template from the bundle, filled from the ticket in the customer's language, edited
            picker.select_option(index=1)
            agent.wait_for_function("document.querySelector('#ws-body').value.length > 0")
            agent.fill("#ws-body", agent.input_value("#ws-body") + "\n" + say["message"])
        else:
            agent.fill("#ws-body", say["message"])
        shot(agent, f"done-means-{lang}-06-agent-message")
        agent.click(f"#message button:has-text('{t['send']}')")
        agent.wait_for_url(f"{base}/tickets/{number}#message")
        timeline = agent.locator("#timeline").inner_text()
        assert say["note"] in timeline and say["message"] in timeline
        assert say["system"] in agent.locator("#timeline .who").all_inner_texts()
        shot(agent, f"done-means-{lang}-07-agent-ticket")
        after_work = trail(services, number)
        assert after_work["activity"] > before["activity"] and after_work["outbox"] > before["outbox"]

        # --- the agent answers and tries remote help; the visit waits for the supervisor
        open_task_of(agent, base, number)
        assert not agent.is_checked("input[name=resolved_now]")  # not solved on this call
        agent.fill("[name=answer]", "We will look at the washer." if lang == "en" else "我们会检查洗衣机。")
        submit_task(agent)
        open_task_of(agent, base, number)
        agent.check("input[name=outcome][value=unresolved]")
        agent.fill("[name=finding]", "Drum blocked, no error code" if lang == "en" else "滚筒卡住，无故障码")
        submit_task(agent)
        assert case.ready() == ["assign_technician_manually"]

        # --- the supervisor: an unknown technician and an end before the start are refused
        supervisor = staff_page(person, base, "sue", lang)
        open_task_of(supervisor, base, number)
        assert say["skill"] in supervisor.locator(".instructions").inner_text()  # the skill nobody free has
        before = trail(services, number)
        supervisor.evaluate(UNKNOWN, ["technician", "tech.nobody"])
        supervisor.fill("input[name=name]", "Nobody")
        supervisor.fill("input[name='appointment.start']", f"{visit_day}T12:00")
        supervisor.fill("input[name='appointment.end']", f"{visit_day}T10:00")
        supervisor.fill("[name=reason]", "The customer asked for the afternoon")
        submit_task(supervisor)
        assert said(supervisor, "#f-technician-error", lang) == NOT_IN_CATALOGUE[lang]
        assert said(supervisor, "#f-appointment-end-error", lang) == say["end"]
        assert supervisor.input_value("input[name='appointment.end']") == f"{visit_day}T10:00"
        shot(supervisor, f"done-means-{lang}-08-supervisor-refused")
        assert trail(services, number) == before
        supervisor.select_option("select[name=technician]", "tech.wang")
        supervisor.fill("input[name=name]", "Wang Lei")
        supervisor.fill("input[name='appointment.start']", f"{visit_day}T10:00")
        supervisor.fill("input[name='appointment.end']", f"{visit_day}T12:00")
        submit_task(supervisor)
        assert case.ready() == ["inspect_on_site"]
        with services.db.transaction() as s:  # the technicians are back from leave
            for tech in s.scalars(select(Technician).where(Technician.region == "east")):
                tech.leave = []

        # --- on site (outside the front office): the technician records the motor and 2 hours
        case.inspect_on_site(MOTOR, hours=2.0)
        assert case.ready() == ["propose_solution"]

        # --- the agent finds them pre-filled; an unknown part is refused on its row
        open_task_of(agent, base, number)
        assert say["no_proof"] in agent.locator(".instructions").inner_text()  # why the warranty does not pay
        sku = agent.locator('select[name="parts.0.sku"]')
        assert sku.input_value() == "WM-MOTOR-INV"
        assert float(agent.locator('input[name="labour_hours"]').input_value()) == 2.0
        shot(agent, f"done-means-{lang}-09-agent-prefilled")
        before = trail(services, number)
        agent.evaluate(UNKNOWN, ["parts.0.sku", "WM-NOPE-99"])
        agent.check("input[name=solution][value=repair]")
        agent.check("input[name=route][value=field]")
        submit_task(agent)
        assert said(agent, "#f-parts-0-sku-error", lang) == NOT_IN_CATALOGUE[lang]
        shot(agent, f"done-means-{lang}-10-agent-unknown-part")
        assert trail(services, number) == before
        # then goodwill: half of what the customer would pay
        agent.locator('select[name="parts.0.sku"]').select_option("WM-MOTOR-INV")
        agent.check("input[name=goodwill]")
        agent.check("input[name=concession_kind][value=share]")
        agent.fill("[name=concession_value]", "50")
        agent.fill("[name=justification]", "Loyal customer, the motor failed early")
        shot(agent, f"done-means-{lang}-11-agent-goodwill")
        submit_task(agent)
        assert case.ready() == ["review_quote"]

        # --- the supervisor approves
        open_task_of(supervisor, base, number)
        supervisor.check("input[name=decision][value=approve]")
        shot(supervisor, f"done-means-{lang}-12-supervisor-approve")
        submit_task(supervisor)
        quote = case.data()["quote"]
        pays = Decimal(quote["customer_pays"])
        assert pays == Decimal(quote["total"]) / 2

        # --- the customer sees the reduced amount on the status page, the answer link and the document
        customer.goto(status_url)
        price = customer.locator("#price").inner_text()
        assert f"{pays}" in price and say["covered"].format(covered=Decimal(quote["total"]) - pays) in price
        assert fits(customer)
        shot(customer, f"done-means-{lang}-13-customer-status-price")
        customer.locator(".actions-needed a").first.click()
        answer = customer.locator("body").inner_text()
        assert say["goodwill"] in answer and f"-{pays}" in answer
        assert fits(customer)
        shot(customer, f"done-means-{lang}-14-customer-quote")
        answer_url = customer.url
        customer.goto(f"{answer_url}/quote")
        assert f"−{pays}" in customer.locator("body").inner_text()
        shot(customer, f"done-means-{lang}-15-customer-quote-document")
        customer.goto(answer_url)
        customer.check("input[name=accepted][value=true]")
        shot(customer, f"done-means-{lang}-16-customer-accepts")
        customer.locator("form button[type=submit]").last.click()
        customer.wait_for_load_state()
        shot(customer, f"done-means-{lang}-17-customer-accepted")

        # --- outside the front office: repair, inspection, the customer's confirmation and survey
        case.repair(MOTOR, work_done="Replaced the inverter motor")
        case.inspect_repair()
        case.confirm(True).answer_survey()
        case.complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
        assert case.lanes() == {"review_ticket_quality": "qa"}

        # --- QA reads the whole record and scores the ticket
        qa = staff_page(person, base, "quinn", lang)
        qa.goto(f"{base}/tickets/{number}")
        record = qa.locator("body").inner_text()
        for written in (say["note"], say["message"], "Drain pump jammed", "Loyal customer, the motor failed early",
                        "Replaced the inverter motor"):
            assert written in record, written
        shot(qa, f"done-means-{lang}-18-qa-record")
        open_task_of(qa, base, number)
        for name, value in SCORES.items():
            qa.check(f"input[type=radio][name={name}][value='{value}']")
        qa.fill("[name=comment]", "Goodwill well argued")
        shot(qa, f"done-means-{lang}-19-qa-review")
        submit_task(qa)
        assert qa.locator(".field-error").count() == 0
    assert case.status == "completed"
    assert case.data()["qa_review"]["overall"] == 4

