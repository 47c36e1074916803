"""The process owner's editor in Chromium, in English and in Chinese (issue 17).

As ``owner``: open a draft of the deployed version; raise the agent's authority limit in
quote_approval.dmn in the decision-table editor; add a field to a form and see the product's
preview; add a service task choosing ``notify.send`` and its parameters from the handler
registry; draw a flow out of a task nothing leads to and see it badged; compare with the
deployed version; deploy with a note.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import Deployment
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
BUILD = Path(__file__).resolve().parents[2] / "web" / "static" / "build" / "editor.js"
LANGS = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The product's bundle deployed as ``aftersales`` v1 and a process owner, served on loopback."""
    with owners_site(tmp_path, sqlite_template) as served:
        yield served


def api(page: Any, method: str, url: str, body: Any = None) -> Any:
    """Call the workbench API from the signed-in page (session cookie and CSRF token)."""
    return page.evaluate(
        """async ([method, url, body]) => {
            const meta = document.querySelector('meta[name="csrf-token"]');
            const token = meta ? meta.content : document.querySelector('input[name=csrf_token]').value;
            const r = await fetch(url, {method, headers: {'X-CSRFToken': token, 'Content-Type': 'application/json'},
                                        body: body === null ? undefined : JSON.stringify(body)});
            const text = await r.text();
            return {status: r.status, text};
        }""", [method, url, body])


def saved(page: Any) -> None:
    """Wait until every pending autosave went out and the status says saved."""
    page.wait_for_function("() => window.workbench.state.saving.size === 0")
    page.wait_for_selector("#wb-status[data-state=saved]")


def draft_file(page: Any, draft_id: int, path: str, holding: str | None = None) -> str:
    """Return a draft's file as the server has it; with ``holding``, once it holds that text."""
    for _ in range(50):
        got = api(page, "GET", f"/owner/api/drafts/{draft_id}/files/{path}")
        assert got["status"] == 200, got
        if holding is None or holding in got["text"]:
            break
        page.wait_for_timeout(200)
    return got["text"]


def no_problems(page: Any, lang: str) -> None:
    """Wait until validation finds no error (the problems list is shown if it does)."""
    text = "没有错误" if lang == "zh" else "No errors"
    try:
        page.wait_for_selector(f"#wb-problems-count[data-state=ok]:has-text('{text}')")
    except Exception:
        raise AssertionError(page.inner_text("#wb-problems")) from None


def open_file(page: Any, path: str) -> None:
    page.click(f"#wb-files a[data-path='{path}']")
    page.wait_for_function("p => window.workbench.state.current === p && !window.workbench.state.loading", arg=path)


def evil_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../outside.bpmn", "<definitions/>")
    return out.getvalue()


def owners_site(tmp_path: Path, sqlite_template: Path) -> Any:
    """Serve the product's bundle deployed as ``aftersales`` v1 to a process owner (a context manager)."""
    if not BUILD.is_file():
        pytest.fail("the editor is not built: run scripts/install")
    return live_site(tmp_path, sqlite_template, [PROCESSES], {"owner": ["process_owner"]})


def new_draft(page: Any, base: str, lang: str) -> int:
    """Sign in as the owner in ``lang``, open a draft of deployment 1 on the workbench page; return its id."""
    sign_in(page, base, "owner")
    page.goto(f"{base}/lang/{lang}?next=/owner/workbench")
    page.goto(f"{base}/owner/workbench")
    page.click("form:has(input[name=from_deployment_id][value='1']) button[type=submit]")
    page.wait_for_url(re.compile(r".*/owner/drafts/\d+/edit.*"))
    page.wait_for_selector("body[data-workbench=ready]", timeout=30_000)
    return int(re.search(r"/owner/drafts/(\d+)/edit", page.url).group(1))


