"""Real-browser deploys from the owner's page, with JavaScript (en, zh) and without.

The deploy form's submit buttons are named ``action``; that name shadows ``form.action``,
so a script that posts to ``form.action`` sends the bundle to ``/owner/[object RadioNodeList]``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

import tests.handlers_for_tests  # noqa: F401  (the simple process calls test.echo)
from engine.models import Deployment
from tests.conftest import FIXTURES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
SIMPLE = FIXTURES / "simple"


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The simple process deployed as bundle ``aftersales`` and a process owner, served on loopback."""
    with live_site(tmp_path, sqlite_template, [SIMPLE], {"olga": ["process_owner"]}) as served:
        yield served


def versions(services, name):
    """Return how many versions of bundle ``name`` exist."""
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Deployment).where(Deployment.name == name))


def changed_bundle(tmp_path, form="register.schema.json"):
    """Return the simple bundle's files with its BPMN renamed (a new content) and ``form`` as the register form."""
    folder = tmp_path / "upload"
    folder.mkdir()
    bpmn = (SIMPLE / "simple.bpmn").read_text(encoding="utf-8").replace('name="Echo"', 'name="Echo again"')
    (folder / "simple.bpmn").write_text(bpmn.replace('value="register.schema.json"', f'value="{form}"'),
                                        encoding="utf-8")
    for name in ("register.schema.json", "messages.json"):
        (folder / name).write_bytes((SIMPLE / name).read_bytes())
    return [str(p) for p in sorted(folder.iterdir())]


def test_validate_then_deploy_with_javascript_in_english(site, tmp_path):
    # Given a process owner on the deploy page with JavaScript on
    base, services = site
    errors = []
    with chromium() as context:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, "olga")
        page.goto(f"{base}/owner/deploy")
        page.fill("input[name=name]", "aftersales")
        page.set_input_files("#deploy-files", changed_bundle(tmp_path))
        # When she validates only
        page.click("button[value=validate]")
        # Then the script shows the server's answer on the same page and nothing is deployed
        page.locator("#deploy-result .flash.ok").wait_for()
        assert "Every check passed. Processes: simple." in page.inner_text("#deploy-result")
        assert page.url == f"{base}/owner/deploy" and versions(services, "aftersales") == 1
        # When she deploys
        page.click("button[value=deploy]")
        page.locator("#deploy-result .flash.ok", has_text=re.compile(r"^Deployed ")).wait_for()
        # Then version 2 exists and the page says so
        assert page.inner_text("#deploy-result .flash.ok") == "Deployed aftersales v2."
        assert versions(services, "aftersales") == 2
        shot(page, "owner-deploy-js-en")
    assert errors == []


def test_a_refused_bundle_lists_its_problems_with_javascript_in_chinese(site, tmp_path):
    # Given a process owner working in Chinese, and a BPMN naming a form the bundle does not hold
    base, services = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/owner/deploy")
        assert page.locator("h1").inner_text() == "部署新版本"
        page.fill("input[name=name]", "aftersales")
        page.set_input_files("#deploy-files", changed_bundle(tmp_path, form="missing.schema.json"))
        # When she deploys
        page.click("button:has-text('验证并部署')")
        # Then the problems are listed in place, the register task named, in Chinese, and nothing is deployed
        page.locator("#deploy-result table#problems").wait_for()
        assert page.inner_text("#deploy-result .flash.error") == "未部署任何内容。 需要修正 1 个问题："
        rows = page.locator("#problems tr.problem")
        assert any("register" in rows.nth(i).inner_text() and "missing.schema.json" in rows.nth(i).inner_text()
                   for i in range(rows.count()))
        # with the columns headed, and the check and severity said in Chinese, not as codes
        assert page.locator("#problems thead th").all_inner_texts() == ["文件", "元素", "行", "规则", "问题"]
        form_row = next(rows.nth(i) for i in range(rows.count()) if "missing.schema.json" in rows.nth(i).inner_text())
        cells = form_row.locator("td").all_inner_texts()
        assert cells[3] == "表单" and cells[4].startswith("错误: ")
        assert versions(services, "aftersales") == 1
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "owner-deploy-js-zh-problems")


def test_deploy_without_javascript_still_posts_the_form(site, tmp_path):
    # Given a browser with JavaScript off
    base, services = site
    with chromium(java_script_enabled=False) as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/owner/deploy")
        page.fill("input[name=name]", "aftersales")
        page.set_input_files("#deploy-files", changed_bundle(tmp_path))
        # When the owner deploys
        page.click("button[value=deploy]")
        # Then the server's page says what was deployed
        assert "Deployed aftersales v2." in page.inner_text("#deploy-result")
        assert versions(services, "aftersales") == 2
        shot(page, "owner-deploy-nojs-en")
