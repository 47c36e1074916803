"""The process speaks Chinese, in a real browser on the real bundle (``processes/``).

An agent who reads Chinese sees the tasklist, a task page (name, stage, lane, form labels,
help, options, instructions) and the ticket page (task and stage names, the catalogue's
Chinese model name, times in 北京时间) in Chinese. Screenshots land in
``test-artifacts/screenshots`` (``zh-*.png``).
"""

from __future__ import annotations

import pytest

from engine.identity import actor_for
from tests.conftest import PROCESSES
from tests.process.driver import INTAKE
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
USERS = {"agent": ["agent"], "supervisor": ["supervisor"]}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The real after-sales process with its catalogue, one request waiting to be registered."""
    with live_site(tmp_path, sqlite_template, [PROCESSES], USERS, catalogue=PROCESSES / "data") as (base, services):
        with services.db.transaction() as s:
            instance_id = services.runtime.start(s, "after_sales", INTAKE, None, "agent").instance_id
        yield base, services, instance_id


def test_an_agent_reads_tasks_forms_and_tickets_in_chinese(site):
    base, services, instance_id = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        sign_in(page, base, "agent")
        # the tasklist names the task and its stage in Chinese
        page.goto(f"{base}/tasks?tab=group")
        row = page.locator("table.tasklist tbody tr").first
        assert row.locator("td.col-name a").inner_text() == "登记服务请求"
        assert row.locator("td.col-stage").inner_text() == "售后服务"
        assert "登记服务请求" in page.locator("select[name=name]").inner_text()  # the filter's choices too
        shot(page, "zh-tasklist")

        # the task page: name, stage, lane, form title, labels, help, options, instructions
        row.locator("td.col-name a").click()
        assert page.locator("h1").inner_text() == "登记服务请求"
        head = page.locator(".pagehead").inner_text()
        assert "售后服务" in head and "客服" in head
        form = page.locator("form.taskform").inner_text()
        for text in ("序列号", "购买日期", "故障类别", "故障现象", "客户等级", "服务区域"):
            assert text in form, text
        assert "勾选客户反映的所有故障现象。" in form  # help
        for option in ("热线", "硬件故障", "不排水", "华东"):  # enum titles and codes
            assert option in form, option
        instructions = page.locator(".instructions").inner_text()
        assert "登记经" in instructions and "热线" in instructions and "投诉" in instructions
        assert "Register" not in page.locator("main").inner_text()
        shot(page, "zh-task-register-request")

        # the request is registered; the ticket page speaks Chinese, the catalogue's model name included
        with services.db.transaction() as s:
            task_id = page.url.rsplit("/", 1)[1]
            services.runtime.complete_task(s, task_id, actor_for(s, "agent"), INTAKE)
        page.goto(f"{base}/tickets/{instance_id}")
        text = page.locator("main").inner_text()
        assert "WM-F80" in text and "滚筒洗衣机 8 公斤 变频" in text
        assert "答复客户" in text  # the open task
        assert "处理服务请求" in text or "售后服务" in text  # the stage
        assert "北京时间" in text  # times carry their zone
        assert "24 小时" in text and "PT24H" not in text  # SLA targets in words, not ISO durations
        assert "Respond to the customer" not in text
        assert "在 WM-F80 的 12 个月整机保修期内" in text  # the warranty's reason
        shot(page, "zh-ticket")

        # the next task's instructions say the fault category and codes in Chinese
        page.goto(f"{base}/tasks?tab=group")
        page.click("table.tasklist td.col-name a:text-is('答复客户')")
        assert page.locator("h1").inner_text() == "答复客户"
        instructions = page.locator(".instructions").inner_text()
        assert "硬件" in instructions and "北京时间" in instructions
        shot(page, "zh-task-respond")


def test_the_public_request_form_lists_models_and_symptoms_in_chinese(site):
    base, _services, _instance = site
    with chromium(locale="zh-CN") as context:
        page = context.new_page()
        page.goto(f"{base}/service/request")
        text = page.locator("main").inner_text()
        assert "WM-F80 · 滚筒洗衣机 8 公斤 变频" in page.content()
        assert "无法开机" in text
        shot(page, "zh-public-request")
