"""Dispatch: technician by skill, region, availability and load; qualified providers; RMA."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.dispatch import Assignment, ProviderJob, Rma, Technician


def assign(call, ticket="AS-20260302-00001", task=None, skill="washing_machine", region="east", priority="medium"):
    return call("dispatch.assign_technician", task=task or f"assign-{ticket}", ticket_number=ticket, skill=skill,
                region=region, priority=priority)


def test_the_only_available_technician_with_the_skill_gets_the_job_and_a_window(call):
    # tech.qian also repairs washing machines in the east, but is on leave until 2026-03-08
    result = assign(call)
    assert (result["technician"], result["name"]) == ("tech.wang", "Wang Lei")
    # 09:00 UTC Monday is 17:00 in Shanghai; medium priority books from 24 h later, within working hours
    assert result["appointment"] == {"start": "2026-03-04T08:30:00+08:00", "end": "2026-03-04T10:30:00+08:00"}
    assert "tech.qian is on leave until 2026-03-08" in result["reason"]
    assert "0 open assignment(s), the fewest of 1 available" in result["reason"]
    assert result["reason_zh"].startswith("tech.wang（王磊）具备“洗衣机”技能、负责华东，当前有 0 个未完成派工")


def test_the_least_loaded_technician_wins_and_ties_go_to_the_earlier_window(call):
    # Given wang (free from 08:30) and zhao (free from 09:00), both repairing refrigerators in the east
    first = assign(call, ticket="T1", skill="refrigerator")
    second = assign(call, ticket="T2", skill="refrigerator")
    third = assign(call, ticket="T3", skill="refrigerator")
    # Then the loads decide, and on equal load the earlier window
    assert [first["technician"], second["technician"], third["technician"]] == ["tech.wang", "tech.zhao", "tech.wang"]
    assert "others: tech.zhao 1" in third["reason"]


def test_appointments_of_one_technician_do_not_overlap(call):
    results = [assign(call, ticket=f"T{i}", skill="tv", region="north") for i in range(5)]
    by_technician: dict[str, list[tuple[str, str]]] = {}
    for result in results:
        window = result["appointment"]
        by_technician.setdefault(result["technician"], []).append((window["start"], window["end"]))
    assert sorted(by_technician) == ["tech.liu", "tech.yang"]
    for windows in by_technician.values():
        windows.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in zip(windows, windows[1:], strict=False))


def test_urgent_jobs_are_booked_sooner_than_low_priority_ones(call):
    urgent = assign(call, ticket="U", skill="air_conditioner", region="south", priority="urgent")
    low = assign(call, ticket="L", skill="air_conditioner", region="south", priority="low")
    # 17:00 in Guangzhou: two hours later is too late for a two-hour window before 20:00
    assert urgent["appointment"]["start"] == "2026-03-03T08:00:00+08:00"
    # the low-priority job goes to wu (no load yet), 48 hours out, in wu's working hours
    assert (low["technician"], low["appointment"]["start"]) == ("tech.wu", "2026-03-05T08:30:00+08:00")


def test_a_closed_ticket_no_longer_counts_as_load(call):
    call("ticketing.open_ticket", task="open", channel="web", fault={}, expectation="",
         customer={"name": "A", "phone": "13800000001"}, product={"model": "TV-55U8", "serial_number": "TV-1"})
    first = assign(call, ticket="AS-20260302-00001", skill="tv")
    call("ticketing.close_ticket", task="close", ticket_number="AS-20260302-00001", outcome="resolved")
    second = assign(call, ticket="AS-20260302-00002", skill="tv")
    assert first["technician"] == second["technician"] == "tech.sun"
    assert "0 open assignment(s)" in second["reason"]


def test_assigning_again_for_the_same_task_books_once(call, count):
    assert assign(call, task="a") == assign(call, task="a")
    assert count(Assignment) == 1


def test_a_new_assignment_for_the_same_ticket_replaces_the_open_one(call, count):
    assign(call, task="first")
    assign(call, task="second")
    assert count(Assignment, status="open") == 1 and count(Assignment, status="replaced") == 1


@pytest.mark.parametrize(("skill", "region"), [("tv", "west"), ("drones", "east")])
def test_no_matching_technician_is_a_business_error(call, count, skill, region):
    with pytest.raises(BusinessError, match="no available technician") as info:
        assign(call, skill=skill, region=region)
    assert info.value.code == "NO_TECHNICIAN" and count(Assignment) == 0


def test_technicians_on_leave_are_named_when_nobody_is_available(call, database, count):
    # Given wang goes on leave too, so no east technician repairs washing machines this week
    with database.transaction() as session:
        session.get(Technician, "tech.wang").leave = [{"from": "2026-03-01", "to": "2026-03-03"}]
    # Then the business error says who was passed over and why
    with pytest.raises(BusinessError, match="tech.qian is on leave until 2026-03-08; tech.wang is on leave") as info:
        assign(call)
    assert info.value.payload["passed_over"] == ["tech.qian is on leave until 2026-03-08",
                                                 "tech.wang is on leave until 2026-03-03"]
    assert count(Assignment) == 0


def test_priority_must_be_known(call):
    with pytest.raises(HandlerError, match="priority must be one of urgent, high, medium, low"):
        assign(call, priority="asap")


def test_only_a_provider_qualified_today_is_chosen(call, count):
    result = call("dispatch.choose_provider", task="p", ticket_number="AS-1", skill="air_conditioner",
                  region="east")
    assert (result["provider_id"], result["qualified_until"]) == ("PRV-HD", "2027-06-30")
    assert "best rating (4.6)" in result["reason"]
    assert result["reason_zh"].startswith(
        "PRV-HD（华东家电服务有限公司）覆盖华东、具备“空调”技能，资质有效期至 2027-06-30")
    assert count(ProviderJob) == 1


def test_an_expired_qualification_means_no_provider(call, count):
    with pytest.raises(BusinessError, match="PRV-LN qualification expired 2025-12-31") as info:
        call("dispatch.choose_provider", ticket_number="AS-1", skill="air_conditioner", region="south")
    assert info.value.code == "NO_QUALIFIED_PROVIDER"
    assert info.value.payload["not_qualified"] == ["PRV-LN qualification expired 2025-12-31"]
    assert count(ProviderJob) == 0


def test_a_qualification_that_ends_later_is_used_until_its_last_day(call, clock):
    clock.advance(timedelta(days=304))  # 2026-12-31, Beijing time
    result = call("dispatch.choose_provider", ticket_number="AS-1", skill="tv", region="north")
    assert result["provider_id"] == "PRV-BF"
    clock.advance(timedelta(days=1))
    with pytest.raises(BusinessError, match="PRV-BF qualification expired 2026-12-31"):
        call("dispatch.choose_provider", task="later", ticket_number="AS-1", skill="tv", region="north")


def test_an_rma_names_the_repair_centre_and_explains_shipping_in_the_customer_language(call, count):
    result = call("dispatch.create_rma", task="rma", ticket_number="AS-20260302-00004",
                  customer={"name": "Li", "language": "zh", "region": "south"})
    assert result["rma_number"] == "RMA-20260302-00004"
    assert result["ship_to"]["name"] == "Aftersales Repair Centre Guangzhou"
    assert "RMA-20260302-00004" in result["instructions"] and "寄送至" in result["instructions"]
    second = call("dispatch.create_rma", task="rma2", ticket_number="AS-20260302-00004", customer={"name": "Li"})
    assert second["rma_number"] == "RMA-20260302-00004-2"
    assert second["ship_to"]["name"] == "Aftersales Repair Centre Shanghai"
    assert "Please ship your device" in second["instructions"]
    assert count(Rma) == 2
