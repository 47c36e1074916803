"""Message contracts: every delivery is authorised and its payload validated before it touches an
instance; a bundle whose waited-for messages lack a contract does not deploy.

The scenarios drive the real ``processes/`` bundle with the real handlers (``tests/process``'s
driver), reloading each instance from the database between triggers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine.bundle import Bundle, read_bundle
from engine.db import Database
from engine.deploy import deploy, validate
from engine.errors import DeploymentInvalid, FormValidationError, InvalidInput, PermissionDenied
from engine.identity import Actor
from engine.message_contracts import Sender
from engine.models import AuditEvent, DeploymentFile, Instance
from engine.registry import load_handlers
from engine.runtime import Runtime
from tests.process.driver import Case, Desk

PROCESSES = Path(__file__).parent.parent / "processes"
CHANNEL_KEY = Sender.acting(Actor("api:web-shop", frozenset()), frozenset({"messages:write", "service-requests:write"}))
CUSTOMER_KEY = Sender.acting(Actor("api:customer-app", frozenset()), frozenset({"messages:write", "messages:customer"}))
WARNING = {"kind": "resolution", "target": "PT24H", "due_at": "2026-03-03T10:00:00+00:00",
           "raised_at": "2026-03-02T16:00:00+00:00", "staff_notified": 1}


@pytest.fixture
def desk(database: Database, runtime: Runtime, clock: Any, desk_state: dict[str, Actor]) -> Iterator[Desk]:
    """The real bundle deployed, the demo catalogue loaded, one user per lane (a copy of the
    ``desk_state`` database, tests/conftest.py)."""
    load_handlers()
    yield Desk(database, runtime, clock, desk_state)


def quoted_refund(desk: Desk) -> Case:
    """A washer nobody can repair economically: the customer is asked to accept a refund."""
    case = desk.open_case()
    case.register().diagnose()
    case.propose([], solution="refund", labour_hours=0, route="repair_centre")
    assert case.waiting_for() == ["quote_response"]
    return case


def footprint(case: Case) -> tuple[int, int, str]:
    """What a refused delivery must leave alone: the instance's version, audit trail and status."""
    def read(session: Any) -> tuple[int, int, str]:
        instance = session.get(Instance, case.instance_id)
        events = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.instance_id == case.instance_id))
        return instance.version, events, instance.status
    return case.desk.read(read)


def send(case: Case, name: str, payload: dict[str, Any], sender: Sender) -> list[int]:
    """Deliver ``name`` to the case's ticket as ``sender`` in one trigger."""
    return case.desk.trigger(lambda s: case.desk.runtime.deliver_message(s, name, case.ticket_number, payload,
                                                                         sender=sender))


def refused(case: Case, name: str, payload: dict[str, Any], sender: Sender, error: type[Exception],
            match: str) -> Exception:
    """Assert that the delivery is refused with ``error`` and leaves the instance as it was."""
    before = footprint(case)
    with pytest.raises(error, match=match) as caught:
        send(case, name, payload, sender)
    assert footprint(case) == before
    return caught.value


def fields(error: Exception) -> list[str]:
    assert isinstance(error, FormValidationError)
    return [e.field for e in error.errors]


def test_a_quote_answer_of_the_wrong_type_is_refused_naming_the_field_and_changes_nothing(desk: Desk) -> None:
    # Given a ticket waiting for the customer's answer to a quote
    case = quoted_refund(desk)

    # When the answer says "no" as a string, or carries a field the contract does not know
    wrong_type = refused(case, "quote_response", {"accepted": "no"}, Sender.customer(), InvalidInput, "accepted")
    unknown = refused(case, "quote_response", {"accepted": False, "price": 1}, Sender.customer(), InvalidInput,
                      "quote_response")

    # Then both are refused, naming the field, and the ticket still waits for a real answer
    assert fields(wrong_type) == ["accepted"] and fields(unknown) == ["(unknown fields)"]
    assert "price" in unknown.errors[0].message  # type: ignore[attr-defined]
    assert case.waiting_for() == ["quote_response"]

    # When the customer then declines properly, the ticket is closed as declined
    case.answer_quote(False, "Too expensive")
    assert case.data()["quote_outcome"] == "declined"
    assert case.status == "completed" and case.ticket().outcome == "declined"


