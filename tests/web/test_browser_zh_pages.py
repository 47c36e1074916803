"""The auditor's, process owner's and admin's pages read fully in Chinese on a Chinese page.

Signed in as auditor, owner and admin with a Chinese browser, a real Chromium walks the
API keys page, the audit instances, trace and verification pages, the owner's definitions,
deployment, incidents and undelivered-messages pages, the sign-in page and the 403/404 error
pages. The visible text (``inner_text('body')``) keeps none of the English words those pages
used to show; data values (ticket numbers, ids, user names, process ids, file names) may stay.
The same walk in English still shows the English. Screenshots:
``test-artifacts/screenshots/zhpages-*.png``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import tests.handlers_for_tests as th
from engine.deploy import deploy
from engine.identity import actor_for
from engine.models import Instance, WorkItem
from tests.bpmn_builder import service_chain
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"auditor": ["auditor"], "owner": ["process_owner", "supervisor"], "admin": ["admin"]}

#: English words and phrases these pages showed before they were translated
ENGLISH = ["Trace of", "Verify", "audit trail", "Audit timeline", "completed", "flow taken", "token", "running",
           "failed", "Element", "Data", "Export", "Personal data", "Instances", "Instance", "Filter", "Any ",
           "Status", "Stage", "Priority", "Version", "Process", "Ticket", "Started", "Ended", "Events", "Now at",
           "Definitions", "Deploy", "Incidents", "Undelivered", "Content hash", "Deployed", "Running", "All files",
           "Diagram", "heatmap", "Files", "Path", "Kind", "Bytes", "Back to", "Attempts", "Retry", "Since",
           "Unresolved", "Error", "Task", "API keys", "Integration", "Scopes", "Acts with roles", "Created",
           "Last used", "State", "Revoke", "New key", "Create key", "active", "Intact", "hash", "stream",
           "Not found", "Not allowed", "requested", "permission", "Sign in", "Password", "User name", "Customer",
           "Who", "What", "Changed", "When", "Reached", "Done", "Waited", "Worked", "Run ", "Form as submitted",
           "before", "after", "open", "Loading", "Page", "No incidents", "Nothing", "Reason", "Mask", "Show"]
#: data the pages show as they are: process, element and file ids, user and key names, codes, enum keys
DATA = re.compile(r"[A-Za-z0-9_.:\-]*[_.\-:0-9][A-Za-z0-9_.:\-]*|\b(?:owner|auditor|admin|Auditor|Owner|Admin|"
                  r"aftersales|website|flaky|served|ConnectionError|SHA|BPMN|DMN|JSON|CSV|UTC|SLA|API|"
                  r"Markdown|VIP|ok|v\d+)\b")

CODED_KEY = re.compile(r"\b(?:kind|role|key|trace):\w+")  # a coded key shown where its words belong


def english_left(text: str) -> list[str]:
    """Return the English words of ``ENGLISH`` still in ``text`` once data values are taken out."""
    words = DATA.sub(" ", text)
    return [w for w in ENGLISH if re.search(rf"(?<![A-Za-z]){re.escape(w)}", words)] + CODED_KEY.findall(text)


def registered_ticket(services) -> tuple[int, int]:
    """Start the after-sales process and register the request; return the instance and its deployment."""
    with services.db.transaction() as s:
        started = services.runtime.start(s, "after_sales", INTAKE, None, "owner")
    with services.db.transaction() as s:
        register = s.scalars(select(WorkItem).where(WorkItem.instance_id == started.instance_id,
                                                    WorkItem.element_id == "register_request")).one()
        services.runtime.complete_task(s, register.task_id, actor_for(s, "owner"), INTAKE)
        return started.instance_id, s.get(Instance, started.instance_id).deployment_id


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The real after-sales process with one registered ticket, and an instance stuck on an incident."""
    th.FAILURES.update({"zh": 99})
    with live_site(tmp_path, sqlite_template, [PROCESSES], {**USERS}, catalogue=PROCESSES / "data") as (base, services):
        instance_id, deployment_id = registered_ticket(services)
        with services.db.transaction() as s:
            deploy(s, service_chain("test.flaky", {"key": "'zh'"}, process_id="flaky_zh"), "owner")
        with services.db.transaction() as s:
            services.runtime.start(s, "flaky_zh", {}, "K-zh", "owner")
        yield base, instance_id, deployment_id
    th.FAILURES.clear()


def visible_text(page) -> str:
    """The page's visible text without the data it shows as data: JSON, code, deployed process names."""
    text = page.inner_text("body")
    for data in page.locator("pre, code, section.definition h2").all_inner_texts():
        text = text.replace(data, " ")
    return text


