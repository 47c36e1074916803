"""Build tiny one-process bundles for engine tests (script, condition, service, timer)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from engine.bundle import Bundle

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="http://example.com/tests">\n')


def script_then_gateway(script: str, condition: str = "True", process_id: str = "scripted") -> Bundle:
    """A process: start → script task → XOR gateway (condition or default) → two user tasks → end."""
    xml = HEAD + f'''<bpmn:process id="{process_id}" name="Scripted" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent">
    <bpmn:flowNodeRef>yes_task</bpmn:flowNodeRef><bpmn:flowNodeRef>no_task</bpmn:flowNodeRef>
  </bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="run_script" name="Run script"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="gw" name="Condition?" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
    <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="yes_task" name="Yes"><bpmn:incoming>f_yes</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="no_task" name="No"><bpmn:incoming>f_no</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run_script" />
  <bpmn:sequenceFlow id="f2" sourceRef="run_script" targetRef="gw" />
  <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes_task">
    <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="no_task" />
  <bpmn:sequenceFlow id="f3" sourceRef="yes_task" targetRef="end" />
  <bpmn:sequenceFlow id="f4" sourceRef="no_task" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
'''
    return Bundle(process_id, {f"{process_id}.bpmn": xml.encode()})


def service_chain(operator: str, params: dict[str, str], steps: int = 1, process_id: str = "served",
                  boundary_code: str | None = None) -> Bundle:
    """A process: start → ``steps`` service tasks calling ``operator`` → user task "Check" → end."""
    tasks, flows, prev = [], [], "start"
    param_xml = "".join(f'<spiffworkflow:parameter id="{k}" type="any" value={quoteattr(v)} />'
                        for k, v in params.items())
    for i in range(1, steps + 1):
        tid = f"call_{i}"
        tasks.append(f'''<bpmn:serviceTask id="{tid}" name="Call {i}"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="result_{i}">
  <spiffworkflow:parameters>{param_xml}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>
  </bpmn:extensionElements><bpmn:incoming>f_{i}</bpmn:incoming><bpmn:outgoing>f_{i + 1}</bpmn:outgoing></bpmn:serviceTask>''')
        flows.append(f'<bpmn:sequenceFlow id="f_{i}" sourceRef="{prev}" targetRef="{tid}" />')
        prev = tid
    n = steps + 1
    flows.append(f'<bpmn:sequenceFlow id="f_{n}" sourceRef="{prev}" targetRef="check" />')
    boundary = ""
    if boundary_code:
        boundary = '''<bpmn:boundaryEvent id="caught" attachedToRef="call_1"><bpmn:outgoing>f_err</bpmn:outgoing>
  <bpmn:errorEventDefinition id="ed" errorRef="err" /></bpmn:boundaryEvent>
  <bpmn:userTask id="handle_error" name="Handle error"><bpmn:incoming>f_err</bpmn:incoming><bpmn:outgoing>f_err2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end_err"><bpmn:incoming>f_err2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f_err" sourceRef="caught" targetRef="handle_error" />
  <bpmn:sequenceFlow id="f_err2" sourceRef="handle_error" targetRef="end_err" />'''
    errors = (f'<bpmn:error id="err" name="Business" errorCode="{boundary_code}"><bpmn:extensionElements>'
              f'<spiffworkflow:variableName>error_info</spiffworkflow:variableName></bpmn:extensionElements>'
              f'</bpmn:error>') if boundary_code else ""
    xml = HEAD + f'''<bpmn:process id="{process_id}" name="Served" isExecutable="true">
  <bpmn:laneSet id="ls"><bpmn:lane id="lane_agent" name="Agent"><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
  {'<bpmn:flowNodeRef>handle_error</bpmn:flowNodeRef>' if boundary_code else ''}</bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"><bpmn:outgoing>f_1</bpmn:outgoing></bpmn:startEvent>
  {''.join(tasks)}
  <bpmn:userTask id="check" name="Check"><bpmn:incoming>f_{n}</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
  {boundary}
  {''.join(flows)}
  <bpmn:sequenceFlow id="f_end" sourceRef="check" targetRef="end" />
</bpmn:process>
{errors}
</bpmn:definitions>
'''
    return Bundle(process_id, {f"{process_id}.bpmn": xml.encode()})
