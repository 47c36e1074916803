"""Messages thrown by one instance reach what waits for them in the others, in the same transaction.

Every trigger starts from the database (``flow`` empties the instance cache first), on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.audit import events_for, verify
from engine.errors import DeliveryLoop, FormValidationError
from engine.models import Instance, UndeliveredMessage

# the form of a user task that takes any object (the conformance bundle brings any.json)
FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
        'name="formJsonSchemaFilename" value="any.json" /></spiffworkflow:properties></bpmn:extensionElements>')

# A ticket waits for the customer's answer (intermediate catch event, correlated on the ticket).
TICKET = '''
<bpmn:process id="ticket_case" isExecutable="true">
  <bpmn:startEvent id="ticket_case_start"><bpmn:outgoing>t1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait_answer" name="Answer received"><bpmn:incoming>t1</bpmn:incoming>
    <bpmn:outgoing>t2</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_wait" messageRef="msg_answer"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>answer</spiffworkflow:messageVariable>
      <spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>ticket</spiffworkflow:propertyId>
        <spiffworkflow:expression>ticket</spiffworkflow:expression></spiffworkflow:processVariableCorrelation>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:userTask id="act" name="Act on the answer">
    <bpmn:incoming>t2</bpmn:incoming><bpmn:outgoing>t3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="ticket_case_end"><bpmn:incoming>t3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="t1" sourceRef="ticket_case_start" targetRef="wait_answer" />
  <bpmn:sequenceFlow id="t2" sourceRef="wait_answer" targetRef="act" />
  <bpmn:sequenceFlow id="t3" sourceRef="act" targetRef="ticket_case_end" />
</bpmn:process>'''

# The customer's side decides, then throws the answer (intermediate throw event).
CUSTOMER = f'''
<bpmn:process id="customer" isExecutable="true">
  <bpmn:startEvent id="customer_start"><bpmn:outgoing>c1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="decide" name="Decide">{FORM}
    <bpmn:incoming>c1</bpmn:incoming><bpmn:outgoing>c2</bpmn:outgoing></bpmn:userTask>
  <bpmn:intermediateThrowEvent id="send_answer" name="Send the answer"><bpmn:incoming>c2</bpmn:incoming>
    <bpmn:outgoing>c3</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_send" messageRef="msg_answer"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{{"ticket": ticket, "accepted": accepted}}</spiffworkflow:messagePayload>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="customer_end"><bpmn:incoming>c3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="c1" sourceRef="customer_start" targetRef="decide" />
  <bpmn:sequenceFlow id="c2" sourceRef="decide" targetRef="send_answer" />
  <bpmn:sequenceFlow id="c3" sourceRef="send_answer" targetRef="customer_end" />
</bpmn:process>'''

ANSWER = '''
<bpmn:message id="msg_answer" name="customer_answer" />
<bpmn:correlationProperty id="ticket" name="ticket">
  <bpmn:correlationPropertyRetrievalExpression messageRef="msg_answer">
    <bpmn:formalExpression>ticket</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>
</bpmn:correlationProperty>'''

# The workshop's order goes out with a send task; the warehouse picks it up with a receive task.
WORKSHOP = '''
<bpmn:process id="workshop" isExecutable="true">
  <bpmn:startEvent id="workshop_start"><bpmn:outgoing>w1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sendTask id="order_parts" name="Order the parts" messageRef="msg_parts"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{"part": part, "quantity": 2}</spiffworkflow:messagePayload>
    </bpmn:extensionElements><bpmn:incoming>w1</bpmn:incoming><bpmn:outgoing>w2</bpmn:outgoing></bpmn:sendTask>
  <bpmn:userTask id="repair" name="Repair">
    <bpmn:incoming>w2</bpmn:incoming><bpmn:outgoing>w3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="workshop_end"><bpmn:incoming>w3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="w1" sourceRef="workshop_start" targetRef="order_parts" />
  <bpmn:sequenceFlow id="w2" sourceRef="order_parts" targetRef="repair" />
  <bpmn:sequenceFlow id="w3" sourceRef="repair" targetRef="workshop_end" />
</bpmn:process>
<bpmn:process id="warehouse" isExecutable="true">
  <bpmn:startEvent id="warehouse_start"><bpmn:outgoing>h1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:receiveTask id="await_order" name="Wait for the order" messageRef="msg_parts"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>order</spiffworkflow:messageVariable>
    </bpmn:extensionElements><bpmn:incoming>h1</bpmn:incoming><bpmn:outgoing>h2</bpmn:outgoing></bpmn:receiveTask>
  <bpmn:userTask id="pick" name="Pick the parts">
    <bpmn:incoming>h2</bpmn:incoming><bpmn:outgoing>h3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="warehouse_end"><bpmn:incoming>h3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="h1" sourceRef="warehouse_start" targetRef="await_order" />
  <bpmn:sequenceFlow id="h2" sourceRef="await_order" targetRef="pick" />
  <bpmn:sequenceFlow id="h3" sourceRef="pick" targetRef="warehouse_end" />
</bpmn:process>
<bpmn:message id="msg_parts" name="parts_order" />'''

# A repair order is a process of its own, started by the message that requests it.
REPAIR_ORDER = '''
<bpmn:process id="repair_order" isExecutable="true">
  <bpmn:startEvent id="requested" name="Repair requested"><bpmn:outgoing>r1</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_requested" messageRef="msg_repair"><bpmn:extensionElements>
      <spiffworkflow:messageVariable>request</spiffworkflow:messageVariable>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:startEvent>
  <bpmn:userTask id="plan" name="Plan the repair">
    <bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="repair_order_end"><bpmn:incoming>r2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="r1" sourceRef="requested" targetRef="plan" />
  <bpmn:sequenceFlow id="r2" sourceRef="plan" targetRef="repair_order_end" />
</bpmn:process>'''

# The service desk asks for a repair from inside a subprocess, then ends.
DESK = '''
<bpmn:process id="desk" isExecutable="true">
  <bpmn:startEvent id="desk_start"><bpmn:outgoing>d1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="triage" name="Triage">
    <bpmn:incoming>d1</bpmn:incoming><bpmn:outgoing>d2</bpmn:outgoing></bpmn:userTask>
  <bpmn:subProcess id="hand_over" name="Hand over"><bpmn:incoming>d2</bpmn:incoming><bpmn:outgoing>d3</bpmn:outgoing>
    <bpmn:startEvent id="sub_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="request_repair" name="Request the repair"><bpmn:incoming>s1</bpmn:incoming>
      <bpmn:outgoing>s2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md_request" messageRef="msg_repair"><bpmn:extensionElements>
        <spiffworkflow:messagePayload>{"device": device, "fault": fault}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="sub_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="request_repair" />
    <bpmn:sequenceFlow id="s2" sourceRef="request_repair" targetRef="sub_end" />
  </bpmn:subProcess>
  <bpmn:endEvent id="desk_end"><bpmn:incoming>d3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="d1" sourceRef="desk_start" targetRef="triage" />
  <bpmn:sequenceFlow id="d2" sourceRef="triage" targetRef="hand_over" />
  <bpmn:sequenceFlow id="d3" sourceRef="hand_over" targetRef="desk_end" />
</bpmn:process>
<bpmn:message id="msg_repair" name="repair_requested" />'''

# A ticket at work takes a repeat contact beside its work (non-interrupting message event
# subprocess); a chat session passes the contact on, routed by the ticket number they share.
REPEAT_CONTACT = '''
<bpmn:process id="worked_ticket" isExecutable="true">
  <bpmn:startEvent id="worked_ticket_start"><bpmn:outgoing>k1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work"><bpmn:incoming>k1</bpmn:incoming>
    <bpmn:outgoing>k2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="worked_ticket_end"><bpmn:incoming>k2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="k1" sourceRef="worked_ticket_start" targetRef="work" />
  <bpmn:sequenceFlow id="k2" sourceRef="work" targetRef="worked_ticket_end" />
  <bpmn:subProcess id="on_contact" name="On a repeat contact" triggeredByEvent="true">
    <bpmn:startEvent id="contact_arrived" isInterrupting="false"><bpmn:outgoing>v1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md_contact" messageRef="msg_contact"><bpmn:extensionElements>
        <spiffworkflow:messageVariable>contact</spiffworkflow:messageVariable>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:startEvent>
    <bpmn:userTask id="review_contact" name="Review the contact"><bpmn:incoming>v1</bpmn:incoming>
      <bpmn:outgoing>v2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="contact_reviewed"><bpmn:incoming>v2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="v1" sourceRef="contact_arrived" targetRef="review_contact" />
    <bpmn:sequenceFlow id="v2" sourceRef="review_contact" targetRef="contact_reviewed" />
  </bpmn:subProcess>
</bpmn:process>
<bpmn:process id="chat" isExecutable="true">
  <bpmn:startEvent id="chat_start"><bpmn:outgoing>h1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateThrowEvent id="pass_contact" name="Pass the contact on"><bpmn:incoming>h1</bpmn:incoming>
    <bpmn:outgoing>h2</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_pass" messageRef="msg_contact"><bpmn:extensionElements>
      <spiffworkflow:messagePayload>{"channel": "chat", "text": text}</spiffworkflow:messagePayload>
    </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="chat_end"><bpmn:incoming>h2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="h1" sourceRef="chat_start" targetRef="pass_contact" />
  <bpmn:sequenceFlow id="h2" sourceRef="pass_contact" targetRef="chat_end" />
</bpmn:process>
<bpmn:message id="msg_contact" name="customer_contact" />'''

# An echo answers every ping with a ping: each one starts the next — a loop.
ECHO = '''
<bpmn:process id="echo" isExecutable="true">
  <bpmn:startEvent id="pinged"><bpmn:outgoing>e1</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_pinged" messageRef="msg_ping" /></bpmn:startEvent>
  <bpmn:intermediateThrowEvent id="ping_again" name="Ping again">
    <bpmn:incoming>e1</bpmn:incoming><bpmn:outgoing>e2</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_again" messageRef="msg_ping" /></bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="echo_end"><bpmn:incoming>e2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="e1" sourceRef="pinged" targetRef="ping_again" />
  <bpmn:sequenceFlow id="e2" sourceRef="ping_again" targetRef="echo_end" />
</bpmn:process>
<bpmn:process id="pinger" isExecutable="true">
  <bpmn:startEvent id="pinger_start"><bpmn:outgoing>p1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="go" name="Go"><bpmn:incoming>p1</bpmn:incoming><bpmn:outgoing>p2</bpmn:outgoing></bpmn:userTask>
  <bpmn:intermediateThrowEvent id="ping" name="Ping"><bpmn:incoming>p2</bpmn:incoming><bpmn:outgoing>p3</bpmn:outgoing>
    <bpmn:messageEventDefinition id="md_ping" messageRef="msg_ping" /></bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="pinger_end"><bpmn:incoming>p3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="p1" sourceRef="pinger_start" targetRef="go" />
  <bpmn:sequenceFlow id="p2" sourceRef="go" targetRef="ping" />
  <bpmn:sequenceFlow id="p3" sourceRef="ping" targetRef="pinger_end" />
</bpmn:process>
<bpmn:message id="msg_ping" name="ping" />'''


def _trail(flow, run, kind):
    return [e for e in flow.read(lambda s: events_for(s, run.id)) if e.kind == kind]


def _undelivered(flow):
    return flow.read(lambda s: list(s.scalars(select(UndeliveredMessage).order_by(UndeliveredMessage.id))))


def _count_instances(flow):
    return flow.read(lambda s: s.scalar(select(func.count()).select_from(Instance)))


def test_a_thrown_message_reaches_the_instance_waiting_with_its_key_and_no_other(flow):
    # Given two tickets waiting for the customer's answer, and the customer's side of T-1
    flow.deploy(TICKET + CUSTOMER + ANSWER)
    t1 = flow.start("ticket_case", {"ticket": "T-1"}, "T-1")
    t2 = flow.start("ticket_case", {"ticket": "T-2"}, "T-2")
    customer = flow.start("customer", {"ticket": "T-1"}, "C-1")
    assert t1.subscriptions() == [("wait_answer", "customer_answer")]

    # When the customer decides, the throw event sends the answer
    customer.complete("decide", {"accepted": True})

    # Then ticket T-1 received it with its payload and goes on; T-2 still waits
    assert customer.status == "completed"
    assert t1.ready() == ["act"] and t1.subscriptions() == []
    assert t1.data()["answer"] == {"ticket": "T-1", "accepted": True}
    assert t2.ready() == [] and t2.subscriptions() == [("wait_answer", "customer_answer")]
    [received] = _trail(flow, t1, "message.received")
    assert received.data == {"message": "customer_answer", "key": "T-1", "from_instance": customer.id,
                             "payload": {"ticket": "T-1", "accepted": True}}
    [sent] = _trail(flow, customer, "message.sent")
    assert (sent.element_id, sent.data) == ("send_answer", {"message": "customer_answer", "key": "T-1",
                                                            "to": [t1.id], "started": []})
    assert _undelivered(flow) == []
    assert flow.read(verify).ok


def test_a_send_task_reaches_a_receive_task_of_another_instance(flow):
    # Given a warehouse waiting for orders of workshop W-1 (no correlation: routed by the business key)
    flow.deploy(WORKSHOP)
    warehouse = flow.start("warehouse", {}, "W-1")
    assert warehouse.subscriptions() == [("await_order", "parts_order")]

    # When the workshop starts, its send task orders the parts
    workshop = flow.start("workshop", {"part": "fan"}, "W-1")

    # Then the warehouse picks them, and the workshop repairs
    assert workshop.ready() == ["repair"]
    assert warehouse.ready() == ["pick"]
    assert warehouse.data()["order"] == {"part": "fan", "quantity": 2}
    [sent] = _trail(flow, workshop, "message.sent")
    assert (sent.element_id, sent.data["to"]) == ("order_parts", [warehouse.id])


def test_a_thrown_message_starts_the_event_subprocess_of_another_instance_beside_its_work(flow):
    # Given a ticket at work, and a chat about the same ticket
    flow.deploy(REPEAT_CONTACT)
    ticket = flow.start("worked_ticket", {"product": "Aurora X1"}, "T-5")
    assert ticket.subscriptions() == [("contact_arrived", "customer_contact")]

    # When the chat passes the customer's new contact on
    chat = flow.start("chat", {"text": "still broken"}, "T-5")

    # Then the ticket reviews it beside its work, with the ticket's data and the contact
    assert chat.status == "completed"
    assert ticket.ready() == ["review_contact", "work"]
    ticket.complete("review_contact")
    assert ticket.data()["contact"] == {"channel": "chat", "text": "still broken"}
    assert ticket.data()["product"] == "Aurora X1"
    [received] = _trail(flow, ticket, "message.received")
    assert (received.element_id, received.data["from_instance"]) == ("contact_arrived", chat.id)


def test_a_message_start_event_starts_an_instance_with_the_payload_as_its_data(flow):
    # Given a deployed process started by "repair_requested", and a desk that requests it from a subprocess
    flow.deploy(REPAIR_ORDER + DESK)
    desk = flow.start("desk", {"device": "Aurora X1", "fault": "no power"}, "AS-7")
    assert flow.instances("repair_order") == []

    # When the desk's triage is done
    desk.complete("triage")

    # Then a repair order was started for the same ticket, with the request as its data
    assert desk.status == "completed"
    [order] = flow.instances("repair_order")
    assert order.ready() == ["plan"]
    assert order.instance.business_key == "AS-7"
    assert order.data()["request"] == {"device": "Aurora X1", "fault": "no power"}
    assert [e.kind for e in flow.read(lambda s: events_for(s, order.id))][:3] == [
        "instance.created", "message.received", "task.completed"]
    [sent] = _trail(flow, desk, "message.sent")
    assert (sent.element_id, sent.data["to"], sent.data["started"]) == ("request_repair", [], [order.id])

    # And it runs on like any instance
    order.complete("plan")
    assert order.status == "completed"


def test_a_message_nobody_waits_for_is_recorded_as_undelivered_and_not_replayed_later(flow):
    # Given the customer's side of a ticket nobody has opened yet
    flow.deploy(TICKET + CUSTOMER + ANSWER)
    customer = flow.start("customer", {"ticket": "T-9"}, "C-9")

    # When the customer answers
    customer.complete("decide", {"accepted": False})

    # Then the answer is recorded as undelivered, on the sender's trail and in the table
    assert customer.status == "completed"
    [row] = _undelivered(flow)
    assert (row.instance_id, row.element_id, row.message_name, row.correlation_key, row.payload) == (
        customer.id, "send_answer", "customer_answer", "T-9", {"ticket": "T-9", "accepted": False})
    [note] = _trail(flow, customer, "message.undelivered")
    assert (note.element_id, note.data) == ("send_answer", {"message": "customer_answer", "key": "T-9",
                                                            "payload": {"ticket": "T-9", "accepted": False}})

    # And a ticket that starts waiting afterwards does not get it replayed: it waits
    ticket = flow.start("ticket_case", {"ticket": "T-9"}, "T-9")
    flow.worker_pass()
    assert ticket.ready() == [] and ticket.subscriptions() == [("wait_answer", "customer_answer")]
    assert len(_undelivered(flow)) == 1
    assert flow.read(verify).ok


def test_messages_going_round_in_a_loop_are_refused_and_nothing_changes(flow):
    # Given an echo process that answers every ping with a new ping (each starts the next echo)
    flow.deploy(ECHO)
    pinger = flow.start("pinger", {}, "P-1")
    before = _count_instances(flow)

    # When the first ping goes out, the chain is stopped with a clear error
    with pytest.raises(DeliveryLoop, match=r"message 'ping' \(key P-1\) thrown by process 'echo' would be "
                                           r"delivery 17 in one chain .* loop — instance \d+ \(pinger\) threw"):
        pinger.complete("go")

    # Then the whole trigger rolled back: the task is still ready and no echo was started
    assert pinger.ready() == ["go"] and pinger.status == "active"
    assert _count_instances(flow) == before
    assert _undelivered(flow) == []


def test_a_thrown_message_is_held_to_the_receivers_contract_and_a_bad_one_changes_nothing(flow):
    # Given tickets whose answer contract needs a boolean "accepted", and the customer's side of T-1
    strict = {"customer_answer": {"schema": {"type": "object", "additionalProperties": False,
                                             "required": ["ticket", "accepted"],
                                             "properties": {"ticket": {"type": "string"},
                                                            "accepted": {"type": "boolean"}}},
                                  "senders": {"system": True}}}
    flow.deploy(TICKET + CUSTOMER + ANSWER, files={"messages.json": json.dumps(strict).encode()})
    t1 = flow.start("ticket_case", {"ticket": "T-1"}, "T-1")
    customer = flow.start("customer", {"ticket": "T-1"}, "C-1")
    # When the customer's process would throw "accepted": "no"
    with pytest.raises(FormValidationError, match="thrown by 'send_answer'.*accepted") as refused:
        customer.complete("decide", {"accepted": "no"})
    # Then the completion is refused naming the field, and neither instance moved
    assert [e.field for e in refused.value.errors] == ["accepted"]
    assert customer.ready() == ["decide"] and t1.subscriptions() == [("wait_answer", "customer_answer")]
    assert _undelivered(flow) == []
    # And a good answer goes through
    customer.complete("decide", {"accepted": False})
    assert t1.ready() == ["act"] and t1.data()["answer"] == {"ticket": "T-1", "accepted": False}