def visit(page, url: str, name: str, ready: str | None = None) -> str:
    """Open ``url``, wait for ``ready`` if given, screenshot it; return the page's visible text."""
    page.goto(url)
    if ready:
        page.wait_for_selector(ready)
    shot(page, name)
    return visible_text(page)


def walk(page, base: str, instance_id: int, deployment_id: int, lang: str) -> dict[str, str]:
    """Sign in as each user, visit their pages; return each page's visible text by name."""
    texts = {"login": visit(page, f"{base}/login", f"zhpages-{lang}-login")}

    sign_in(page, base, "auditor")
    texts["instances"] = visit(page, f"{base}/audit/instances", f"zhpages-{lang}-instances")
    texts["trace"] = visit(page, f"{base}/audit/instances/{instance_id}", f"zhpages-{lang}-trace",
                           "#trace[data-ready=true]")
    page.locator("#canvas [data-element-id=register_request]").first.click()
    page.wait_for_selector("#element-panel details")
    page.locator("#timeline button[data-seq]").first.click()
    page.wait_for_selector("#data-panel[data-seq]")
    texts["trace, element and data as of an event"] = visible_text(page)
    shot(page, f"zhpages-{lang}-trace-element")
    texts["verify"] = visit(page, f"{base}/audit/verify", f"zhpages-{lang}-verify")
    texts["verify one"] = visit(page, f"{base}/audit/verify?instance={instance_id}", f"zhpages-{lang}-verify-one")
    texts["403"] = visit(page, f"{base}/admin/api-keys/", f"zhpages-{lang}-403")
    page.context.clear_cookies()

    sign_in(page, base, "owner")
    texts["definitions"] = visit(page, f"{base}/owner/definitions", f"zhpages-{lang}-definitions")
    texts["deployment"] = visit(page, f"{base}/owner/deployments/{deployment_id}", f"zhpages-{lang}-deployment")
    texts["incidents"] = visit(page, f"{base}/owner/incidents?status=all", f"zhpages-{lang}-incidents")
    page.check("#incidents input[name=incident]")
    page.click("form:has(#incidents) button.primary")
    page.wait_for_selector("#retry-outcomes")
    texts["incidents after a retry"] = visible_text(page)
    shot(page, f"zhpages-{lang}-incidents-retried")
    texts["undelivered"] = visit(page, f"{base}/owner/undelivered-messages", f"zhpages-{lang}-undelivered")
    texts["404"] = visit(page, f"{base}/owner/no-such-page", f"zhpages-{lang}-404")
    page.context.clear_cookies()

    sign_in(page, base, "admin")
    texts["api keys"] = visit(page, f"{base}/admin/api-keys/", f"zhpages-{lang}-apikeys")
    page.fill("input[name=name]", "website")
    page.check("input[value='service-requests:read']")
    page.check("input[name=roles][value=agent]")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#new-key")
    texts["api keys, one created"] = visible_text(page)
    shot(page, f"zhpages-{lang}-apikeys-created")
    page.click("table button[type=submit]")
    page.wait_for_selector(".flash.warn")
    texts["api keys, one revoked"] = visible_text(page)
    return texts


def test_the_audit_owner_and_admin_pages_read_fully_in_chinese_on_a_chinese_page(site):
    base, instance_id, deployment_id = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        texts = walk(page, base, instance_id, deployment_id, "zh")
    left = {name: english_left(text) for name, text in texts.items() if english_left(text)}
    assert not left, (left, {name: texts[name] for name in left})
    assert "审计追踪" in texts["trace"] and "部署新版本" in texts["definitions"] and "API 密钥" in texts["api keys"]
    assert "完整无误" in texts["verify"] and "找不到" in texts["404"] and "无权" in texts["403"]
    assert "已解决" in texts["incidents after a retry"] or "再次失败" in texts["incidents after a retry"]


def test_the_same_pages_stay_in_english_on_an_english_page(site):
    base, instance_id, deployment_id = site
    with chromium(locale="en-US") as context:
        page = context.new_page()
        texts = walk(page, base, instance_id, deployment_id, "en")
    assert "Trace of" in texts["trace"] and "Verify audit trail" in texts["trace"] and "completed" in texts["trace"]
    assert "Deploy new version" in texts["definitions"] and "API keys" in texts["api keys"]
    assert "Intact." in texts["verify"] and "Not found" in texts["404"] and "Not allowed" in texts["403"]
    assert "Reached" in texts["trace, element and data as of an event"]
