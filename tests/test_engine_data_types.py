"""Dates, times, durations and decimals a script leaves in task data survive saving and reloading."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from engine import store
from engine.audit import events_for
from engine.deploy import deploy
from engine.models import Instance, WorkItem
from tests.bpmn_builder import script_then_gateway

SCRIPT = ('due = date.today() + timedelta(days=3)\n'
          'price = Decimal("12.50") * 2\n'
          'seen = datetime.now()\n'
          'label = due.strftime("%Y-%m-%d")')


def test_script_values_of_every_date_and_number_type_survive_a_reload(database, runtime, clock):
    # Given a script that leaves a date, a Decimal, a datetime and a string in the data
    with database.transaction() as s:
        deploy(s, script_then_gateway(SCRIPT, "price > 20", "typed"), "owner")
        instance_id = runtime.start(s, "typed", {}, "D-1", "ann").instance_id
    runtime.instances.clear()
    # When the instance is read back from the database
    with database.transaction() as s:
        inst = s.get(Instance, instance_id)
        data = dict(store.read_workflow(s, inst, runtime.specs).get_next_task(spec_name="yes_task").data)
        item = s.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id)).one()
        completed = [e for e in events_for(s, instance_id) if e.element_id == "run_script"]
    # Then each value kept its type, and the condition saw the Decimal
    assert inst.status == "active" and item.element_id == "yes_task"
    today = clock.now().date()
    assert (data["due"], data["price"], data["label"]) == (today + timedelta(days=3), Decimal("25.00"),
                                                          (today + timedelta(days=3)).isoformat())
    assert type(data["due"]) is date and isinstance(data["seen"], datetime)
    # And the trail shows them as text
    assert completed[0].data["delta"]["set"]["price"] == "25.00"
