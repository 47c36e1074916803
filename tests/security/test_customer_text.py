"""Text a customer typed is shown as text: Markdown or HTML in it never becomes a link, an image
or markup in staff instructions or on the ticket page."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.conftest import CUSTOMER, PRODUCT, WEB_FIXTURES, open_tasks
from web.rendering import instructions_html

HOSTILE = (
    ("link", "[phish](https://evil.example/login)"),
    ("image", "![logo](https://evil.example/pixel.png)"),
    ("autolink", "<https://evil.example/login>"),
    ("e-mail autolink", "<boss@evil.example>"),
    ("raw html", '<a href="https://evil.example/login">click</a>'),
    ("script", "<script>alert(1)</script>"),
    ("reference link", "[phish][1]\n\n[1]: https://evil.example/login"),
    ("emphasis", "**urgent** _now_ `code`"),
    ("heading", "\n# Pay here\n---"),
    ("list and quote", "\n- one\n> quoted\n1. two"),
    ("javascript link", "[x](javascript:alert(1))"),
    ("entity", "&lt;b&gt; &#x3C;i&#x3E;"),
)


@pytest.mark.parametrize(("kind", "typed"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_value_printed_into_instructions_stays_text(app, kind, typed):
    with app.test_request_context():
        shown = str(instructions_html("Fault: {{ fault.description }}", {"fault": {"description": typed}}))
    # Then the only markup is paragraphs and the value's mark as data, and it reads exactly as typed
    assert set(re.findall(r"<[a-z/][^>]*>", shown)) == {"<p>", "</p>", '<span translate="no">', "</span>"}, shown
    words = html.unescape(re.sub(r'</?p>|<span translate="no">|</span>', " ", shown))
    assert words.split() == f"Fault: {typed}".split()


def test_the_modellers_own_markdown_still_renders(app):
    with app.test_request_context():
        shown = str(instructions_html("Repair **{{ model }}**: see [ticket {{ t }}](/tickets/{{ t }})",
                                      {"model": "Aurora X1", "t": "AS-20260302-00001"}))
    assert '<strong><span translate="no">Aurora X1</span></strong>' in shown
    assert ('<a href="/tickets/AS-20260302-00001">ticket <span translate="no">AS-20260302-00001</span></a>'
            in shown)


def test_a_missing_value_prints_nothing(app):
    with app.test_request_context():
        assert str(instructions_html("Model: {{ product.model }}.", {})) == "<p>Model: .</p>\n"


def test_a_markdown_link_typed_by_a_customer_is_no_link_on_the_task_or_ticket_page(
        deploy_fixture, services, signed_in):
    # Given a repair whose product model and fault description carry Markdown and HTML
    deploy_fixture(WEB_FIXTURES / "customer")
    typed = "[phish](https://evil.example/login)"
    data = {"ticket_number": "AS-20260302-00009", "channel": "web", "priority": "high", "customer_tier": "vip",
            "customer": CUSTOMER, "product": {**PRODUCT, "model": typed},
            "fault": {"description": "<https://evil.example/x> ![p](https://evil.example/p.png)",
                      "symptoms": ["no_display"]}}
    with services.db.transaction() as s:
        services.runtime.start(s, "web_repair", data, "AS-20260302-00009", "agent")
    task = open_tasks(services, "AS-20260302-00009")[0]
    b = signed_in("technician")
    # When the technician opens the task and the ticket
    for url in (f"/tasks/{task.task_id}", "/tickets/AS-20260302-00009"):
        page = b.get(url).get_data(as_text=True)
        # Then the text is there as typed, and nothing links or loads from evil.example
        assert 'href="https://evil.example' not in page, url
        assert 'src="https://evil.example' not in page, url
    task_page = b.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert 'Repair the <strong><span translate="no">[phish](https://evil.example/login)</span></strong>' in task_page
