"""The catalogue speaks Chinese: every record a reader sees carries its Chinese name."""

from __future__ import annotations

import json
from decimal import Decimal

from handlers.demo import DATA_DIR, catalogue_texts, load_catalogue
from handlers.quote import price_lines

NAMED = {  # file → the lists of records whose English field a reader sees
    "product_lines.json": [("product_lines", "name"), ("product_lines[].models", "name")],
    "parts.json": [("parts", "name"), ("warehouses", "name")],
    "providers.json": [("providers", "name"), ("repair_centres", "name")],
    "technicians.json": [("technicians", "name"), ("regions", "name"), ("skills", "name")],
    "diagnosis_rules.json": [("rules", "cause"), ("rules", "action")],
}


def _records(data, path):
    head, _, rest = path.partition("[].")
    items = data[head]
    return [r for item in items for r in item[rest]] if rest else items


def test_every_catalogue_record_has_a_chinese_name():
    for name, lists in NAMED.items():
        data = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
        for path, field in lists:
            missing = [r.get("code") or r.get("sku") or r.get("username") for r in _records(data, path)
                       if not str(r.get(f"{field}_zh", "")).strip()]
            assert not missing, f"{name} {path}: no {field}_zh for {missing}"
    articles = json.loads((DATA_DIR / "knowledge.json").read_text(encoding="utf-8"))["articles"]
    assert all(a["language"] == "zh" or a.get("title_zh") for a in articles)
    symptoms = json.loads((DATA_DIR / "diagnosis_rules.json").read_text(encoding="utf-8"))["symptoms"]
    assert all(label.get("zh") for label in symptoms.values())


def test_readers_of_chinese_get_the_catalogues_words():
    zh = catalogue_texts(DATA_DIR, "zh")
    assert zh["model:WM-F80"] == "滚筒洗衣机 8 公斤 变频"
    assert (zh["east"], zh["refrigerant_handling"]) == ("华东", "制冷剂操作（持证）")
    assert zh["Drain pump failed"] == "排水泵损坏"  # a diagnosis cause
    assert zh["Wi-Fi keeps dropping"] == "Wi-Fi 经常断线"  # a knowledge article's title
    en = catalogue_texts(DATA_DIR, "en")
    assert en["model:WM-F80"] == "Front-load washer 8 kg, inverter" and "east" not in en
    assert en["not_cooling"] == "Does not cool"  # a symptom's code reads as its label in English too


def test_quote_lines_carry_their_chinese_description(database):
    with database.transaction() as s:
        load_catalogue(s, DATA_DIR)
        lines, currency = price_lines(s, "none", "replace", {"WM-PUMP-01": 1}, Decimal("1.5"), True, "WM-F80")
    assert currency == "CNY"
    assert [line["description_zh"] for line in lines] == ["排水泵", "更换整机 WM-F80", "人工 1.5 小时", "上门费"]
    assert lines[0]["description"] == "Drain pump 30 W"  # the English stays for English readers