def test_confirmation_and_survey_answers_that_break_the_contract_leave_no_incident(desk: Desk) -> None:
    # Given a refund the customer accepted, waiting for the confirmation
    case = quoted_refund(desk)
    case.answer_quote(True)
    assert case.waiting_for() == ["customer_confirmation"]

    # When "false" comes as a string, it is not taken for solved
    error = refused(case, "customer_confirmation", {"solved": "false"}, Sender.customer(), InvalidInput, "solved")
    assert fields(error) == ["solved"]
    case.confirm(True)
    assert case.waiting_for() == ["survey_answered"]

    # When the survey answer is empty or out of range, it is refused field by field
    assert fields(refused(case, "survey_answered", {}, Sender.customer(), InvalidInput, "csat")) == ["csat", "nps"]
    assert fields(refused(case, "survey_answered", {"csat": 99, "nps": 7}, Sender.customer(), InvalidInput,
                          "csat")) == ["csat"]

    # Then a valid answer closes the ticket, and no incident was ever opened
    case.answer_survey(csat=4, nps=8)
    assert case.status == "completed" and case.ticket().outcome == "resolved"


def test_warehouse_staff_and_plain_channel_keys_may_not_speak_for_the_customer(desk: Desk) -> None:
    # Given a ticket waiting for the customer's answer
    case = quoted_refund(desk)
    warehouse = Sender.acting(desk.staff["warehouse"])

    # When the warehouse or a plain channel key tries to accept the quote or cancel the ticket, they are refused
    for sender in (warehouse, CHANNEL_KEY):
        refused(case, "quote_response", {"accepted": True}, sender, PermissionDenied, "may not send")
        refused(case, "customer_cancel", {"reason": "changed my mind"}, sender, PermissionDenied,
                "may not send message 'customer_cancel'")

    # Then an agent recording the customer's call, or a key that speaks for the customer, may
    assert send(case, "quote_response", {"accepted": True, "comment": "by phone"},
                Sender.acting(desk.staff["agent"])) == [case.instance_id]
    assert case.data()["quote_outcome"] == "accepted"
    assert send(case, "customer_confirmation", {"solved": True}, CUSTOMER_KEY) == [case.instance_id]
    assert case.waiting_for() == ["survey_answered"]


def test_sla_warnings_come_from_the_clock_service_only(desk: Desk) -> None:
    # Given an open ticket
    case = quoted_refund(desk)

    # When a supervisor, the customer or any API key sends an SLA warning, it is refused
    for sender in (Sender.acting(desk.staff["supervisor"]), Sender.customer(), CHANNEL_KEY, CUSTOMER_KEY):
        refused(case, "sla_warning", WARNING, sender, PermissionDenied, "may come from the system")
        refused(case, "sla_breached", WARNING, sender, PermissionDenied, "sla_breached")

    # When the clock service sends a malformed one, it is refused naming the field
    assert fields(refused(case, "sla_warning", {**WARNING, "kind": "sooner"}, Sender.system("sla"), InvalidInput,
                          "kind")) == ["kind"]

    # Then the clock service's well-formed warning reaches the agents
    assert send(case, "sla_warning", WARNING, Sender.system("sla")) == [case.instance_id]
    assert "act_on_sla_warning" in case.ready()


def test_trusted_callers_keep_working_as_the_system_and_are_held_to_the_contract(desk: Desk) -> None:
    # Given a ticket waiting for the customer's answer
    case = quoted_refund(desk)

    # When in-process code delivers without naming a sender, it is the system: the customer's answer is not its to give
    before = footprint(case)
    with pytest.raises(PermissionDenied, match="system may not send message 'quote_response'"):
        desk.trigger(lambda s: desk.runtime.deliver_message(s, "quote_response", case.ticket_number,
                                                            {"accepted": True}))
    assert footprint(case) == before


ANSWER_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="http://x">
  <bpmn:process id="legacy" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_answer"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md_answer" messageRef="msg_answer" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_answer" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait_answer" targetRef="end" />
  </bpmn:process>
  <bpmn:message id="msg_answer" name="answer" />
