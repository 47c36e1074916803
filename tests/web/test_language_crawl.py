"""Every page each role can reach speaks one language: Chinese when switched to Chinese, English
in English (issue 14's done-means crawler).

One live site per module holds the real bundle and catalogue, with tickets moved to every user
task of the bundle (so a task page of every form is visited), a ticket waiting for the
customer's quote answer, a root-cause analysis and an incident. For each role (and the
customer) in each language a real Chromium signs in, switches the language, and visits the
role's landing page, every GET route of the app it may open (parameters filled from the desk),
the task page of every form of its lanes, every same-site link it finds on the way (GET only:
no sign-out, downloads, CSV, JSON or language links) and the 404, 403 and 500 pages.

On each page, once scripts have rendered (diagrams, charts), it collects the visible text nodes,
the page title, ``title``/``placeholder``/``aria-label``/``alt`` attributes, button values,
option texts, and the axis labels and legends of the charts (drawn on a canvas, not in the DOM).
What is *data* is left out, precisely:

- any element inside ``translate="no"`` (HTML's own marker for text that must not be
  translated: names people typed, customer and staff names, descriptions, demo data, user
  names, file names, codes), and ``<code>``, ``<pre>``, ``<kbd>``, ``<samp>``;
- in the page title, the texts of the page's ``translate="no"`` elements (a title names the
  ticket or person the page shows);
- bpmn-js's "Powered by bpmn.io" watermark (``.bjs-powered-by``: its licence wants it kept as is);
- a document sent to the customer (the quote) is checked against its own ``<html lang>``, the
  customer's language; every other page must declare the crawl's language;
- any element inside an element whose ``lang`` differs from the page's (e.g. the language
  switch's "中文" on an English page);
- within a text: URLs, e-mail addresses, ticket numbers, and tokens holding a digit, ``_``,
  ``-``, ``.``, ``/``, ``:``, ``@`` or ``#`` (codes, ids, SKUs, model codes, amounts and units
  like "8 h" keep their single letter, which is never a word here).

In Chinese a finding is any remaining ASCII word of two or more letters not in :data:`ALLOWED`
(a run of English words, or a single English word: there is no dictionary to tell "Status"
from a name, so names must be marked as data). In English a finding is any Han character.
The failure lists every finding of the role at once: page, element path, text.
Screenshots of the Chinese crawl: ``test-artifacts/screenshots/crawl/zh/<role>-<page>.png``, one per
page (and status), named by the first role that opened it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select
from werkzeug.security import generate_password_hash

from engine import clock as engine_clock
from engine.config import load_settings
from engine.db import Database
from engine.identity import Actor, create_user
from engine.models import Instance, WorkItem
from engine.runtime import Runtime
from tests.support.states import frozen_clock
from tests.web.live import PASSWORD, SCREENSHOTS, chromium, serving, sign_in

pytestmark = pytest.mark.browser

#: words a Chinese page may show as they are, each with its reason (keep it short and reviewed)
ALLOWED = {
    "BPMN": "the process notation's name, used as is in Chinese",
    "DMN": "the decision-table notation's name, used as is in Chinese",
    "SLA": "the service-level term Chinese service desks use as is",
    "KPI": "the indicator term Chinese reports use as is",
    "CSV": "the file format's name",
    "JSON": "the data format's name",
    "API": "the interface term, as in 'API 密钥'",
    "RMA": "the return-authorisation number's prefix term the warehouse uses",
    "NPS": "the survey score's name (Net Promoter Score), used as is",
    "CSAT": "the survey score's name, used as is",
    "VIP": "the customer tier, used as is in Chinese",
    "SMS": "the channel's name",
    "CNY": "the currency code (a unit)",
    "MB": "a unit",
    "KB": "a unit",
    "UTC": "the time standard's name",
    "SHA": "the hash algorithm's name (SHA-256)",
    "QA": "the quality-assurance team's name, used as is",
    "SKU": "the part-number term the warehouse uses as is (备件编号（SKU）)",
    "WAN": "the router port's name (WAN 口), used as is in Chinese",
    "Ctrl": "the keyboard key's name, as printed on the key",
    "App": "Chinese says 'App' for a phone app",
    "QLED": "a screen technology in product names (55 英寸 4K QLED 电视)",
    "Mesh": "a router technology in product names (Mesh 组网路由器)",
    "zip": "the archive format's name",
    "PDF": "the file format's name",
    "XML": "the file format's name",
    "SMTP": "the mail protocol's name",
    "Maildir": "the mailbox format's name",
    "SpiffWorkflow": "the workflow library's name",
}

ROLES = {  # crawl id → (user name, roles); the customer signs in nowhere
    "agent": ("agent", ["agent"]),
    "technician": ("technician", ["technician"]),
    "warehouse": ("warehouse", ["warehouse"]),
    "supervisor": ("supervisor", ["supervisor"]),
    "qa": ("qa", ["qa"]),
    "owner": ("owner", ["process_owner"]),
    "auditor": ("auditor", ["auditor"]),
    "admin": ("admin", ["admin"]),
    "customer": ("", []),
}
LANGS = ("zh", "en")
#: the crawls that keep a screenshot of every page: the working language's. A full-page screenshot is a
#: quarter of a page visit's CPU (Chromium's included); the English pages are kept by the role walks
#: (test-artifacts/screenshots/*-en.png), and the English crawl still reads every page.
SHOT_LANGS = ("zh",)
#: the pages screenshotted so far in this process (language, signed out, page, status): every role's crawl
#: reads every page it reaches, but a page's picture is kept once, by the first role to open it (the roles'
#: pictures of one page differ in their menus; the Chinese crawl's 729 page visits are of 134 distinct pages)
SHOT: set[tuple[str, bool, str, int]] = set()
SKIP = re.compile(r"/logout|/lang/|/static/|/api/|\.csv|\.json|/download|/attachments/|/trail\.|"
                  r"/export|/crawl-server-error|/healthz|/files/")
#: documents sent to the customer (in the customer's language, declared by their <html lang>)
DOCUMENTS = re.compile(r"/quote(?:/\d+)?$")
MAX_PAGES = 90  # per role and language: the crawl visits each page shape a few times, not every ticket
CODE = r"(?:[^\s]*[0-9_\-./:@#][^\s]*)"
DATA_IN_TEXT = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.-]+|" + CODE)
WORD = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

COLLECT = """() => {
  const lang = (document.documentElement.lang || '').slice(0, 2);
  const skip = 'script, style, noscript, template, code, pre, kbd, samp, [translate=no], .bjs-powered-by';
  const foreign = el => { const l = el.closest('[lang]'); return l && l !== document.documentElement
                                                           && l.lang.slice(0, 2) !== lang; };
  const data = el => el.closest(skip) || foreign(el);
  const seen = el => el.checkVisibility({checkOpacity: false, checkVisibilityCSS: true});
  const path = el => { const parts = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.body && parts.length < 6; e = e.parentElement) {
      let p = e.tagName.toLowerCase();
      if (e.id) p += '#' + e.id; else if (typeof e.className === 'string' && e.className.trim())
        p += '.' + e.className.trim().split(/\\s+/)[0];
      parts.unshift(p);
    }
    return parts.join('>'); };
  let title = document.title;  // a title names data the page shows as data (a ticket, a person)
  for (const el of document.querySelectorAll('[translate=no]'))
    if (el.textContent.trim()) title = title.split(el.textContent.trim()).join(' ');
  const out = [['title', title]];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement, text = n.nodeValue.trim();
    if (!text || !el || data(el) || !seen(el)) continue;
    out.push([path(el), text]);
  }
  for (const el of document.body.querySelectorAll('[title], [placeholder], [aria-label], img[alt], '
                                                   + 'input[type=submit], input[type=button], option')) {
    if (data(el)) continue;
    if (el.tagName === 'OPTION') { const s = el.closest('select');
      if (s && seen(s) && el.text.trim()) out.push([path(el), el.text.trim()]); continue; }
    if (!seen(el)) continue;
    for (const a of ['title', 'placeholder', 'aria-label', 'alt'])
      if (el.getAttribute(a)) out.push([path(el) + '@' + a, el.getAttribute(a)]);
    if (el.tagName === 'INPUT' && el.value) out.push([path(el) + '@value', el.value]);
  }
  for (const el of document.querySelectorAll('canvas')) {  // a chart's axis and legend texts are drawn, not in the DOM
    const chart = window.Chart && window.Chart.getChart(el);
    if (!chart || data(el)) continue;
    for (const label of chart.data.labels || []) out.push([path(el) + '@label', String(label)]);
    for (const set of chart.data.datasets || []) if (set.label) out.push([path(el) + '@legend', set.label]);
  }
  return out;
}"""

#: one round trip per page: its declared language, its texts (COLLECT) and its links
READ = f"""() => ({{lang: document.documentElement.lang, texts: ({COLLECT})(),
                  hrefs: [...document.querySelectorAll('a[href]')].map(e => e.href)}})"""


#: codes no reader should see in either language: a catalogue key whose words are missing (``milestone:sla_warning``,
#: ``alert:…``, ``state:…``) and an engine instance's number where the ticket's belongs (``(instance 136)``,
#: ``（实例 136）``); and, outside a placeholder (an example of a code to type), a code of the bundle or the
#: catalogue (``called_back``, ``reserve_stock``, ``not_cooling``): ids a page shows on purpose are data
#: (``<code>``, ``translate="no"``)
RAW = re.compile(r"(?<![\w/.@-])(?:[a-z]+:)+[a-z][a-z0-9_]*(?![\w/.@-])|\(instance \d+\)|（实例 ?\d+）")
SNAKE = re.compile(r"(?<![\w/.@:-])[a-z]+(?:_[a-z0-9]+)+(?![\w/.@-])")


def offending(text: str, lang: str, codes: bool = True) -> str:
    """Return what of ``text`` is in the wrong language or a raw code ("" when none); ``codes``: snake_case
    codes count too."""
    found = [*RAW.finditer(text), *(SNAKE.finditer(text) if codes else [])]
    raw = " ".join(m.group(0) for m in sorted(found, key=lambda m: m.start()))
    if lang == "en":
        return text if HAN.search(text) or raw else ""
    words = [w for w in WORD.findall(DATA_IN_TEXT.sub(" ", text)) if w not in ALLOWED]
    return " ".join([*words, *([raw] if raw else [])])


@pytest.mark.parametrize(("text", "lang", "found"), [
    ("工单 AS-20260302-00001 已登记", "zh", ""),
    ("型号 WM-F80，8 h，li.na@example.com，https://example.com/x", "zh", ""),
    ("SLA 剩余 2 天", "zh", ""),
    ("Complete task", "zh", "Complete task"),
    ("语言 Status", "zh", "Status"),
    ("Status", "en", ""),
    ("语言 zh", "en", "语言 zh"),
    ("通知：milestone:sla_warning", "zh", "milestone:sla_warning"),
    ("Notification: milestone:sla_breached (email)", "en", "Notification: milestone:sla_breached (email)"),
    ("流程步骤 reserve_stock（实例 136）", "zh", "reserve_stock （实例 136）"),
    ("Action: called_back", "en", "Action: called_back"),
    ("见 https://example.com/a_b 和 li_na@example.com，10:30", "zh", ""),
])
def test_the_checker_tells_wrong_language_from_data(text: str, lang: str, found: str) -> None:
    assert offending(text, lang) == found


# --- the desk: a ticket at every user task ----------------------------------------------------
@dataclass
class Desk:
    """What the crawl fills route parameters from."""

    tasks: dict[str, tuple[str, str]] = field(default_factory=dict)  # form (element) → (task id, role)
    ticket: str = ""
    instance_id: int = 0
    deployment_id: int = 0
    quote_ticket: str = ""


def unique_customer(n: int) -> dict[str, Any]:
    """Changes to the sample intake that make case ``n`` another customer's (no repeat contact)."""
    return {"customer": {"name": f"Li Na {n}", "phone": f"+86 138 0000 {n:04d}",
                         "email": f"li.na{n}@example.com"},
            "product": {"serial_number": f"WMF80-{n:04d}"}}


