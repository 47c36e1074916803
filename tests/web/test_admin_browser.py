"""Chromium, in English and Chinese: the admin gives a new user a role a bundle's lane created and
that user works a task of the lane; bad input is refused on its field; a user picks their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import Instance, User
from engine.settings import stored_settings
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser

FIELD_PARTNER = Path(__file__).parent / "fixtures" / "field_partner"
LOCALES = {"en": "en-US", "zh": "zh-CN"}
PHONE = {"width": 390, "height": 844}
TEXT = {
    "en": {"created": "User fiona created.", "exists": "user 'adam' exists already",
           "unknown": "role 'customer' does not exist",
           "weak": "a password needs at least 10 characters", "sender": "is not a sender address",
           "holiday": "'2026-02-30' is not a date like 2026-10-01", "users": "Users", "complete": "Complete task",
           "groups": "My groups' tasks"},
    "zh": {"created": "用户 fiona 已创建。", "exists": "用户 'adam' 已存在", "unknown": "角色 'customer' 不存在",
           "weak": "密码至少需要 10 个字符", "sender": "不是有效的发件人地址",
           "holiday": "'2026-02-30' 不是有效的日期（如 2026-10-01）", "users": "用户", "complete": "完成任务",
           "groups": "组内待领任务"},
}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """A bundle whose lane "Field Partner" creates the role field_partner, an admin and an agent."""
    with live_site(tmp_path, sqlite_template, [FIELD_PARTNER], {"adam": ["admin"], "ann": ["agent"]}) as served:
        yield served


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _signed_in_phone(context, base: str, user: str):
    """Return a page at phone width with ``user`` signed in."""
    page = context.new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, base, user)
    return page


def _error(page, field: str) -> str:
    return page.locator(f"#err-{field}").inner_text()


@pytest.mark.parametrize(("lang", "phone"), [("en", False), ("zh", True)])
def test_the_admin_creates_a_lane_role_user_who_then_works_a_task_in_that_lane(site, lang, phone):
    base, services = site
    text = TEXT[lang]
    with services.db.transaction() as s:
        instance_id = services.runtime.start(s, "field_visit", {}, "FV-0001", "system").instance_id
    with chromium(locale=LOCALES[lang]) as context:
        page = context.new_page()
        if phone:
            page.set_viewport_size(PHONE)
        sign_in(page, base, "adam")
        page.goto(f"{base}/admin/users")
        assert page.locator("h1").inner_text() == text["users"]
        lane_role = page.locator("#roles input[value=field_partner]")
        assert lane_role.count() == 1
        # When the form names an existing user, a weak password, and a role that does not exist
        page.fill("#new-user [name=username]", "adam")
        page.fill("#new-user [name=password]", "short")
        page.evaluate("""() => { const box = document.createElement('input'); box.type = 'checkbox';
            box.name = 'roles'; box.value = 'customer'; box.checked = true;
            document.querySelector('#roles').appendChild(box); }""")
        page.click("#new-user button[type=submit]")
        # Then each error stands at its field and nobody is created
        assert text["exists"] in _error(page, "username")
        assert text["weak"] in _error(page, "password")
        assert text["unknown"] in _error(page, "roles")
        assert _fits(page)
        shot(page, f"admin-users-errors-{lang}")
        with services.db.transaction(write=False) as s:
            assert list(s.scalars(select(User.username).order_by(User.username))) == ["adam", "ann"]
        # When the admin creates fiona with the lane's role
        page.fill("#new-user [name=username]", "fiona")
        page.fill("#new-user [name=display_name]", "Fiona Field")
        page.fill("#new-user [name=password]", "Partner-visit-2026")
        page.check("#roles input[value=field_partner]")
        page.click("#new-user button[type=submit]")
        assert text["created"] in page.locator(".flash").inner_text()
        assert page.locator("#roles input[value=field_partner]").is_checked()
        shot(page, f"admin-user-created-{lang}")
        context.clear_cookies()
        # Then fiona signs in and completes the task of her lane
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "fiona")
        page.fill("input[name=password]", "Partner-visit-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/tasks**")
        page.goto(f"{base}/tasks?tab=group")
        page.click("td.col-name a")
        shot(page, f"admin-lane-user-task-{lang}")
        page.click(f"button:has-text('{text['complete']}')")
        page.wait_for_url(f"{base}/tasks**")
    with services.db.transaction(write=False) as s:
        assert s.get(Instance, instance_id).status == "completed"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_sender_or_holiday_is_refused_on_its_field_and_nothing_is_saved(site, lang):
    base, services = site
    with chromium(locale=LOCALES[lang]) as context:
        page = _signed_in_phone(context, base, "adam")
        page.goto(f"{base}/admin/settings")
        page.fill("[name=mail_sender]", "Service <service at shop>")
        holidays = page.locator("[name='cal.standard.holidays']")
        holidays.fill(holidays.input_value() + "\n2026-02-30")
        page.click("button.primary[type=submit]")
        assert TEXT[lang]["sender"] in _error(page, "mail_sender")
        assert TEXT[lang]["holiday"] in _error(page, "cal-standard-holidays")
        assert page.input_value("[name=mail_sender]") == "Service <service at shop>"
        assert _fits(page)
        page.locator("#err-cal-standard-holidays").scroll_into_view_if_needed()
        shot(page, f"admin-settings-errors-{lang}")
    with services.db.transaction(write=False) as s:
        assert stored_settings(s) == {}


def test_a_user_picks_chinese_and_reads_it_after_signing_in_again(site):
    base, services = site
    # Given an agent whose browser asks for English
    with chromium(locale="en-US") as context:
        page = _signed_in_phone(context, base, "ann")
        page.goto(f"{base}/account/")
        assert page.locator("h1").inner_text() == "My account"
        # A weak new password is refused on its field
        page.fill("[name=current_password]", "correct-horse-1")
        page.fill("[name=new_password]", "annann")
        page.fill("[name=repeat_password]", "annann")
        page.click("#password button[type=submit]")
        assert "at least 10 characters" in _error(page, "new_password")
        shot(page, "account-password-error-en")
        # When she saves Chinese as her language
        page.select_option("[name=language]", "zh")
        page.click("#language button[type=submit]")
        assert page.locator("h1").inner_text() == "我的账号"
        context.clear_cookies()
        # Then, signed in again on the same English browser, the pages are in Chinese
        page.goto(f"{base}/login")
        assert page.locator("h1").inner_text() == "Sign in"
        page.fill("input[name=username]", "ann")
        page.fill("input[name=password]", "correct-horse-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/tasks**")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert "这里没有任务。" in page.content()
        assert _fits(page)
        shot(page, "account-language-zh-after-sign-in")
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(User.language).where(User.username == "ann")).one() == "zh"


def test_the_admin_edits_a_technicians_team_on_a_phone_in_chinese(site):
    import json

    from handlers.dispatch import Technician, load_technicians
    from handlers.teams import SHIPPED

    base, services = site
    with services.db.transaction() as s:
        load_technicians(s, json.loads(SHIPPED.read_text(encoding="utf-8")))
    with chromium(locale="zh-CN") as context:
        page = _signed_in_phone(context, base, "adam")
        page.goto(f"{base}/admin/teams")
        assert page.locator("h1").inner_text() == "班组与技能"
        tech = page.locator("#tech-tech\\.wang")
        tech.locator("summary").click()
        # Without any skill the change is refused on the skills
        tech.locator("select[name=region]").select_option("north")
        for box in tech.locator("input[name=skills]").all():
            box.uncheck()
        tech.locator("button[type=submit]").click()
        assert page.locator("#err-tech-wang-skills").inner_text() == "请至少选择一项技能"
        assert _fits(page)
        shot(page, "admin-teams-error-zh")
        with services.db.transaction(write=False) as s:
            assert s.get(Technician, "tech.wang").region == "east"
        # With one, the technician moves to the north team
        tech = page.locator("#tech-tech\\.wang")
        tech.locator("input[name=skills][value=tv]").check()
        tech.locator("button[type=submit]").click()
        assert "tech.wang" in page.locator(".flash").inner_text()
        shot(page, "admin-teams-saved-zh")
    with services.db.transaction(write=False) as s:
        assert (s.get(Technician, "tech.wang").region, s.get(Technician, "tech.wang").skills) == ("north", ["tv"])