</bpmn:definitions>"""
ANSWER_CONTRACT = json.dumps({"answer": {"schema": {"type": "object", "properties": {"accepted": {"type": "boolean"}}},
                                         "senders": {"system": True}}}).encode()


def test_an_instance_from_before_contracts_is_held_to_the_newest_contract(database: Database, runtime: Runtime) -> None:
    # Given an instance of a deployment that has no messages.json (deployed before contracts existed)
    with database.transaction() as s:
        old = deploy(s, Bundle("legacy", {"legacy.bpmn": ANSWER_MODEL.format(name="v1").encode(),
                                          "messages.json": ANSWER_CONTRACT}), "owner").deployment_id
        s.execute(delete(DeploymentFile).where(DeploymentFile.deployment_id == old,
                                               DeploymentFile.path == "messages.json"))
        instance_id = runtime.start(s, "legacy", {}, "L-1", "tester").instance_id

    def deliver(payload: dict[str, Any]) -> list[int]:
        runtime.instances.clear()
        with database.transaction() as s:
            return runtime.deliver_message(s, "answer", "L-1", payload)

    # When no deployment declares the message, the delivery is refused and nothing changes
    with pytest.raises(InvalidInput, match="'answer' has no contract"):
        deliver({"accepted": True})

    # Then once a newer deployment declares it, its contract holds for the old instance too
    with database.transaction() as s:
        deploy(s, Bundle("legacy", {"legacy.bpmn": ANSWER_MODEL.format(name="v2").encode(),
                                    "messages.json": ANSWER_CONTRACT}), "owner")
    with pytest.raises(FormValidationError, match="accepted"):
        deliver({"accepted": "yes"})
    assert deliver({"accepted": True}) == [instance_id]
    with database.transaction(write=False) as s:
        assert s.get(Instance, instance_id).status == "completed"


def validation_of(bundle_files: dict[str, bytes], database: Database) -> list[Any]:
    with database.transaction(write=False) as session:
        return validate(Bundle("processes", bundle_files), session).problems


def test_validate_names_file_and_element_of_a_waited_for_message_without_contract(database: Database) -> None:
    # Given the bundle with the contract of parts_arrived removed
    load_handlers()
    files = dict(read_bundle([PROCESSES]).files)
    contracts = json.loads(files["messages.json"])
    del contracts["parts_arrived"]
    files["messages.json"] = json.dumps(contracts).encode()

    # When it is validated, the receive task and the boundary event waiting for it are named with file and line
    problems = [p for p in validation_of(files, database) if p.rule == "messages"]
    assert sorted((p.file, p.element_id, p.severity) for p in problems) == [
        ("parts_supply.bpmn", "await_parts", "error"), ("parts_supply.bpmn", "parts_arrived_while_chasing", "error")]
    for problem in problems:
        assert problem.line and "'parts_arrived'" in problem.message and "messages.json" in problem.message

    # Then deploying it is refused and nothing is deployed
    with pytest.raises(DeploymentInvalid), database.transaction() as session:
        deploy(session, Bundle("processes", files), "owner")
    with database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0


def test_validate_reports_a_contract_schema_that_is_not_json_schema_and_unknown_senders(database: Database) -> None:
    # Given a contract whose schema has a wrong type and whose senders name an unknown role and scope
    load_handlers()
    files = dict(read_bundle([PROCESSES]).files)
    files["messages/parts_arrived.schema.json"] = b'{"type": "object", "properties": {"skus": {"type": "lst"}}}'
    contracts = json.loads(files["messages.json"])
    contracts["device_received"]["senders"] = {"roles": ["courier"], "api_scopes": ["parcels:write"]}
    files["messages.json"] = json.dumps(contracts).encode()

    # When the bundle is validated
    problems = [(p.file, p.element_id, p.message) for p in validation_of(files, database) if p.rule == "messages"]

    # Then each problem names its file and the message
    assert [(f, e) for f, e, _ in problems] == [("messages.json", "device_received")] * 2 + [
        ("messages/parts_arrived.schema.json", "parts_arrived")]
    assert "courier" in problems[0][2] and "parcels:write" in problems[1][2]
    assert "/properties/skus/type" in problems[2][2]


def test_the_bundle_declares_a_contract_for_every_message_it_waits_for(database: Database) -> None:
    # Given the real bundle, when it is validated, then no message problem is reported
    load_handlers()
    assert [p for p in validation_of(dict(read_bundle([PROCESSES]).files), database) if p.rule == "messages"] == []


def test_a_process_file_that_cannot_be_read_does_not_make_its_messages_look_unused(database: Database) -> None:
    # Given the real bundle with after_sales.bpmn cut off halfway
    load_handlers()
    files = dict(read_bundle([PROCESSES]).files)
    files["after_sales.bpmn"] = files["after_sales.bpmn"][: len(files["after_sales.bpmn"]) // 2]
    # When it is validated, the broken XML is the problem, and no contract is called unused because of it
    problems = validation_of(files, database)
    assert any(p.rule == "xml" and p.file == "after_sales.bpmn" for p in problems)
    assert [p for p in problems if p.rule == "messages"] == []
