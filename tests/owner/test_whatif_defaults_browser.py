"""The what-if page in a real browser, in English and Chinese: it opens on the after-sales process's
current version against the one before it, and asking to compare a deployment with itself is said on the
page, naming the field, with the choices kept. Screenshots: ``test-artifacts/screenshots/whatif-defaults-*.png``.
"""

from __future__ import annotations

import pytest

from engine import drafts
from engine.bundle import Bundle
from engine.deploy import deploy
from engine.models import Deployment
from engine.pilots import find_definition
from handlers.demo import DATA_DIR
from tests.conftest import PROCESSES
from tests.web.live import SCREENSHOTS, chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path, sqlite_template):
    """processes/ deployed twice (v2 has one more comment in after_sales.bpmn) and a process owner."""
    config = {"WHATIF_DIR": str(tmp_path / "whatif")}
    with live_site(tmp_path, sqlite_template, [PROCESSES], {"olga": ["process_owner"]}, config,
                   catalogue=DATA_DIR) as (base, services):
        with services.db.transaction() as s:
            first = find_definition(s, "after_sales").deployment_id
            files = drafts.deployment_files(s, first)
            files["after_sales.bpmn"] += b"<!-- v2 -->\n"
            second = deploy(s, Bundle(s.get(Deployment, first).name, files), "olga").deployment_id
        yield base, first, second


@pytest.mark.parametrize(("lang", "process", "words"), [("en", "After-sales service", "the version tried itself"),
                                                        ("zh", "售后服务", "要试用的版本本身")])
def test_what_if_opens_on_one_process_and_says_a_self_comparison_on_the_page(site, lang, process, words) -> None:
    base, first, second = site
    with chromium(locale="zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/{lang}?next=/owner/whatif")
        # Then the after-sales process's v2 is offered against its v1
        tried = page.locator("select[name=deployment_id] option:checked")
        against = page.locator("select[name=against_deployment_id] option:checked")
        assert tried.inner_text().startswith(f"{process} v2 ({second})")
        assert against.inner_text().startswith(f"{process} v1 ({first})")
        shot(page, f"whatif-defaults-{lang}")
        # When the owner picks v2 on both sides and runs it
        page.select_option("select[name=against_deployment_id]", str(second))
        page.fill("input[name=tickets]", "7")
        page.click("#whatif-form button[type=submit]")
        # Then the page says so on the form, in the reader's words, and keeps what was chosen and typed
        page.wait_for_selector("#whatif-error:not([hidden])")
        assert words in page.inner_text("#whatif-error")
        assert page.input_value("input[name=tickets]") == "7"
        assert page.input_value("select[name=against_deployment_id]") == str(second)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"whatif-defaults-{lang}-self.png"),
                        clip=page.locator("#whatif-form").bounding_box())


def test_without_javascript_a_self_comparison_comes_back_on_the_form(site) -> None:
    base, first, second = site
    with chromium(locale="zh-CN", java_script_enabled=False) as context:
        page = context.new_page()
        sign_in(page, base, "olga")
        page.goto(f"{base}/lang/zh?next=/owner/whatif")
        page.select_option("select[name=against_deployment_id]", str(second))
        page.fill("input[name=seed]", "42")
        page.click("#whatif-form button[type=submit]")
        assert "要试用的版本本身" in page.inner_text("#whatif-error")
        assert page.input_value("input[name=seed]") == "42"
        assert page.input_value("select[name=deployment_id]") == page.input_value("select[name=against_deployment_id]")
        page.locator("#whatif-form").screenshot(path=str(SCREENSHOTS / "whatif-defaults-zh-nojs.png"))
