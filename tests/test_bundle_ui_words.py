"""The bundle's Chinese (processes/translations.zh.json) names roles and channels with the UI's words
(web/translations/zh/LC_MESSAGES/messages.po): a lane, a role and a channel read the same on every page."""

from __future__ import annotations

import json
import re

import babel.messages.pofile as pofile
from lxml import etree

from tests.conftest import PROCESSES

UI = PROCESSES.parent / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
BUNDLE = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))
ROLES = ("agent", "technician", "warehouse", "supervisor", "qa")


def ui_words() -> dict[str, str]:
    with UI.open(encoding="utf-8") as po:
        return {m.id: m.string for m in pofile.read_po(po) if isinstance(m.id, str) and m.string}


def lane_names() -> set[str]:
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    return {str(name) for path in PROCESSES.glob("*.bpmn")
            for name in etree.parse(str(path)).xpath("//bpmn:lane/@name", namespaces=ns)}


def channel_options() -> set[tuple[str, str]]:
    """Return (code, title) of every option of a ``…channel`` field of the bundle's forms whose title names its code."""
    found = set()

    def walk(node: object, field: str = "") -> None:
        if isinstance(node, dict):
            if field.endswith("channel") and "const" in node and "title" in node:
                code, title = node["const"], node["title"]
                if re.sub(r"[^a-z]", "", title.lower()) == re.sub(r"[^a-z]", "", code):
                    found.add((code, title))
            for key, value in node.items():
                walk(value, key if key.endswith("channel") else field)
        elif isinstance(node, list):
            for value in node:
                walk(value, field)

    for path in (PROCESSES / "forms").glob("*.schema.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def test_each_role_has_one_chinese_name_in_the_ui_and_the_bundle():
    ui = ui_words()
    for role in ROLES:
        names = {ui[role], ui[f"role:{role}"]}
        names |= {BUNDLE[lane] for lane in lane_names() if lane.lower() == role}  # the lane named for it
        names |= {BUNDLE[role]} if role in BUNDLE else set()
        assert len(names) == 1, f"{role} is called {sorted(names)}"


def test_each_channel_option_reads_as_the_ui_names_its_code():
    ui = ui_words()
    options = channel_options()
    assert {"email", "sms", "wechat", "hotline"} <= {code for code, _ in options}
    for code, title in options:
        assert BUNDLE[title] == ui[code], f"{title} ({code}): bundle {BUNDLE[title]}, UI {ui[code]}"
        if title in ui:
            assert ui[title] == ui[code], f"{title}: UI {ui[title]} and {ui[code]}"


def test_the_agent_is_客服_and_an_e_mail_邮箱_everywhere_in_the_bundle():
    text = (PROCESSES / "translations.zh.json").read_text(encoding="utf-8")
    assert ui_words()["agent"] == "客服" and ui_words()["email"] == "邮箱"
    assert "客服专员" not in text and "电子邮件" not in text and "电子邮箱" not in text
