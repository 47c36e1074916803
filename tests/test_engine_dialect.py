"""A bundle written in another style (modeler-generated ids, two files, DMN) deploys and runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401  (registers test.* handlers)
from engine.audit import events_for, verify
from engine.models import Instance, MessageSubscription, WorkItem


@pytest.fixture
def shop(deploy_fixture, make_user):
    result = deploy_fixture("order")
    assert result.processes == ["order_fulfilment", "pick_and_pack"]
    return make_user("sally", "sales_desk"), make_user("walt", "warehouse")


def _only_item(database, **where):
    with database.transaction(write=False) as s:
        query = select(WorkItem)
        for key, value in where.items():
            query = query.where(getattr(WorkItem, key) == value)
        return s.scalars(query).one()


def _enter_order(database, runtime, sales, **overrides):
    with database.transaction() as s:
        started = runtime.start(s, "order_fulfilment", {"customer_name": "Ada"}, "O-7", "sally")
    enter = _only_item(database, element_id="Activity_0enter")
    assert enter.role == "sales_desk"  # lane "Sales Desk" maps to role sales_desk
    form = {"order_id": "O-7", "customer_name": "Ada", "sku": "SKU-1", "quantity": 2,
            "weight_kg": 3.5, "express": True, **overrides}
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.complete_task(s, enter.task_id, sales, form)
    return started.instance_id


def test_order_runs_through_call_activity_dmn_parallel_message_and_subprocess(database, runtime, shop):
    sales, warehouse = shop
    # Given an entered order: the DMN chose a method and the invoice branch ran in parallel
    instance_id = _enter_order(database, runtime, sales)
    pack = _only_item(database, element_id="Activity_pack")
    assert (pack.role, pack.stage) == ("warehouse", "Pick and pack")

    # When the warehouse packs (form nested under variableName) and payment arrives, correlated on order_id
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.complete_task(s, pack.task_id, warehouse, {"box": "M"})
        sub = s.scalars(select(MessageSubscription)).one()
    assert (sub.message_name, sub.correlation_key) == ("payment_received", "O-7")
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.deliver_message(s, "payment_received", "O-7", {"order_id": "O-7", "amount": 40})

    # Then the instance completed with every element's data in the trail
    with database.transaction(write=False) as s:
        inst = s.get(Instance, instance_id)
        assert inst.status == "completed"
        deltas = {e.element_id: e.data.get("delta", {}).get("set", {}) for e in events_for(s, instance_id)
                  if e.kind == "task.completed"}
        assert verify(s, instance_id).ok
    assert deltas["Activity_1rule"] == {"shipping": "courier"}
    assert deltas["Activity_0enter"]["weight_class"] == "light"
    assert deltas["Activity_1invoice"]["invoice_total"] == 30.0
    assert deltas["Activity_pack"]["packing"] == {"box": "M"}
    assert deltas["Activity_0archive"] == {"archived": True}
    assert deltas["Activity_0ship"]["shipped"] is True
    assert deltas["Activity_0ship"]["shipment"]["task"] == "Activity_0ship"
    assert deltas["Event_1paid"]["payment"] == {"order_id": "O-7", "amount": 40}


def test_business_error_from_handler_follows_the_error_boundary(database, runtime, shop):
    sales, warehouse = shop
    instance_id = _enter_order(database, runtime, sales, sku="OUT-9", weight_kg=30.0, express=False)
    pack = _only_item(database, element_id="Activity_pack")
    runtime.instances.clear()
    with database.transaction() as s:
        runtime.complete_task(s, pack.task_id, warehouse, {"box": "L"})
    backorder = _only_item(database, element_id="Activity_1backorder")
    assert backorder.role == "warehouse"
    with database.transaction() as s:
        runtime.complete_task(s, backorder.task_id, warehouse, {})
        inst = s.get(Instance, instance_id)
        assert inst.status == "completed"
        kinds = [(e.kind, e.element_id) for e in events_for(s, instance_id)]
    assert ("task.completed", "Event_0oos") in kinds
    assert ("task.completed", "Activity_0ship") not in kinds


def test_manual_task_refuses_form_data(database, runtime, shop):
    from engine.errors import InvalidInput

    sales, warehouse = shop
    _enter_order(database, runtime, sales, sku="OUT-1")
    pack = _only_item(database, element_id="Activity_pack")
    with database.transaction() as s:
        runtime.complete_task(s, pack.task_id, warehouse, {"box": "S"})
    backorder = _only_item(database, element_id="Activity_1backorder")
    with pytest.raises(InvalidInput, match="has no form"), database.transaction() as s:
        runtime.complete_task(s, backorder.task_id, warehouse, {"note": "x"})
