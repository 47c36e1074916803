"""Fixtures of the auditor and process-owner tests: the web app (``tests/web``'s fixtures),
an order instance half-way through a call activity, and an instance stuck on an incident."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import tests.handlers_for_tests as th
from engine.deploy import deploy
from engine.identity import Actor, create_user
from engine.models import WorkItem
from tests.bpmn_builder import service_chain
from tests.web import conftest as web

# the web app fixtures of tests/web, shared
app, browser, services, signed_in, users = web.app, web.browser, web.services, web.signed_in, web.users

CUSTOMER = {"name": "Ada Lovelace", "phone": "+44 20 7946 0018", "email": "ada@example.com"}
ORDER_FORM = {"order_id": "O-7", "customer_name": "Ada Lovelace", "sku": "SKU-1", "quantity": 2,
              "weight_kg": 3.5, "express": True}


def work_item(services: Any, element_id: str) -> WorkItem:
    """Return the open work item of an element."""
    with services.db.transaction(write=False) as s:
        return s.scalars(select(WorkItem).where(WorkItem.element_id == element_id)).one()


@pytest.fixture
def sally(services: Any) -> Actor:
    """A user of the order fixture's lanes."""
    with services.db.transaction() as s:
        create_user(s, "sally", "correct-horse-1", ["sales_desk", "warehouse"])
    return Actor("sally", frozenset({"sales_desk", "warehouse"}))


@pytest.fixture
def order_instance(deploy_fixture: Any, services: Any, sally: Actor, clock: Any) -> int:
    """An order entered and packed (inside the call activity), now waiting for the payment message."""
    from datetime import timedelta

    deploy_fixture("order")
    with services.db.transaction() as s:
        instance_id = services.runtime.start(s, "order_fulfilment", {"customer": CUSTOMER}, "O-7",
                                             "sally").instance_id
    clock.advance(timedelta(minutes=30))
    enter = work_item(services, "Activity_0enter")
    with services.db.transaction() as s:
        services.runtime.claim(s, enter.task_id, sally)
    clock.advance(timedelta(minutes=5))
    with services.db.transaction() as s:
        services.runtime.complete_task(s, enter.task_id, sally, ORDER_FORM)
    clock.advance(timedelta(hours=2))
    pack = work_item(services, "Activity_pack")
    with services.db.transaction() as s:
        services.runtime.complete_task(s, pack.task_id, sally, {"box": "M"})
    return instance_id


@pytest.fixture
def incident_instances(services: Any) -> list[int]:
    """Two instances stuck on open incidents of ``test.flaky`` (keys ``k1`` and ``k2``)."""
    th.FAILURES.update({"k1": 99, "k2": 99})
    ids = []
    for key in ("k1", "k2"):
        bundle = service_chain("test.flaky", {"key": f"'{key}'"}, process_id=f"flaky_{key}")
        with services.db.transaction() as s:
            deploy(s, bundle, "owner")
        with services.db.transaction() as s:
            ids.append(services.runtime.start(s, f"flaky_{key}", {}, f"K-{key}", "owner").instance_id)
    yield ids
    th.FAILURES.clear()
