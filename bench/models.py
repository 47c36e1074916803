"""BPMN models generated for the benchmarks (kept out of processes/: they are not the product)."""

from __future__ import annotations

from engine.bundle import Bundle
from engine.registry import handler

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_bench" '
        'targetNamespace="http://example.com/bench">\n')


@handler("bench.score")
def score(value: int, step: int) -> dict:
    """Return a small computed result (benchmark handler)."""
    return {"score": value * 3 + step, "ok": True}


def _chain(elements: list[tuple[str, str]]) -> str:
    """Render (id, xml-with-{incoming}{outgoing}) elements joined in sequence."""
    out, flows = [], []
    for i, (eid, xml) in enumerate(elements):
        incoming = f"<bpmn:incoming>f{i}</bpmn:incoming>" if i else ""
        outgoing = f"<bpmn:outgoing>f{i + 1}</bpmn:outgoing>" if i < len(elements) - 1 else ""
        out.append(xml.format(incoming=incoming, outgoing=outgoing))
        if i < len(elements) - 1:
            flows.append(f'<bpmn:sequenceFlow id="f{i + 1}" sourceRef="{eid}" targetRef="{elements[i + 1][0]}" />')
    return "\n".join(out + flows)


def auto15() -> Bundle:
    """Fifteen automatic steps (service and script tasks) between three human tasks."""
    els: list[tuple[str, str]] = [("start", '<bpmn:startEvent id="start">{outgoing}</bpmn:startEvent>')]
    lane = []
    for stage in range(3):
        uid = f"review_{stage}"
        lane.append(uid)
        els.append((uid, f'<bpmn:userTask id="{uid}" name="Review {stage}">{{incoming}}{{outgoing}}</bpmn:userTask>'))
        for step in range(5):
            n = stage * 5 + step
            if step % 2 == 0:
                sid = f"svc_{n}"
                els.append((sid, f'''<bpmn:serviceTask id="{sid}" name="Score {n}"><bpmn:extensionElements>
<spiffworkflow:serviceTaskOperator id="bench.score" resultVariable="r_{n}"><spiffworkflow:parameters>
<spiffworkflow:parameter id="value" type="int" value="amount" />
<spiffworkflow:parameter id="step" type="int" value="{n}" /></spiffworkflow:parameters>
</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>{{incoming}}{{outgoing}}</bpmn:serviceTask>'''))
            else:
                sid = f"script_{n}"
                els.append((sid, f'<bpmn:scriptTask id="{sid}" name="Compute {n}">{{incoming}}{{outgoing}}'
                                 f'<bpmn:script>total_{n} = amount * {n} + len(labels)</bpmn:script></bpmn:scriptTask>'))
    els.append(("end", '<bpmn:endEvent id="end">{incoming}</bpmn:endEvent>'))
    refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in lane)
    xml = HEAD + f'''<bpmn:process id="auto15" name="Fifteen automatic steps" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent">{refs}</bpmn:lane></bpmn:laneSet>
{_chain(els)}
</bpmn:process></bpmn:definitions>'''
    return Bundle("bench_auto15", {"auto15.bpmn": xml.encode()})


def loop() -> Bundle:
    """A human task in a loop: every completion adds tasks to one growing instance."""
    xml = HEAD + '''<bpmn:process id="looping" name="Loop" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>step</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="init" name="Init"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>count = 0</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="step" name="Step"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:scriptTask id="inc" name="Count"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing><bpmn:script>count = count + 1</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="gw" name="Done?" default="f_again"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f_done</bpmn:outgoing><bpmn:outgoing>f_again</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="init" />
<bpmn:sequenceFlow id="f2" sourceRef="init" targetRef="step" />
<bpmn:sequenceFlow id="f3" sourceRef="step" targetRef="inc" />
<bpmn:sequenceFlow id="f4" sourceRef="inc" targetRef="gw" />
<bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>count &gt;= 10000</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="step" />
</bpmn:process></bpmn:definitions>'''
    return Bundle("bench_loop", {"loop.bpmn": xml.encode()})
