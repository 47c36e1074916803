"""What-if defaults compare versions of one process, the newest against the current one (or the
current one against the one before it), never a deployment with itself; the run refuses that naming
the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import drafts
from engine.bundle import Bundle
from engine.deploy import deploy
from tests.owner.test_run_whatif import (  # noqa: F401  (processes/ deployed, a draft of it)
    deployed_and_draft,
    whatif_draft_state,
)
from web.owner_run import default_pair


def versions(*rows: tuple[int, bool]) -> list[dict]:
    """Versions of a process newest first: (deployment id, current)."""
    return [{"deployment_id": d, "current": c} for d, c in rows]


@pytest.mark.parametrize(("choices", "asked", "pair"), [
    # two bundles of both processes, the newest current: the current one against the one before it
    ({"after_sales": versions((2, True), (1, False)), "root_cause_analysis": versions((2, True), (1, False))},
     (None, None), (2, 1)),
    # a newer version not current yet (a pilot): it against the current one
    ({"after_sales": versions((3, False), (2, True), (1, False))}, (None, None), (3, 2)),
    # the process deployed last, not the first by name
    ({"after_sales": versions((1, True)), "root_cause_analysis": versions((4, True), (2, False))},
     (None, None), (4, 2)),
    # a version asked for: against its process's current one
    ({"after_sales": versions((3, False), (2, True), (1, False))}, (1, None), (1, 2)),
    # the current one asked for: against the one before it
    ({"after_sales": versions((3, True), (2, False))}, (3, None), (3, 2)),
    # a version to compare with asked for: the newest other one is tried
    ({"after_sales": versions((3, True), (2, False))}, (None, 3), (2, 3)),
    # both asked for: as asked
    ({"after_sales": versions((3, True), (2, False))}, (3, 3), (3, 3)),
    # only one version: on both sides (the page says so, the run refuses it)
    ({"after_sales": versions((1, True))}, (None, None), (1, 1)),
    ({}, (None, None), (None, None)),
])
def test_what_if_defaults_pair_versions_of_one_process(choices, asked, pair) -> None:
    assert default_pair(choices, *asked) == pair


def selected(page: str, name: str) -> str:
    """Return the text of the option selected in the select ``name``."""
    box = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    chosen = re.findall(r"<option[^>]*selected[^>]*>([^<]*)</option>", box)
    assert len(chosen) == 1, chosen
    return chosen[0]


@pytest.mark.parametrize(("lang", "process"), [("en", "After-sales service"), ("zh", "售后服务")])
def test_the_what_if_page_offers_the_current_version_against_the_previous_one_of_the_same_process(
        services, signed_in, deployed_and_draft, lang, process) -> None:  # noqa: F811
    # Given after_sales and its root-cause analysis deployed twice (v2, deployment 2, current)
    first, draft_id = deployed_and_draft
    with services.db.transaction() as s:
        second = deploy(s, Bundle("aftersales", drafts.draft_files(s, draft_id)), "owner").deployment_id
    owner = signed_in("process_owner")
    owner.get(f"/lang/{lang}")
    # When the owner opens the what-if page
    page = owner.get("/owner/whatif").get_data(as_text=True)
    # Then the after-sales process v2 is tried against its v1, not against the root-cause analysis
    assert selected(page, "deployment_id").startswith(f"{process} v2 ({second})")
    assert selected(page, "against_deployment_id").startswith(f"{process} v1 ({first})")
    assert 'id="whatif-one-version"' not in page
    # and the draft can be tried from a link
    assert f"/owner/drafts/{draft_id}/whatif" in page


def test_with_one_version_the_page_says_there_is_nothing_to_compare(signed_in, deployed_and_draft) -> None:  # noqa: F811
    owner = signed_in("process_owner")
    page = owner.get("/owner/whatif").get_data(as_text=True)
    assert selected(page, "deployment_id") == selected(page, "against_deployment_id").removesuffix(" · current")
    assert 'id="whatif-one-version"' in page


@pytest.mark.parametrize(("lang", "words"), [("en", "the version tried itself"), ("zh", "要试用的版本本身")])
def test_a_deployment_compared_with_itself_is_refused_naming_the_field(app, signed_in, deployed_and_draft,  # noqa: F811
                                                                       lang, words) -> None:
    first, _ = deployed_and_draft
    owner = signed_in("process_owner")
    owner.get(f"/lang/{lang}")
    owner.get("/owner/whatif")
    # When the what-if is asked to try deployment 1 against deployment 1 (as the page's script asks)
    response = owner.client.post("/owner/api/whatif", json={"deployment_id": first, "against_deployment_id": first},
                                 headers={"X-CSRFToken": owner.token, "Accept": "application/json",
                                          "Accept-Language": "zh-CN" if lang == "zh" else "en"})
    # Then it is refused naming the field, in the reader's words, and nothing is started
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "against_deployment_id" and words in body["localized_message"]
    jobs = Path(app.config["WHATIF_DIR"])
    assert not jobs.exists() or not any(jobs.iterdir())


@pytest.mark.parametrize(("lang", "words"), [("en", "the version tried itself"), ("zh", "要试用的版本本身")])
def test_a_form_posted_without_the_script_gets_the_page_again_with_the_error_and_what_was_typed(
        app, signed_in, deployed_and_draft, lang, words) -> None:  # noqa: F811
    first, _ = deployed_and_draft
    owner = signed_in("process_owner")
    owner.get(f"/lang/{lang}")
    owner.get("/owner/whatif")
    # When the form asks for deployment 1 against itself, 7 tickets over 3 days, seed 42
    response = owner.post("/owner/api/whatif", {"deployment_id": str(first), "against_deployment_id": str(first),
                                                "tickets": "7", "days": "3", "seed": "42"},
                          headers={"Accept": "text/html,application/xhtml+xml"})  # as a browser posts a form
    # Then the what-if page comes back saying so on the form, with the choices and numbers kept, nothing started
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'id="whatif-error" role="alert">([^<]*)</p>', page)
    assert error and words in error.group(1)
    assert 'name="tickets" inputmode="numeric" size="5" value="7"' in page and 'value="42"' in page
    assert selected(page, "deployment_id").startswith(selected(page, "against_deployment_id")[:8])
    jobs = Path(app.config["WHATIF_DIR"])
    assert not jobs.exists() or not any(jobs.iterdir())