def drive(database: Database, runtime: Runtime, clock: Any, staff: dict[str, Actor]) -> Desk:
    """Move tickets to every user task of the bundle, one case per task kept waiting there."""
    from handlers.parts import Part, Stock
    from tests.process.driver import PROCESSES, merged
    from tests.process.driver import Desk as Driver
    from tests.process.test_journey_complaint import COMPLAINT
    from tests.process.test_journey_intake import first_ticket_day

    driver = Driver(database, runtime, clock, staff)
    driver.deploy(PROCESSES)
    counter = iter(range(1, 1000))

    def case(**changes: Any) -> Any:
        c = driver.open_case()
        c.register(**merged(unique_customer(next(counter)), changes))
        return c

    motors = [{"sku": "WM-MOTOR-INV", "quantity": 5}]
    usage = {"category": "usage", "symptoms": [], "description": "How do I start the drum cleaning program?"}
    # a sampled day's first ticket: answered at once, confirmed by phone, closed, followed up, reviewed by QA
    clock.set(first_ticket_day(clock.now(), sampled=True, rate=0.2))
    q = case(customer={"tier": "vip"}, urgency="low", impact="low", fault=usage)
    q.respond(resolved=True, answer="Hold Temp and Spin for 3 seconds.").wait(days=3, minutes=1)
    q.complete("record_confirmation", {"solved": True, "via": "phone", "comment": "Works now"})
    q.wait(days=7, minutes=1).complete("follow_up_customer", {"reached": True, "satisfaction": "satisfied"})
    case(urgency="low", impact="low", fault=usage).respond(resolved=True, answer="Hold Temp.").wait(days=3, minutes=1)
    complaint = case(fault=COMPLAINT).respond(resolved=True, answer="I am sorry; a supervisor will call you.")
    complaint.complete("handle_complaint", {"outcome": "settled", "remedy": "Apology and a 200 CNY voucher",
                                            "goodwill_amount": 200, "customer_contacted": True})
    complaint.confirm(True).answer_survey(csat=3, nps=6)
    case(fault=COMPLAINT).respond()
    driver.open_case()
    case(product={"model": "XX-9000"})
    case().message("customer_contact", {"channel": "chat", "fault": {"description": "Any news?"}})
    case().respond()
    case().respond().assist()
    case().respond().assist(skill="dishwasher")
    case().diagnose()
    quote = case(customer={"language": "zh"})  # a Chinese customer's quote: the document is in Chinese
    quote.diagnose().propose()
    case().diagnose(motors).propose(motors)
    case(customer={"region": "south"}).diagnose().propose(route="provider").answer_quote(True)
    centre = case().diagnose().propose(route="repair_centre").answer_quote(True)
    centre.message("device_received", {"condition": "box dented", "received_by": "warehouse"})
    main = case().diagnose().propose().answer_quote(True)
    case().diagnose().propose().answer_quote(True).repair()
    case().diagnose().propose().answer_quote(True).complete("repair_device", {  # a filter nobody reserved
        "work_done": "Replaced the drain pump and the filter", "time_spent_minutes": 75,
        "parts_used": [{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}],
        "unreserved_parts_confirmed": True})
    failed = case().diagnose().propose().answer_quote(True)
    failed.repair().inspect_repair(passed=False).repair(parts_used=[]).inspect_repair(passed=False)
    chased = case().diagnose(motors).propose(motors)
    chased.complete("review_quote", {"decision": "approve"}).answer_quote(True).wait(days=5, minutes=1)
    late = case()
    late.wait_until(late.data()["response_clock"]["warn_at"], minutes=1)
    late.wait_until(late.data()["response_clock"]["due_at"], minutes=1)
    driver.trigger(lambda s: runtime.start(s, "root_cause_analysis", {
        "ticket_number": main.ticket_number, "resolution_hours": 60.0, "target_hours": 48.0, "paused_hours": 2.0,
        "channel": "hotline", "priority": "high", "product_line": "washing_machine",
        "opened_at": "2026-02-20T09:00:00+00:00",
        "resolved_at": "2026-02-23T09:00:00+00:00", "bottlenecks": []}, None, "system"))
    withdrawn = case()
    withdrawn.diagnose([{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}])
    withdrawn.propose([{"sku": "WM-PUMP-01", "quantity": 1}, {"sku": "WM-FILTER-01", "quantity": 1}])

    def withdraw(session: Any) -> None:  # the filter leaves the catalogue before the customer accepts
        session.execute(delete(Stock).where(Stock.sku == "WM-FILTER-01"))
        session.execute(delete(Part).where(Part.sku == "WM-FILTER-01"))
    driver.trigger(withdraw)
    withdrawn.answer_quote(True)

    desk = Desk(ticket=main.ticket_number, instance_id=main.instance_id, quote_ticket=quote.ticket_number)
    with database.transaction(write=False) as s:
        for item in s.scalars(select(WorkItem).order_by(WorkItem.created_at)):
            desk.tasks.setdefault(item.element_id, (item.task_id, item.role))
        desk.deployment_id = s.get(Instance, main.instance_id).deployment_id
    return desk


