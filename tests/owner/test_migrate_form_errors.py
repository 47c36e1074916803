"""The migrate page's form: a bad target or no ticket is an error on its field with the ticks kept; a dry run is
shown by a GET after the post, so a refresh does not post again."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.owner.test_run_migrate import at_review, deployments  # noqa: F401  (the fixture)
from tests.support.trail import audit_event_count


@pytest.mark.parametrize(("typed", "language", "words"), [
    ("abc", "en", "Move to deployment: “abc” is not a deployment number; enter a whole number such as 3."),
    ("abc", "zh", "迁移到部署：“abc”不是部署编号"),
    ("999", "en", "Move to deployment: there is no deployment 999."),
    ("999", "zh", "迁移到部署：没有部署 999。"),
    ("", "en", "Move to deployment: choose the version to move the tickets to."),
])
@pytest.mark.parametrize("url", ["/owner/api/migrations/dry-run", "/owner/api/migrations"])
def test_a_bad_target_deployment_is_an_error_on_its_field_keeping_the_ticked_tickets(
        services, signed_in, at_review, typed, language, words, url):  # noqa: F811
    """Given two ticked tickets, when the owner dry-runs (or migrates) them to a bad deployment, then the page
    comes back with the error naming 'Move to deployment', both still ticked, the text typed kept, nothing moved."""
    v1, _v2, ids = at_review
    owner = signed_in("process_owner")
    owner.get(f"/lang/{language}")
    owner.get("/owner/migrate")
    before = audit_event_count(services)
    response = owner.post(url, {"instance_ids": ids[:2], "to_deployment_id": typed}, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert words in page and 'id="to_deployment_id-error"' in page
    assert f'value="{typed}"' in page
    for i in ids[:2]:
        assert f'name="instance_ids" value="{i}" aria-label="#{i}" checked>' in page
    assert f'aria-label="#{ids[2]}">' in page  # not ticked
    assert deployments(services, ids) == [v1, v1, v1] and audit_event_count(services) == before


def test_no_ticked_ticket_is_an_error_naming_the_list(services, signed_in, at_review):  # noqa: F811
    _v1, v2, _ids = at_review
    owner = signed_in("process_owner")
    owner.get("/owner/migrate")
    response = owner.post("/owner/api/migrations/dry-run", {"to_deployment_id": str(v2)})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Running tickets: tick at least one ticket." in page
    assert f'value="{v2}"' in page


def test_a_dry_run_redirects_to_a_page_that_a_refresh_only_reads(services, signed_in, at_review):  # noqa: F811
    """Given the owner dry-runs three tickets from the form, then she is sent to GET /owner/migrate with the
    tickets and target in the query; that page shows the verdicts with the tickets ticked, and loading it
    again writes nothing."""
    v1, v2, ids = at_review
    owner = signed_in("process_owner")
    owner.get("/owner/migrate?process_id=simple")
    response = owner.post("/owner/api/migrations/dry-run",
                          {"instance_ids": ids, "to_deployment_id": str(v2), "process_id": "simple"})
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/owner/migrate"
    query = parse_qs(target.query)
    assert query["dry_run_to"] == [str(v2)] and query["instance_ids"] == [str(i) for i in ids]
    before = audit_event_count(services)
    for _ in range(2):
        page = owner.get(response.headers["Location"]).get_data(as_text=True)
        assert "2 of 3 ticket(s) can move." in page and 'id="migrate-confirm"' in page
        assert all(f'aria-label="#{i}" checked>' in page for i in ids)
    assert deployments(services, ids) == [v1, v1, v1] and audit_event_count(services) == before


def test_a_form_migration_redirects_to_a_page_of_where_the_tickets_stand(services, signed_in, at_review):  # noqa: F811
    """Given the three tickets, two of which can move, when the owner migrates them with the form, then she is
    sent to GET /owner/migrate?migrated_to=…; it says two moved and why the third did not, and reloading it
    moves nothing and writes nothing."""
    v1, v2, ids = at_review
    owner = signed_in("process_owner")
    owner.get("/owner/migrate?process_id=simple")
    response = owner.post("/owner/api/migrations",
                          {"instance_ids": ids, "to_deployment_id": str(v2), "process_id": "simple"})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query)["migrated_to"] == [str(v2)]
    assert deployments(services, ids) == [v2, v2, v1]
    before = audit_event_count(services)
    for _ in range(2):
        page = owner.get(response.headers["Location"]).get_data(as_text=True)
        assert 'data-action="migrate"' in page and "2 of 3 ticket(s) moved." in page
        assert "<code>mark_big</code>" in page and 'id="migrate-confirm"' not in page
    assert deployments(services, ids) == [v2, v2, v1] and audit_event_count(services) == before
