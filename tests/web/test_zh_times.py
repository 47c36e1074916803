"""One time zone, labelled: a moment reads the same on the ticket, audit and owner pages.

Times are shown in the business time zone (Asia/Shanghai) with its label — ``CST`` in
English, ``北京时间`` in Chinese; durations in words, never ISO; CSV exports open right in
a Chinese Excel (UTF-8 with a byte order mark).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.models import Deployment, Instance

SHANGHAI = ZoneInfo("Asia/Shanghai")
LABELS = {"en": "CST", "zh": "北京时间"}
BOM = b"\xef\xbb\xbf"


def _moments(services, key):
    with services.db.transaction(write=False) as s:
        instance = s.scalars(select(Instance).where(Instance.business_key == key)).one()
        deployment = s.get(Deployment, instance.deployment_id)
        return instance.id, instance.started_at, deployment.id, deployment.deployed_at


def _reads(moment, language, pattern="%Y-%m-%d %H:%M"):
    return f"{moment.astimezone(SHANGHAI).strftime(pattern)} {LABELS[language]}"


def _in(client, language):
    client.get(f"/lang/{language}")
    return client


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_same_moment_reads_the_same_on_ticket_audit_and_owner_pages(signed_in, services, repair_ticket,
                                                                        language):
    instance_id, started, deployment_id, deployed = _moments(services, repair_ticket)
    opened = _reads(started, language)
    agent, auditor, owner = (_in(signed_in(role), language) for role in ("agent", "auditor", "process_owner"))
    pages = {
        "ticket": agent.get(f"/tickets/{repair_ticket}"),
        "audit list": auditor.get("/audit/instances"),
        "audit trace": auditor.get(f"/audit/instances/{instance_id}"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert opened in response.get_data(as_text=True), f"{name} does not show {opened}"
    trace = auditor.get(f"/audit/instances/{instance_id}/trace.json").get_json()
    first = trace["timeline"][0]
    assert first["at_text"] == _reads(started, language, "%Y-%m-%d %H:%M:%S")
    assert first["at"].startswith(started.isoformat()[:19])  # the JSON keeps ISO 8601 with its offset
    step = auditor.get(f"/audit/instances/{instance_id}/data.json?seq=1").get_json()
    assert step["at_text"] == first["at_text"]
    deployed_reads = _reads(deployed, language)
    for url in ("/owner/definitions", f"/owner/deployments/{deployment_id}"):
        response = owner.get(url)
        assert response.status_code == 200, url
        assert deployed_reads in response.get_data(as_text=True), url


def test_no_page_shows_a_moment_in_utc_without_its_label(signed_in, services, repair_ticket):
    _id, started, _dep, deployed = _moments(services, repair_ticket)
    utc = started.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
    if utc == started.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"):
        pytest.skip("the test clock's moment reads the same in UTC")  # never with an 8-hour offset
    auditor = signed_in("auditor")
    for url in ("/audit/instances", f"/audit/instances/{_id}"):
        assert utc not in auditor.get(url).get_data(as_text=True), url


def test_sla_targets_read_as_words_not_iso_durations(signed_in, repair_ticket):
    agent = _in(signed_in("agent"), "zh")
    page = agent.get(f"/tickets/{repair_ticket}").get_data(as_text=True)
    assert not re.search(r"\bPT?\d+[DHMS]\b", page.split("<main", 1)[1])  # no PT8H, PT24H, P3D …


def test_span_says_iso_durations_in_the_readers_words(app):
    from web.rendering import span

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert (span("PT8H"), span("P3D"), span("PT24H"), span("PT90M")) == ("8 小时", "3 天", "24 小时", "1小时 30分")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert (span("PT8H"), span("P3D"), span("not a duration")) == ("8 h", "3 d", "not a duration")


@pytest.mark.parametrize("url", ["/audit/instances.csv", "/audit/instances/{id}/trail.csv",
                                 "/dashboard/export/channel.csv"])
def test_csv_exports_start_with_a_byte_order_mark_for_excel(signed_in, services, repair_ticket, url):
    instance_id = _moments(services, repair_ticket)[0]
    response = signed_in("supervisor" if "dashboard" in url else "auditor").get(url.format(id=instance_id))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(BOM)
    assert response.data[3:4] != b"\xef"  # exactly one BOM
    response.data.decode("utf-8")  # and UTF-8 throughout