def user_task_forms() -> set[str]:
    """Return the element ids of every user task of the bundle."""
    from lxml import etree

    from tests.process.driver import PROCESSES

    tag = "{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"
    return {t.get("id") for p in PROCESSES.glob("*.bpmn") for t in etree.parse(str(p)).getroot().iter(tag)}


@pytest.fixture(scope="module")
def clock() -> Iterator[engine_clock.FrozenClock]:
    """One frozen clock for the module's desk and pages (instead of a fresh one per test)."""
    yield from frozen_clock()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
         clock: engine_clock.FrozenClock) -> Iterator[tuple[str, Desk, Any]]:
    """The live site on a desk with a ticket at every user task."""
    import shutil

    from engine.registry import all_handlers
    from web import create_app
    from web.services import Services

    path = tmp_path_factory.mktemp("crawl") / "crawl.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    runtime = Runtime(load_settings(handler_max_attempts=3, handler_backoff_seconds=10))
    all_handlers()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("engine.identity.generate_password_hash",
                   lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
        with db.transaction() as s:
            for username, roles in ROLES.values():
                if username:
                    create_user(s, username, PASSWORD, roles, display_name=username.title())
    staff = {roles[0]: Actor(username, frozenset(roles)) for username, roles in ROLES.values() if username}
    desk = drive(db, runtime, clock, staff)
    app = create_app({"SECRET_KEY": "crawl-test"}, services=Services(load_settings(database_url=db.url), db, runtime))

    @app.get("/crawl-server-error")
    def server_error() -> str:  # the crawl's way to see the 500 page: a view that fails
        raise RuntimeError("the crawl's deliberate failure")

    try:
        with serving(app) as base:
            yield base, desk, app
    finally:
        db.dispose()


def test_the_desk_has_a_ticket_at_every_user_task(site: tuple[str, Desk, Any]) -> None:
    _, desk, _ = site
    assert sorted(user_task_forms() - set(desk.tasks)) == []


# --- the crawl ------------------------------------------------------------------------------
def seeds(app: Any, desk: Desk, role: str) -> list[str]:
    """Return the role's starting pages: every GET route whose parameters the desk fills."""
    from web import tokens
    from web.selfservice import STATUS

    with app.test_request_context():
        status_token = tokens.sign(desk.ticket, STATUS)
        quote_token = tokens.sign(desk.quote_ticket, "quote_response")
    values = {"key": desk.ticket, "instance_id": desk.instance_id, "deployment_id": desk.deployment_id,
              "process_id": "after_sales", "username": "technician"}
    values_of = {"dashboard.definition": {"key": "tickets"}}  # a rule whose parameter means something else
    if role == "customer":
        return ["/service/", "/service/request", "/service/status", f"/service/status/{status_token}",
                f"/service/respond/{quote_token}", f"/service/respond/{quote_token}/quote", "/login",
                "/service/no-such-page"]
    urls = ["/", "/no-such-page", "/crawl-server-error", f"/audit/verify?instance={desk.instance_id}",
            "/tasks?tab=mine", "/tasks?tab=group", "/owner/incidents?status=all"]
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or SKIP.search(rule.rule) or rule.rule.startswith(("/service", "/s/")):
            continue
        filled = {**values, **values_of.get(rule.endpoint, {})}
        if any(arg not in filled for arg in rule.arguments):
            continue
        urls.append(re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, f=filled: str(f[m.group(1)]), rule.rule))
    urls += [f"/tasks/{task_id}" for task_id, _ in desk.tasks.values()]
    return urls


