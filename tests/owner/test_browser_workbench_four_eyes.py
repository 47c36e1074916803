"""The process owner sets a user task's four-eyes rule in the modeler, in English and in Chinese.

As ``owner`` on a draft of the deployed version: *Approve the quote* shows, in its "Four eyes" group,
that whoever completed *Propose a solution* may not do it, listing the process's other user tasks; a
mistyped task id is a problem naming the task (validate's rule ``duties``), and putting it right
clears it. Screenshots: ``test-artifacts/screenshots/workbench-four-eyes-*.png``.
"""

from __future__ import annotations

import pytest

from tests.owner.test_browser_workbench import draft_file, new_draft, no_problems, open_file, owners_site, saved
from tests.web.live import chromium, shot

pytestmark = pytest.mark.browser
SAID = {"en": ("Four eyes", "Ids of earlier user tasks of this process, comma separated: "),
        "zh": ("四眼原则", "本流程中前序用户任务的 ID，用逗号分隔：")}


@pytest.fixture
def site(tmp_path, sqlite_template):
    """The product's bundle deployed as ``aftersales`` v1 and a process owner, served on loopback."""
    with owners_site(tmp_path, sqlite_template) as served:
        yield served


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_owner_reads_and_sets_who_may_not_approve_in_the_modeler(site, lang):
    base, _ = site
    with chromium("zh-CN" if lang == "zh" else "en-US") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1400, "height": 1000})
        # Given a draft of the deployed version, with quote_approval.bpmn open and its approval selected
        draft_id = new_draft(page, base, lang)
        open_file(page, "quote_approval.bpmn")
        page.evaluate("() => { const m = window.workbench.bpmn; "
                      "m.get('selection').select(m.get('elementRegistry').get('review_quote')); }")
        group = page.locator("[data-group-id='group-spiff-duties']")
        title, listed = SAID[lang]
        assert group.locator(".bio-properties-panel-group-header-title").inner_text() == title
        if not group.locator("[data-entry-id='spiff-exclude-performers'] input").is_visible():
            group.locator(".bio-properties-panel-group-header").click()
        field = group.locator("[data-entry-id='spiff-exclude-performers'] input")
        # Then the model's rule is there: not by whoever proposed the solution
        assert field.input_value() == "propose_solution"
        description = group.locator(".bio-properties-panel-description").inner_text()
        assert description == f"{listed}propose_solution"

        # When the owner mistypes the task, Then validation names the approval and the wrong id
        field.fill("propose_solutoin")
        assert 'value="propose_solutoin"' in draft_file(page, draft_id, "quote_approval.bpmn", "propose_solutoin")
        saved(page)
        page.click("#wb-validate")
        problems = page.locator("#wb-problems")
        problems.locator(":text('propose_solutoin')").first.wait_for()
        assert "review_quote" in problems.inner_text()
        shot(page, f"workbench-four-eyes-typo-{lang}")

        # When it is put right, Then the draft validates again
        field.fill("propose_solution")
        draft_file(page, draft_id, "quote_approval.bpmn", 'value="propose_solution"')
        saved(page)
        no_problems(page, lang)
        shot(page, f"workbench-four-eyes-{lang}")