def walk_through(page: Any, base: str, services: Any, lang: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Given a draft opened from the deployed version on the workbench page
    draft_id = new_draft(page, base, lang)
    assert page.get_attribute("html", "lang").startswith(lang)
    no_problems(page, lang)
    shot(page, f"workbench-{lang}-1-opened")

    # When the agent's authority limit goes from 1000 to 1500 in the decision table
    open_file(page, "quote_approval.dmn")
    cell = page.locator("[data-element-id='quote_approver_r3_i2'] .content-editable")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("> 1500")
    page.click(".decision-table-name")
    assert "&gt; 1500" in draft_file(page, draft_id, "quote_approval.dmn", "&gt; 1500")
    saved(page)
    shot(page, f"workbench-{lang}-2-dmn")

    # And a field is added to a form: the preview is the product's own rendering of it
    open_file(page, "forms/propose_solution.schema.json")
    page.wait_for_selector("#wb-form-preview :is(input, select, textarea)")
    # in the bundle's words for the page's language, as staff see the form
    assert ("工时（小时）" if lang == "zh" else "Labour (hours)") in page.inner_text("#wb-form-preview")
    page.evaluate("""() => {
        const view = window.workbench.code.schema;
        const schema = JSON.parse(view.state.doc.toString());
        schema.properties.courtesy_call = {type: 'boolean', title: 'Courtesy call agreed'};
        view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: JSON.stringify(schema, null, 2)}});
    }""")
    page.wait_for_selector("#wb-form-preview :text('Courtesy call agreed')")
    assert "courtesy_call" in draft_file(page, draft_id, "forms/propose_solution.schema.json", "courtesy_call")
    saved(page)
    page.click("#wb-try-go")
    page.wait_for_selector("#wb-try-result :is(.wb-ok, .wb-error)")
    shot(page, f"workbench-{lang}-3-form")

    # The panel reads the spiffworkflow dialect of what is deployed
    open_file(page, "quote_approval.bpmn")
    expected = {
        "propose_solution": ("[data-entry-id='spiff-form-schema'] select", "propose_solution.schema.json"),
        "decide_approver": ("[data-entry-id='spiff-called-decision'] select", "quote_approver"),
        "await_quote_answer": ("[data-entry-id='spiff-correlation-key'] input", "ticket_number"),
        "lane_quote_agent": ("[data-entry-id='spiff-lane-role'] select", "agent"),
    }
    for element, (selector, value) in expected.items():
        page.evaluate("id => { const m = window.workbench.bpmn; "
                      "m.get('selection').select(m.get('elementRegistry').get(id)); }", element)
        assert page.locator(selector).input_value() == value, element
        if element == "propose_solution":  # the instructions' Markdown, previewed
            assert page.locator("[data-entry-id='spiff-instructions-preview'] .wb-md strong").count() >= 1
    page.evaluate("() => { const m = window.workbench.bpmn; "
                  "m.get('selection').select(m.get('elementRegistry').get('quote_answer_overdue')); }")
    means = page.locator("[data-entry-id='spiff-timer-expression'] .bio-properties-panel-description").inner_text()
    assert ("3 天" if lang == "zh" else "3 days") in means

    # And a service task calls notify.send, its operator and parameters picked from the registry
    task_id = page.evaluate("""() => {
        const m = window.workbench.bpmn;
        const reg = m.get('elementRegistry'), modeling = m.get('modeling');
        const flow = reg.get('flow_merge_approved_to_send_quote'), target = reg.get('send_quote');
        const shape = modeling.createShape({type: 'bpmn:ServiceTask'},
            {x: target.x + target.width / 2, y: target.y + target.height + 70}, target.parent);
        modeling.updateLabel(shape, 'Tell the customer it is approved');
        modeling.reconnectEnd(flow, shape, {x: shape.x + shape.width / 2, y: shape.y + shape.height / 2});
        modeling.connect(shape, target, {type: 'bpmn:SequenceFlow'});
        m.get('selection').select(shape);
        return shape.id;
    }""")
    operator = page.locator("[data-entry-id='spiff-operator'] select")
    assert "notify.send" in operator.locator("option").all_text_contents()
    operator.select_option("notify.send")
    params = {"ticket_number": "ticket_number", "milestone": '"quote"', "customer": "customer",
              "data": '{"approved": True}'}
    for name, value in params.items():
        field = page.locator(f"[data-entry-id='spiff-param-{name}'] input")
        field.fill(value)
    page.locator("[data-entry-id='spiff-result-variable'] input").fill("approval_notice")
    xml = draft_file(page, draft_id, "quote_approval.bpmn", 'resultVariable="approval_notice"')
    operator_xml = re.search(r'<spiffworkflow:serviceTaskOperator id="notify.send" resultVariable="approval_notice">'
                             r'(.*?)</spiffworkflow:serviceTaskOperator>', xml, re.S)
    assert operator_xml, xml[xml.find(task_id) - 100:xml.find(task_id) + 1500]
    for name in params:
        assert f'<spiffworkflow:parameter id="{name}"' in operator_xml.group(1), operator_xml.group(1)
    print(operator_xml.group(1))
    no_problems(page, lang)
    shot(page, f"workbench-{lang}-4-service-task")

    # And the two new texts are translated beside what they translate, the missing count going down
    open_file(page, "translations.zh.json")
    missing = page.locator("#wb-missing")
    before = int(re.search(r"\d+", missing.inner_text()).group())
    assert before >= 2
    new_texts = {"Tell the customer it is approved": "告知客户报价已批准", "Courtesy call agreed": "已同意回访"}
    for key, text in new_texts.items():
        row = page.locator(f"#wb-translations tr.missing:has(textarea[data-key='{key}'])")
        row.locator("textarea").fill(text)
    assert int(re.search(r"\d+", missing.inner_text()).group()) == before - 2
    assert "已同意回访" in draft_file(page, draft_id, "translations.zh.json", "已同意回访")
    page.wait_for_function("() => !document.querySelector('#wb-problems-count').textContent.match(/warning|警告/)")
    shot(page, f"workbench-{lang}-4b-translations")

    # And a zip reaching outside the bundle is refused with a clear message, nothing changed
    page.set_input_files("#wb-upload", files=[{"name": "evil.zip", "mimeType": "application/zip",
                                               "buffer": evil_zip()}])
    page.wait_for_selector("#wb-flash.error")
    assert "evil.zip" in page.inner_text("#wb-flash")
    assert "../outside.bpmn" not in [f["path"] for f in json.loads(
        api(page, "GET", f"/owner/api/drafts/{draft_id}")["text"])["files"]]

    # And a flow drawn out of a user task nothing leads to is badged on the diagram
    open_file(page, "quote_approval.bpmn")
    orphan = page.evaluate("""() => {
        const m = window.workbench.bpmn;
        const reg = m.get('elementRegistry'), modeling = m.get('modeling');
        const target = reg.get('send_quote');
        const shape = modeling.createShape({type: 'bpmn:UserTask'},
            {x: target.x + target.width / 2 + 160, y: target.y + target.height + 70}, target.parent);
        modeling.connect(shape, target, {type: 'bpmn:SequenceFlow'});
        m.get('selection').select(shape);
        return shape.id;
    }""")
    # (its form is a new one, made from the panel)
    page.once("dialog", lambda dialog: dialog.accept("courtesy_followup"))
    page.locator("[data-entry-id='spiff-form-schema'] select").select_option("__new__")
    page.wait_for_selector("#wb-files a[data-path='forms/courtesy_followup.uischema.json']")
    assert 'value="courtesy_followup.uischema.json"' in draft_file(
        page, draft_id, "quote_approval.bpmn", 'value="courtesy_followup.uischema.json"')
    badge = page.locator(f".wb-overlay[data-element='{orphan}']")
    badge.wait_for()
    never_runs = "永远不会运行" if lang == "zh" else "never runs"  # the finding in the owner's language
    assert never_runs in badge.get_attribute("title")
    assert never_runs in page.locator(f"#wb-problems li.error[data-element='{orphan}']").inner_text()
    assert page.locator("#wb-files li.current .wb-badge").count() == 1
    shot(page, f"workbench-{lang}-5-dangling")
    page.fill("#wb-deploy-note", "not yet")
    page.click("#wb-deploy button[type=submit]")  # refused while the draft does not validate
    page.wait_for_selector("#wb-flash.error:has-text('{}')".format("未部署" if lang == "zh" else "Not deployed"))
    with services.db.transaction(write=False) as s:
        assert s.scalars(select(Deployment.version).where(Deployment.name == "aftersales")).all() == [1]
    page.evaluate("o => { const m = window.workbench.bpmn; "
                  "m.get('modeling').removeElements([m.get('elementRegistry').get(o)]); }", orphan)
    no_problems(page, lang)
    assert badge.count() == 0

    # Then comparing with the deployed version colours the new task and lists the changed files
    page.click("#wb-compare-go")
    page.wait_for_selector(f".djs-element.wb-diff-added[data-element-id='{task_id}']")
    compare = page.locator("#wb-compare")
    for path in ("quote_approval.dmn", "quote_approval.bpmn", "forms/propose_solution.schema.json"):
        assert compare.locator(f"td:text-is('{path}')").count() >= 1, path
    assert task_id in compare.locator("#wb-diagram-diff").inner_text()
    shot(page, f"workbench-{lang}-6-compare")

    # And the draft downloaded as one zip uploads back unchanged
    with page.expect_download() as download:
        page.click("#wb-download")
    archive = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert "quote_approval.dmn" in zipped.namelist()
    page.set_input_files("#wb-upload", files=[{"name": download.value.suggested_filename,
                                               "mimeType": "application/zip", "buffer": archive}])
    page.wait_for_selector("#wb-flash.ok")
    no_problems(page, lang)

    # And deploying with a note makes version 2
    page.fill("#wb-deploy-note", f"Agent authority 1500 ({lang})")
    page.click("#wb-deploy button[type=submit]")
    page.wait_for_selector("#wb-flash.ok")
    assert ("已部署" if lang == "zh" else "Deployed") in page.inner_text("#wb-flash")
    with services.db.transaction(write=False) as s:
        versions = s.scalars(select(Deployment.version).where(Deployment.name == "aftersales")).all()
    assert sorted(versions) == [1, 2]
    shot(page, f"workbench-{lang}-7-deployed")

    # At 390 px the properties panel sits below the canvas
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    canvas, props = page.locator("#wb-canvas").bounding_box(), page.locator("#wb-props").bounding_box()
    assert props["y"] >= canvas["y"] + canvas["height"] - 1
    assert props["x"] + props["width"] <= 390 + 1
    shot(page, f"workbench-{lang}-8-narrow")
    too_wide = page.evaluate("""() => [...document.querySelectorAll('#workbench *')]
        .filter(e => !e.closest('.djs-container, .wb-scroll') && e.getBoundingClientRect().right > 391)
        .map(e => `${e.tagName}.${e.className}#${e.id}`)""")
    assert too_wide == []
    assert errors == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_owner_edits_checks_compares_and_deploys_a_draft_in_the_browser(site, lang):
    base, services = site
    with chromium(LANGS[lang]) as context:
        walk_through(context.new_page(), base, services, lang)