def shape(url: str) -> str:
    """Return a URL's shape: its path and query with numbers, ids and tokens replaced."""
    parts = urlsplit(url)
    if parts.path.startswith("/tasks/"):
        return url  # every task page is its own form
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|AS-\d{8}-\d{5}|\d+|[\w-]{40,}", "N", parts.path)
    query = re.sub(r"=[^&]*", "=", parts.query)
    return f"{path}?{query}"


@dataclass
class Crawl:
    """One role's walk in one language: what it visited and what it found."""

    base: str
    role: str
    lang: str
    findings: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    shapes: dict[str, int] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # url → screenshot name (a task page by its form)
    in_flight: set[Any] = field(default_factory=set)  # the page's requests not yet answered

    def watch(self, page: Any) -> None:
        """Keep :attr:`in_flight` up to date from the page's network events."""
        page.on("request", lambda request: self.in_flight.add(request))
        page.on("requestfinished", lambda request: self.in_flight.discard(request))
        page.on("requestfailed", lambda request: self.in_flight.discard(request))

    def settle(self, page: Any, quiet_ms: int = 40, timeout_ms: int = 15_000) -> None:
        """Wait until no request of the page has been in flight for ``quiet_ms``.

        Playwright's ``networkidle`` is the same condition with a fixed 500 ms window; the
        page's scripts start their fetches before ``load`` and render when the answers come,
        which the shorter window still waits for (and ``data-ready`` below for the diagrams).
        The window was 100 ms: two fifths of a page's visit was that wait (85 pages of the
        admin's crawl: 8.9 s of 21 s); at 40 ms the crawl finds and shows the same.
        """
        quiet = waited = 0
        while quiet < quiet_ms:
            page.wait_for_timeout(20)  # also lets Playwright deliver the network events
            waited += 20
            quiet = 0 if self.in_flight else quiet + 20
            if waited > timeout_ms:
                raise AssertionError(f"{page.url}: requests still in flight after {timeout_ms} ms: "
                                     f"{[r.url for r in self.in_flight]}")

    def wanted(self, url: str) -> bool:
        """Tell whether the crawl should open ``url`` (same site, GET-safe, a shape not seen enough)."""
        parts = urlsplit(url)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != self.base:
            return False
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        return (local not in self.visited and not SKIP.search(local) and self.shapes.get(shape(local), 0) < 2
                and len(self.visited) < MAX_PAGES)

    def visit(self, page: Any, url: str) -> list[str]:
        """Open ``url``, check its texts, screenshot it; return the same-site links it shows."""
        self.visited.add(url)
        self.shapes[shape(url)] = self.shapes.get(shape(url), 0) + 1
        self.in_flight.clear()  # what the previous page left is aborted by the navigation
        response = page.goto(self.base + url)
        status = response.status if response else 0
        if response and "text/html" not in response.headers.get("content-type", ""):
            return []  # a script's JSON or a file: no page to read
        if status >= 400:
            if status in self.statuses:
                return []  # one error page of each status is enough
            self.statuses.add(status)
        self.settle(page)
        for ready in ("#trace", "#heatmap", "[data-ready]"):
            if page.locator(ready).count():
                page.wait_for_function(f"() => document.querySelector('{ready}').dataset.ready !== 'false'")
                break
        shot = (self.lang, self.role == "customer", url, status)  # a customer sees the public pages signed out
        if self.lang in SHOT_LANGS and shot not in SHOT:
            SHOT.add(shot)
            name = self.names.get(url) or re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-")[:90] or "home"
            target = SCREENSHOTS / "crawl" / self.lang / f"{self.role}-{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
        seen = page.evaluate(READ)
        lang = (seen["lang"] or "")[:2]
        expected = self.lang
        if DOCUMENTS.search(url) and lang in LANGS:
            expected = lang  # a document sent to the customer is in the customer's language, whoever reads it
        elif lang != self.lang:
            self.findings.append(f"{url} [{status}] html@lang: {lang!r}")
        for where, text in seen["texts"]:
            found = offending(text, expected, codes=not where.endswith("@placeholder"))
            if found:
                self.findings.append(f"{url} [{status}] {where}: {text[:160]!r}")
        return [h.split("#")[0] for h in seen["hrefs"]]

    def walk(self, page: Any, start: list[str]) -> None:
        """Visit ``start`` then every wanted link, breadth first."""
        queue = list(dict.fromkeys(start))
        while queue:
            url = queue.pop(0)
            if not self.wanted(url):
                continue
            parts = urlsplit(url)
            url = parts.path + (f"?{parts.query}" if parts.query else "")
            for link in self.visit(page, url):
                if self.wanted(link):
                    queue.append(link)


