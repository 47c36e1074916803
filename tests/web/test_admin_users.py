"""The admin's users pages and every user's own account page (real app, real database)."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, User
from tests.web.conftest import PASSWORD, Browser

NEW_PASSWORD = "sturdy-lamp-72"


def _user(services, username):
    with services.db.transaction(write=False) as s:
        user = s.scalars(select(User).where(User.username == username)).one_or_none()
        return None if user is None else (user.active, sorted(user.role_names), user.language, user.display_name)


def _audit(services, stream, kind):
    with services.db.transaction(write=False) as s:
        return [(e.actor, e.data) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.stream == stream, AuditEvent.kind == kind).order_by(AuditEvent.seq))]


def _create(b: Browser, **fields):
    b.get("/admin/users")
    data = {"username": "sally", "display_name": "Sally Sales", "email": "sally@example.com",
            "password": NEW_PASSWORD, "language": "zh", "roles": ["sales_desk"], **fields}
    return b.post("/admin/users", data)


def test_the_admin_gives_a_new_user_a_role_a_deployed_lane_created(signed_in, deploy_fixture, services, app):
    # Given the order bundle, whose lane "Sales Desk" created the role sales_desk
    deploy_fixture("order")
    admin = signed_in("admin")
    assert "sales_desk" in admin.get("/admin/users").get_data(as_text=True)
    # When the admin creates sally with that role
    response = _create(admin)
    # Then she exists with it, the creation is audited with the admin's name, and she can sign in
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _user(services, "sally") == (True, ["sales_desk"], "zh", "Sally Sales")
    assert _audit(services, "users", "user.created")[-1] == ("admin", {"username": "sally", "roles": ["sales_desk"]})
    sally = Browser(app.test_client())
    assert sally.login("sally", NEW_PASSWORD).status_code == 302


def test_an_unknown_role_is_refused_by_name_and_nothing_is_created(signed_in, services):
    admin = signed_in("admin")
    response = _create(admin, roles=["agent", "customer"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-roles"' in page and "role &#39;customer&#39; does not exist" in page
    assert _user(services, "sally") is None


def test_a_duplicate_username_and_a_weak_password_are_refused_on_their_fields(signed_in, services):
    admin = signed_in("admin")
    response = _create(admin, username="agent", password="short", roles=["agent"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-username"' in page and "user &#39;agent&#39; exists already" in page
    assert 'id="err-password"' in page and "at least 10 characters" in page
    assert _user(services, "agent") == (True, ["agent"], "", "Agent")


def test_errors_read_in_chinese_on_a_chinese_page(signed_in):
    admin = signed_in("admin")
    admin.get("/lang/zh")
    page = _create(admin, roles=["customer"], password="abcdefghijkl").get_data(as_text=True)
    assert "角色" in page and "customer" in page and "不存在" in page
    assert "密码需要包含字母以及至少一个数字或符号" in page


def test_only_an_admin_reaches_the_admin_pages(signed_in):
    supervisor = signed_in("supervisor")
    for url in ("/admin/users", "/admin/users/agent", "/admin/settings", "/admin/teams"):
        assert supervisor.get(url).status_code == 403


def test_disabling_a_user_ends_their_session_and_refuses_sign_in(signed_in, services, app):
    # Given the agent signed in
    agent = signed_in("agent")
    admin = signed_in("admin")
    admin.get("/admin/users/agent")
    # When the admin disables the account
    assert admin.post("/admin/users/agent/active", {"active": "0"}).status_code == 302
    # Then the agent's open session is over and signing in again is refused
    assert agent.get("/tasks").status_code == 302
    assert Browser(app.test_client()).login("agent").status_code == 401
    assert _audit(services, "users", "user.disabled")[-1] == ("admin", {"username": "agent"})
    # And enabling it lets the agent in again
    admin.post("/admin/users/agent/active", {"active": "1"})
    assert Browser(app.test_client()).login("agent").status_code == 302


def test_an_admin_cannot_disable_themself(signed_in, services):
    admin = signed_in("admin")
    admin.get("/admin/users/admin")
    response = admin.post("/admin/users/admin/active", {"active": "0"})
    assert response.status_code == 422 and "cannot disable your own account" in response.get_data(as_text=True)
    assert _user(services, "admin")[0] is True


def test_a_password_reset_ends_the_users_sessions(signed_in, services, app):
    agent = signed_in("agent")
    admin = signed_in("admin")
    admin.get("/admin/users/agent")
    assert admin.post("/admin/users/agent/password", {"password": "weak"}).status_code == 422
    assert agent.get("/tasks").status_code == 200  # a refused reset changes nothing
    assert admin.post("/admin/users/agent/password", {"password": NEW_PASSWORD}).status_code == 302
    assert agent.get("/tasks").status_code == 302
    assert Browser(app.test_client()).login("agent", NEW_PASSWORD).status_code == 302
    assert [a for a, _ in _audit(services, "users", "user.password_reset")] == ["admin"]


def test_roles_are_set_exactly_and_audited(signed_in, services):
    admin = signed_in("admin")
    admin.get("/admin/users/agent")
    assert admin.post("/admin/users/agent/roles", {"roles": ["agent", "qa"]}).status_code == 302
    assert _user(services, "agent")[1] == ["agent", "qa"]
    refused = admin.post("/admin/users/agent/roles", {"roles": ["qa", "nobody"]})
    assert refused.status_code == 422 and "nobody" in refused.get_data(as_text=True)
    assert _user(services, "agent")[1] == ["agent", "qa"]
    assert _audit(services, "users", "user.roles_changed") == [
        ("admin", {"username": "agent", "old": ["agent"], "new": ["agent", "qa"]})]


def test_a_bad_email_on_edit_is_refused_and_nothing_changes(signed_in, services):
    admin = signed_in("admin")
    admin.get("/admin/users/agent")
    response = admin.post("/admin/users/agent", {"display_name": "New Name", "email": "not an address",
                                                 "language": "en"})
    assert response.status_code == 422 and 'id="err-email"' in response.get_data(as_text=True)
    assert _user(services, "agent")[3] == "Agent"


def test_a_user_changes_their_password_with_the_current_one(signed_in, app, services):
    agent = signed_in("agent")
    agent.get("/account/")
    wrong = agent.post("/account/password", {"current_password": "nope-nope-1", "new_password": NEW_PASSWORD,
                                             "repeat_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and 'id="err-current_password"' in wrong.get_data(as_text=True)
    weak = agent.post("/account/password", {"current_password": PASSWORD, "new_password": "agent-agent-1",
                                            "repeat_password": "agent-agent-1"})
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    ok = agent.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                          "repeat_password": NEW_PASSWORD})
    assert ok.status_code == 302
    assert agent.get("/tasks").status_code == 200  # this session goes on
    assert Browser(app.test_client()).login("agent").status_code == 401
    assert Browser(app.test_client()).login("agent", NEW_PASSWORD).status_code == 302


def test_the_account_language_is_used_after_signing_in_again(signed_in, app, services):
    # Given an agent whose browser asks for English
    agent = signed_in("agent")
    agent.get("/account/")
    # When they save Chinese as their language and sign in again on a fresh browser
    assert agent.post("/account/language", {"language": "zh"}).status_code == 302
    assert _user(services, "agent")[2] == "zh"
    again = Browser(app.test_client())
    again.login("agent")
    # Then the pages are Chinese without any switch
    assert 'lang="zh-CN"' in again.get("/tasks", headers={"Accept-Language": "en"}).get_data(as_text=True)
    refused = agent.post("/account/language", {"language": "fr"})
    assert refused.status_code == 422 and _user(services, "agent")[2] == "zh"


def test_the_header_switch_also_saves_the_language_to_the_account(signed_in, services):
    agent = signed_in("agent")
    assert agent.get("/lang/zh?next=/tasks").status_code == 302
    assert _user(services, "agent")[2] == "zh"


def test_the_user_page_lists_who_changed_the_account(signed_in):
    admin = signed_in("admin")
    admin.get("/admin/users/agent")
    admin.post("/admin/users/agent/roles", {"roles": ["agent", "qa"]})
    admin.post("/admin/users/agent/active", {"active": "0"})
    page = admin.get("/admin/users/agent").get_data(as_text=True)
    history = page[page.index('id="history"'):]
    assert history.index("account disabled") < history.index("roles changed") < history.index("account created")
    assert "Service agent → Service agent, QA reviewer" in history and "admin" in history  # roles by name
