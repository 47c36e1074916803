"""Signals are broadcast: every instance waiting for one receives it, and every process with a
signal start event for it starts.

Every trigger starts from the database (``flow`` empties the instance cache first), on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.audit import events_for, verify
from engine.identity import Actor
from engine.models import AuditEvent, SignalSubscription, UndeliveredMessage

FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
        'name="formJsonSchemaFilename" value="any.json" /></spiffworkflow:properties></bpmn:extensionElements>')

# The signal carries the batch being recalled; catchers keep it in ``recall``.
RECALL = '''
<bpmn:signal id="sig_recall" name="product_recall"><bpmn:extensionElements>
  <spiffworkflow:payloadExpression>{"batch": batch}</spiffworkflow:payloadExpression>
  <spiffworkflow:variableName>recall</spiffworkflow:variableName>
</bpmn:extensionElements></bpmn:signal>'''

# Quality announces a recall (intermediate signal throw event).
ANNOUNCER = f'''
<bpmn:process id="announcer" isExecutable="true">
  <bpmn:startEvent id="announcer_start"><bpmn:outgoing>a1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="announce" name="Announce">{FORM}
    <bpmn:incoming>a1</bpmn:incoming><bpmn:outgoing>a2</bpmn:outgoing></bpmn:userTask>
  <bpmn:intermediateThrowEvent id="throw_recall" name="Recall the batch"><bpmn:incoming>a2</bpmn:incoming>
    <bpmn:outgoing>a3</bpmn:outgoing><bpmn:signalEventDefinition id="sd_throw" signalRef="sig_recall" />
  </bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="announcer_end"><bpmn:incoming>a3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="a1" sourceRef="announcer_start" targetRef="announce" />
  <bpmn:sequenceFlow id="a2" sourceRef="announce" targetRef="throw_recall" />
  <bpmn:sequenceFlow id="a3" sourceRef="throw_recall" targetRef="announcer_end" />
</bpmn:process>'''

# A field job waits for a recall (intermediate signal catch event).
FIELD_JOB = '''
<bpmn:process id="field_job" isExecutable="true">
  <bpmn:startEvent id="field_job_start"><bpmn:outgoing>j1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait_recall" name="Recall announced"><bpmn:incoming>j1</bpmn:incoming>
    <bpmn:outgoing>j2</bpmn:outgoing><bpmn:signalEventDefinition id="sd_wait" signalRef="sig_recall" />
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="handle_recall" name="Handle the recall">
    <bpmn:incoming>j2</bpmn:incoming><bpmn:outgoing>j3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="field_job_end"><bpmn:incoming>j3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="j1" sourceRef="field_job_start" targetRef="wait_recall" />
  <bpmn:sequenceFlow id="j2" sourceRef="wait_recall" targetRef="handle_recall" />
  <bpmn:sequenceFlow id="j3" sourceRef="handle_recall" targetRef="field_job_end" />
</bpmn:process>'''

# A recall campaign is started by the signal (signal start event).
CAMPAIGN = '''
<bpmn:process id="recall_campaign" isExecutable="true">
  <bpmn:startEvent id="recall_started" name="Recall announced"><bpmn:outgoing>k1</bpmn:outgoing>
    <bpmn:signalEventDefinition id="sd_start" signalRef="sig_recall" /></bpmn:startEvent>
  <bpmn:userTask id="contact_customers" name="Contact the customers"><bpmn:incoming>k1</bpmn:incoming>
    <bpmn:outgoing>k2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="recall_campaign_end"><bpmn:incoming>k2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="k1" sourceRef="recall_started" targetRef="contact_customers" />
  <bpmn:sequenceFlow id="k2" sourceRef="contact_customers" targetRef="recall_campaign_end" />
</bpmn:process>'''

# A repair in the workshop is interrupted by a recall (interrupting signal boundary event).
REPAIR_JOB = '''
<bpmn:process id="repair_job" isExecutable="true">
  <bpmn:startEvent id="repair_job_start"><bpmn:outgoing>r1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="repair" name="Repair">
    <bpmn:incoming>r1</bpmn:incoming><bpmn:outgoing>r2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="recalled" name="Recalled" attachedToRef="repair" cancelActivity="true">
    <bpmn:outgoing>r3</bpmn:outgoing><bpmn:signalEventDefinition id="sd_boundary" signalRef="sig_recall" />
  </bpmn:boundaryEvent>
  <bpmn:userTask id="return_device" name="Return the device">
    <bpmn:incoming>r3</bpmn:incoming><bpmn:outgoing>r4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="repair_job_end"><bpmn:incoming>r2</bpmn:incoming><bpmn:incoming>r4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="r1" sourceRef="repair_job_start" targetRef="repair" />
  <bpmn:sequenceFlow id="r2" sourceRef="repair" targetRef="repair_job_end" />
  <bpmn:sequenceFlow id="r3" sourceRef="recalled" targetRef="return_device" />
  <bpmn:sequenceFlow id="r4" sourceRef="return_device" targetRef="repair_job_end" />
</bpmn:process>'''

# A ticket goes on with its work; a recall adds a check beside it (non-interrupting event subprocess).
TICKET = '''
<bpmn:process id="ticket_with_recall" isExecutable="true">
  <bpmn:startEvent id="twr_start"><bpmn:outgoing>w1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work">
    <bpmn:incoming>w1</bpmn:incoming><bpmn:outgoing>w2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="twr_end"><bpmn:incoming>w2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="w1" sourceRef="twr_start" targetRef="work" />
  <bpmn:sequenceFlow id="w2" sourceRef="work" targetRef="twr_end" />
  <bpmn:subProcess id="on_recall" name="On a recall" triggeredByEvent="true">
    <bpmn:startEvent id="recall_arrived" isInterrupting="false"><bpmn:outgoing>v1</bpmn:outgoing>
      <bpmn:signalEventDefinition id="sd_esp" signalRef="sig_recall" /></bpmn:startEvent>
    <bpmn:userTask id="check_recall" name="Check the recall">
      <bpmn:incoming>v1</bpmn:incoming><bpmn:outgoing>v2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="recall_checked"><bpmn:incoming>v2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="v1" sourceRef="recall_arrived" targetRef="check_recall" />
    <bpmn:sequenceFlow id="v2" sourceRef="check_recall" targetRef="recall_checked" />
  </bpmn:subProcess>
</bpmn:process>'''

# The same ticket, but a recall takes over (interrupting event subprocess, BPMN's default).
TICKET_TAKEN_OVER = TICKET.replace(' isInterrupting="false"', "")

# A shift ends by announcing the recall (signal end event).
LAST_SHIFT = f'''
<bpmn:process id="last_shift" isExecutable="true">
  <bpmn:startEvent id="last_shift_start"><bpmn:outgoing>e1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="hand_over" name="Hand over">{FORM}<bpmn:incoming>e1</bpmn:incoming>
    <bpmn:outgoing>e2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="recall_at_end" name="Recall the batch"><bpmn:incoming>e2</bpmn:incoming>
    <bpmn:signalEventDefinition id="sd_end" signalRef="sig_recall" /></bpmn:endEvent>
  <bpmn:sequenceFlow id="e1" sourceRef="last_shift_start" targetRef="hand_over" />
  <bpmn:sequenceFlow id="e2" sourceRef="hand_over" targetRef="recall_at_end" />
</bpmn:process>'''

# A line inspection stops the line itself and every other one (it throws what it also catches).
LINE = f'''
<bpmn:process id="line" isExecutable="true">
  <bpmn:startEvent id="line_start"><bpmn:outgoing>l1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:parallelGateway id="split"><bpmn:incoming>l1</bpmn:incoming><bpmn:outgoing>l2</bpmn:outgoing>
    <bpmn:outgoing>l3</bpmn:outgoing></bpmn:parallelGateway>
  <bpmn:intermediateCatchEvent id="wait_stop" name="Line stopped"><bpmn:incoming>l2</bpmn:incoming>
    <bpmn:outgoing>l4</bpmn:outgoing><bpmn:signalEventDefinition id="sd_wait_stop" signalRef="sig_stop" />
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="after_stop" name="After the stop">
    <bpmn:incoming>l4</bpmn:incoming><bpmn:outgoing>l5</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="line_stopped_end"><bpmn:incoming>l5</bpmn:incoming></bpmn:endEvent>
  <bpmn:userTask id="inspect" name="Inspect">{FORM}
    <bpmn:incoming>l3</bpmn:incoming><bpmn:outgoing>l6</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="faulty" default="l8"><bpmn:incoming>l6</bpmn:incoming><bpmn:outgoing>l7</bpmn:outgoing>
    <bpmn:outgoing>l8</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:intermediateThrowEvent id="stop_all" name="Stop every line"><bpmn:incoming>l7</bpmn:incoming>
    <bpmn:outgoing>l9</bpmn:outgoing><bpmn:signalEventDefinition id="sd_stop_all" signalRef="sig_stop" />
  </bpmn:intermediateThrowEvent>
  <bpmn:endEvent id="line_inspected_end">
    <bpmn:incoming>l8</bpmn:incoming><bpmn:incoming>l9</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="l1" sourceRef="line_start" targetRef="split" />
  <bpmn:sequenceFlow id="l2" sourceRef="split" targetRef="wait_stop" />
  <bpmn:sequenceFlow id="l3" sourceRef="split" targetRef="inspect" />
  <bpmn:sequenceFlow id="l4" sourceRef="wait_stop" targetRef="after_stop" />
  <bpmn:sequenceFlow id="l5" sourceRef="after_stop" targetRef="line_stopped_end" />
  <bpmn:sequenceFlow id="l6" sourceRef="inspect" targetRef="faulty" />
  <bpmn:sequenceFlow id="l7" sourceRef="faulty" targetRef="stop_all">
    <bpmn:conditionExpression>fault</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="l8" sourceRef="faulty" targetRef="line_inspected_end" />
  <bpmn:sequenceFlow id="l9" sourceRef="stop_all" targetRef="line_inspected_end" />
</bpmn:process>
<bpmn:signal id="sig_stop" name="stop_the_line" />'''


def _subscriptions(flow):
    return flow.read(lambda s: sorted((r.instance_id, r.element_id, r.signal_name)
                                      for r in s.scalars(select(SignalSubscription))))


def _trail(flow, run, kind):
    return [e for e in flow.read(lambda s: events_for(s, run.id)) if e.kind == kind]


def test_a_signal_reaches_every_waiting_instance_and_starts_the_processes_it_starts(flow):
    # Given three field jobs waiting for a recall, a process started by it, and quality's announcer
    flow.deploy(ANNOUNCER + FIELD_JOB + CAMPAIGN + RECALL)
    jobs = [flow.start("field_job", {}, f"J-{n}") for n in (1, 2, 3)]
    announcer = flow.start("announcer", {}, "Q-1")
    assert _subscriptions(flow) == [(j.id, "wait_recall", "product_recall") for j in jobs]
    assert flow.instances("recall_campaign") == []

    # When quality announces the recall of batch B-7
    announcer.complete("announce", {"batch": "B-7"})

    # Then every job handles it, with the batch, and one recall campaign started
    for job in jobs:
        assert job.ready() == ["handle_recall"]
        assert job.data()["recall"] == {"batch": "B-7"}
        [received] = _trail(flow, job, "signal.received")
        assert received.data == {"signal": "product_recall", "payload": {"batch": "B-7"},
                                 "from_instance": announcer.id}
    [campaign] = flow.instances("recall_campaign")
    assert campaign.ready() == ["contact_customers"]
    assert campaign.data()["recall"] == {"batch": "B-7"}
    assert _subscriptions(flow) == []
    [sent] = _trail(flow, announcer, "signal.sent")
    assert (sent.element_id, sent.data) == ("throw_recall", {"signal": "product_recall",
                                                             "to": [j.id for j in jobs],
                                                             "started": [campaign.id]})
    assert flow.read(verify).ok


def test_a_signal_boundary_event_interrupts_the_user_task_it_is_attached_to(flow):
    # Given a repair waiting for the technician, with a recall boundary event on it
    flow.deploy(ANNOUNCER + REPAIR_JOB + RECALL)
    job = flow.start("repair_job", {}, "R-1")
    assert job.ready() == ["repair"]
    assert _subscriptions(flow) == [(job.id, "recalled", "product_recall")]

    # When the recall is announced
    flow.start("announcer", {}, "Q-2").complete("announce", {"batch": "B-8"})

    # Then the repair is cancelled and the device goes back
    assert job.ready() == ["return_device"]
    assert job.path()[-1] == "recalled"
    assert _subscriptions(flow) == []
    job.complete("return_device")
    assert job.status == "completed"


def test_a_signal_starts_a_non_interrupting_event_subprocess_beside_the_work(flow):
    # Given a ticket at work, whose event subprocess starts on a recall
    flow.deploy(ANNOUNCER + TICKET + RECALL)
    ticket = flow.start("ticket_with_recall", {"batch": "B-9"}, "T-1")
    assert _subscriptions(flow) == [(ticket.id, "recall_arrived", "product_recall")]

    # When the recall is announced
    flow.start("announcer", {}, "Q-3").complete("announce", {"batch": "B-9"})

    # Then the ticket checks the recall beside its work, and finishes both
    assert ticket.ready() == ["check_recall", "work"]
    ticket.complete("check_recall")
    ticket.complete("work")
    assert ticket.status == "completed"


def test_a_signal_starts_an_interrupting_event_subprocess_that_cancels_the_work(flow):
    # Given a ticket at work, whose interrupting event subprocess starts on a recall
    flow.deploy(ANNOUNCER + TICKET_TAKEN_OVER + RECALL)
    ticket = flow.start("ticket_with_recall", {}, "T-2")

    # When the recall is announced
    flow.start("announcer", {}, "Q-5").complete("announce", {"batch": "B-3"})

    # Then the recall check replaces the work, and nothing else waits
    assert ticket.ready() == ["check_recall"]
    assert _subscriptions(flow) == []
    ticket.complete("check_recall")
    assert ticket.status == "completed" and "work" not in ticket.path()


def test_a_signal_end_event_broadcasts_as_its_process_ends(flow):
    flow.deploy(LAST_SHIFT + FIELD_JOB + RECALL)
    job = flow.start("field_job", {}, "J-5")
    shift = flow.start("last_shift", {}, "S-1").complete("hand_over", {"batch": "B-4"})
    assert shift.status == "completed"
    assert job.ready() == ["handle_recall"] and job.data()["recall"] == {"batch": "B-4"}
    [sent] = _trail(flow, shift, "signal.sent")
    assert (sent.element_id, sent.data["to"]) == ("recall_at_end", [job.id])


def test_a_signal_caught_inside_the_throwing_instance_reaches_the_others_too(flow):
    # Given two lines, each waiting for the stop signal beside its inspection
    flow.deploy(LINE)
    first, second = flow.start("line", {}, "L-1"), flow.start("line", {}, "L-2")

    # When the first line's inspection finds a fault and stops every line
    first.complete("inspect", {"fault": True})

    # Then both lines stopped: the thrower itself and the other one
    assert first.ready() == ["after_stop"]
    assert second.ready() == ["after_stop", "inspect"]
    [sent] = _trail(flow, first, "signal.sent")
    assert (sent.data["to"], sent.data["started"]) == ([second.id], [])


def test_a_signal_nobody_waits_for_is_noted_on_the_trail_and_is_not_an_undelivered_message(flow):
    flow.deploy(ANNOUNCER + FIELD_JOB + RECALL)
    announcer = flow.start("announcer", {}, "Q-4")
    announcer.complete("announce", {"batch": "B-1"})
    [sent] = _trail(flow, announcer, "signal.sent")
    assert sent.data == {"signal": "product_recall", "to": [], "started": []}
    assert flow.read(lambda s: s.scalars(select(UndeliveredMessage)).all()) == []
    assert announcer.status == "completed"


def test_an_external_signal_reaches_the_waiting_instances_and_is_on_the_signals_trail(flow):
    flow.deploy(FIELD_JOB + CAMPAIGN + RECALL)
    job = flow.start("field_job", {}, "J-9")
    quality = Actor("quality", frozenset({"supervisor"}))
    outcome = flow.trigger(lambda s: flow.runtime.signal(s, "product_recall", {"batch": "B-2"}, quality))
    [campaign] = flow.instances("recall_campaign")
    assert outcome.to_dict() == {"received": [job.id], "started": [campaign.id]}
    assert job.ready() == ["handle_recall"]
    [received] = _trail(flow, job, "signal.received")
    assert (received.actor, received.data) == ("quality", {"signal": "product_recall", "payload": {"batch": "B-2"}})
    [noted] = flow.read(lambda s: list(s.scalars(select(AuditEvent).where(AuditEvent.stream == "signals"))))
    assert (noted.kind, noted.actor, noted.data) == ("signal.broadcast", "quality", {
        "signal": "product_recall", "payload": {"batch": "B-2"}, "received": [job.id], "started": [campaign.id]})
    assert flow.read(verify).ok