def crawl_as(site: tuple[str, Desk, Any], role: str, lang: str) -> None:
    """Walk the site as ``role`` in ``lang``; fail listing every text not in ``lang``."""
    base, desk, app = site
    crawl = Crawl(base, role, lang, names={f"/tasks/{task_id}": f"task-{form}"
                                           for form, (task_id, _) in desk.tasks.items()})
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        crawl.watch(page)
        username = ROLES[role][0]
        if username:
            sign_in(page, base, username)
            landing = urlsplit(page.url).path
        else:
            landing = "/service/"
        page.goto(f"{base}/lang/{lang}?next={landing}")
        urls = [landing, *seeds(app, desk, role)]
        if username:  # another role's page shows the 403 page
            urls.append("/admin/users" if role != "admin" else "/audit/instances")
        crawl.walk(page, urls)
    assert crawl.findings == [], (f"{len(crawl.findings)} texts of {len(crawl.visited)} pages not in "
                                  f"{lang}:\n" + "\n".join(crawl.findings))


# One class per language: pytest-xdist (--dist loadscope) hands each class to a worker of
# its own, so the two languages' crawls run side by side (each worker builds the site once).
class TestChinese:
    """Every page each role reaches, switched to Chinese, reads in Chinese."""

    @pytest.mark.parametrize("role", list(ROLES))
    def test_every_page_the_role_reaches_reads_in_chinese(self, site: tuple[str, Desk, Any], role: str) -> None:
        crawl_as(site, role, "zh")


class TestEnglish:
    """Every page each role reaches, switched to English, reads in English."""

    @pytest.mark.parametrize("role", list(ROLES))
    def test_every_page_the_role_reaches_reads_in_english(self, site: tuple[str, Desk, Any], role: str) -> None:
        crawl_as(site, role, "en")
