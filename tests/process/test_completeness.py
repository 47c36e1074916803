"""The bundle is complete: every operator has its handler, every user task a valid form and
instructions, every lane a role, every message a sender, every element a place on the diagram."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine import forms
from engine.projection import role_for_lane
from engine.registry import all_handlers
from tests.process.coverage import journey_files
from tests.process.driver import PROCESSES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "dc": "http://www.omg.org/spec/DD/20100524/DC"}
ROLES = {"agent", "technician", "warehouse", "supervisor", "qa", "system"}
OPERATORS_MD = Path(__file__).resolve().parents[2] / "docs" / "operators.md"
FILES = sorted(PROCESSES.glob("*.bpmn"))
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def trees() -> list[tuple[str, Any]]:
    return [(path.name, etree.parse(str(path)).getroot()) for path in FILES]


def elements(tag: str) -> list[tuple[str, Any]]:
    return [(name, el) for name, root in trees() for el in root.iter(f"{{{NS['bpmn']}}}{tag}")]


def contract_table(heading: str) -> list[str]:
    """Return the backquoted first-column names of a table in docs/operators.md."""
    text = OPERATORS_MD.read_text()
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.M)


def test_every_service_operator_has_a_handler_taking_exactly_its_parameters() -> None:
    handlers = all_handlers()
    documented = set(contract_table("## Operators"))
    for file, task in elements("serviceTask"):
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        name = op.get("id")
        params = {p.get("id") for p in op.iterfind(".//spiffworkflow:parameter", NS)}
        assert name in handlers, f"{file} {task.get('id')}: no handler for {name}"
        assert handlers[name].check_arguments(params) == [], f"{file} {task.get('id')}: {name}"
        assert name in documented, f"{name} is not in docs/operators.md"
        assert op.get("resultVariable"), f"{file} {task.get('id')} keeps no result"


def test_every_notification_milestone_is_in_the_contract_and_has_its_templates() -> None:
    text = OPERATORS_MD.read_text()
    milestones = set(re.findall(r"[a-z_]+", text.split("Milestones for `notify.send`:", 1)[1].split("\n\n")[0]))
    for file, task in elements("serviceTask"):
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        if op.get("id") != "notify.send":
            continue
        value = op.find(".//spiffworkflow:parameter[@id='milestone']", NS).get("value")
        milestone = value.strip("\"'")
        assert milestone in milestones, f"{file} {task.get('id')}: unknown milestone {value}"
        for channel in ("email", "sms", "wechat"):
            assert (PROCESSES / "templates" / "notify" / f"{milestone}.{channel}.en.j2").exists()


def test_every_message_the_process_catches_is_in_the_contract() -> None:
    contract = set(contract_table("## Messages"))
    caught = {el.get("name") for _file, el in elements("message")}
    assert caught <= contract, caught - contract
    assert {"quote_response", "parts_arrived", "device_received", "customer_confirmation", "survey_answered",
            "customer_cancel", "sla_warning", "sla_breached"} <= caught


def test_every_lane_maps_to_a_known_role() -> None:
    for file, lane in elements("lane"):
        assert role_for_lane(lane.get("name")) in ROLES, f"{file}: lane {lane.get('name')!r}"


def user_tasks() -> list[tuple[str, Any]]:
    return elements("userTask")


@pytest.mark.parametrize(("file", "task"), user_tasks(), ids=lambda v: v if isinstance(v, str) else v.get("id"))
def test_every_user_task_has_a_valid_form_and_instructions(file: str, task: Any) -> None:
    props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
    schema_path = PROCESSES / "forms" / props["formJsonSchemaFilename"]
    ui_path = PROCESSES / "forms" / props["formUiSchemaFilename"]
    schema, ui = json.loads(schema_path.read_text()), json.loads(ui_path.read_text())
    assert forms.schema_problems(schema) == []
    assert schema.get("title") and schema.get("required"), "a form has a title and required fields"
    check_fields(schema, ui, schema_path.name)
    instructions = task.find(".//spiffworkflow:instructionsForEndUser", NS)
    assert instructions is not None and len(instructions.text.strip()) > 40
    assert task.find("bpmn:documentation", NS) is not None, "document what the task is for"
    assert task.find(".//spiffworkflow:variableName", NS) is not None or task.get("id") == "register_request"


def check_fields(schema: dict[str, Any], ui: dict[str, Any], where: str) -> None:
    """Every required field exists, every field is typed, the uiSchema names only real fields."""
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        assert name in props, f"{where}: required {name} has no property"
    for name, prop in props.items():
        assert "type" in prop, f"{where}: {name} has no type"
        if prop["type"] == "string" and "oneOf" not in prop and "format" not in prop:
            assert "maxLength" in prop, f"{where}: {name} has no length limit"
        if prop["type"] in ("integer", "number"):
            assert "minimum" in prop and "maximum" in prop, f"{where}: {name} has no limits"
        if prop["type"] == "object":
            check_fields(prop, ui.get(name, {}), f"{where}/{name}")
        if prop["type"] == "array":
            assert "maxItems" in prop, f"{where}: {name} has no size limit"
            if prop["items"].get("type") == "object":
                check_fields(prop["items"], ui.get(name, {}).get("items", {}), f"{where}/{name}[]")
    for key in ui:
        assert key.startswith("ui:") or key in props or key == "items", f"{where}: uiSchema names {key}"
    for key in ui.get("ui:order", []):
        assert key == "*" or key in props, f"{where}: ui:order names {key}"


def test_every_form_file_belongs_to_a_user_task() -> None:
    used = {p.get("value") for _f, t in user_tasks() for p in t.iterfind(".//spiffworkflow:property", NS)
            if p.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")}
    present = {p.name for p in (PROCESSES / "forms").iterdir()}
    assert present == used


def test_intake_symptoms_are_the_diagnosis_rule_base_symptoms() -> None:
    schema = json.loads((PROCESSES / "forms" / "register_request.schema.json").read_text())
    offered = [c["const"] for c in schema["properties"]["fault"]["properties"]["symptoms"]["items"]["oneOf"]]
    rule_base = json.loads((PROCESSES / "data" / "diagnosis_rules.json").read_text())["symptoms"]
    assert sorted(offered) == sorted(rule_base)


def test_every_element_and_flow_is_on_the_diagram_inside_its_lane() -> None:
    for file, root in trees():
        shapes = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
        edges = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
        process = root.find("bpmn:process", NS)
        for el in process.iter(f"{{{NS['bpmn']}}}*"):
            tag = etree.QName(el).localname
            if tag in ("sequenceFlow", "dataInputAssociation", "dataOutputAssociation"):
                assert el.get("id") in edges, f"{file}: {el.get('id')} has no edge"
            elif el.get("id") and tag not in ("laneSet", "process", "property", "dataObject") \
                    and not tag.endswith("EventDefinition") and el.getparent().tag != f"{{{NS['bpmn']}}}laneSet":
                assert el.get("id") in shapes, f"{file}: {tag} {el.get('id')} has no shape"
        for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
            box = shapes[lane.get("id")]
            top, bottom = float(box.get("y")), float(box.get("y")) + float(box.get("height"))
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                b = shapes[ref.text]
                assert top <= float(b.get("y")) and float(b.get("y")) + float(b.get("height")) <= bottom, \
                    f"{file}: {ref.text} is drawn outside lane {lane.get('name')}"


def test_ids_read_well_and_elements_are_named() -> None:
    for file, root in trees():
        process = root.find("bpmn:process", NS)
        for el in process.iter(f"{{{NS['bpmn']}}}*"):
            tag = etree.QName(el).localname
            if el.get("id"):
                assert SNAKE.match(el.get("id")), f"{file}: id {el.get('id')!r} is not snake_case"
            if tag in ("userTask", "serviceTask", "scriptTask", "businessRuleTask", "callActivity",
                       "receiveTask", "startEvent", "endEvent", "boundaryEvent", "subProcess"):
                assert el.get("name"), f"{file}: {tag} {el.get('id')} has no name"


def test_every_decision_has_a_labelled_way_out() -> None:
    for file, gateway in elements("exclusiveGateway"):
        outgoing = [f for f in gateway.getparent().iterfind("bpmn:sequenceFlow", NS)
                    if f.get("sourceRef") == gateway.get("id")]
        if len(outgoing) > 1:
            assert gateway.get("name"), f"{file}: gateway {gateway.get('id')} asks no question"
            assert gateway.get("default"), f"{file}: gateway {gateway.get('id')} has no default flow"
            for flow in outgoing:
                assert flow.get("name"), f"{file}: flow {flow.get('id')} is not labelled"


def test_every_called_process_is_in_the_bundle_and_every_stage_belongs_to_the_journey() -> None:
    defined = {p.get("id") for _f, p in elements("process")}
    called = {c.get("calledElement") for _f, c in elements("callActivity")}
    assert called <= defined
    journey = {path.stem for path in journey_files(PROCESSES)}
    assert journey == {"after_sales", "request_resolution", "diagnosis", "quote_approval", "dispatch",
                       "parts_supply", "repair_and_qc", "feedback_and_closure", "escalation"}


def test_element_ids_are_unique_across_the_bundle() -> None:
    # (audit events and the flow-coverage check name elements by id alone)
    seen: dict[str, str] = {}
    for file, root in trees():
        for el in root.find("bpmn:process", NS).iter(f"{{{NS['bpmn']}}}*"):
            if el.get("id"):
                assert el.get("id") not in seen, f"{el.get('id')} is in {seen.get(el.get('id'))} and {file}"
                seen[el.get("id")] = file
