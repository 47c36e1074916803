"""A draft whose BPMN file the modeler cannot read (an upload cut off halfway) is not a dead end: the workbench
shows the file's XML to mend in place, says why in the owner's language, and draws the diagram again once the
XML is whole. Never the old diagram over the broken file."""

from __future__ import annotations

import pytest

from tests.owner.test_browser_workbench import LANGS, PROCESSES, draft_file, new_draft, open_file, owners_site, saved
from tests.web.live import chromium, shot

pytestmark = pytest.mark.browser
SAYS = {"en": "The modeler cannot draw this file", "zh": "建模器无法绘制此文件"}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    with owners_site(tmp_path_factory.mktemp("broken-bpmn"), sqlite_template) as served:
        yield served


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_cut_off_bpmn_upload_is_shown_as_xml_to_mend_and_drawn_again_once_whole(site, lang):
    base, _services = site
    whole = (PROCESSES / "quote_approval.bpmn").read_text(encoding="utf-8")
    with chromium(LANGS[lang]) as context:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        draft_id = new_draft(page, base, lang)
        open_file(page, "quote_approval.bpmn")
        assert page.locator(".wb-pane[data-kind=bpmn]").is_visible()

        # When the owner uploads the file cut off halfway
        page.set_input_files("#wb-upload", files=[{"name": "quote_approval.bpmn", "mimeType": "application/xml",
                                                   "buffer": whole[: len(whole) // 2].encode()}])
        # Then the broken XML is shown to mend, not the old diagram, and the message says why in her language
        page.wait_for_function("() => window.workbench.code.text && !window.workbench.state.loading")
        page.wait_for_selector(".wb-pane[data-kind=text]:not([hidden])")
        assert page.locator(".wb-pane[data-kind=bpmn]").is_hidden()
        assert SAYS[lang] in page.inner_text("#wb-flash")
        shown = page.evaluate("() => window.workbench.code.text.state.doc.toString()")
        assert shown == whole[: len(whole) // 2]
        shot(page, f"workbench-broken-bpmn-{lang}")

        # When she mends it as text, it is saved, and opening the file again draws the diagram
        page.evaluate("""(xml) => { const v = window.workbench.code.text;
            v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: xml}}); }""", whole)
        saved(page)
        assert draft_file(page, draft_id, "quote_approval.bpmn", "</bpmn:definitions>") == whole
        open_file(page, "quote_approval.bpmn")
        page.wait_for_selector(".wb-pane[data-kind=bpmn]:not([hidden]) .djs-element")
        assert errors == []
