"""The demo catalogue: realistic, consistent, and loaded idempotently."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from handlers.demo import DATA_DIR, load_catalogue
from handlers.dispatch import Provider, Technician
from handlers.knowledge import Article
from handlers.parts import stock_of


def data(name):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def test_the_catalogue_is_the_size_of_a_real_service_organisation(catalogue):
    assert catalogue == {"product_lines.json": 5, "contracts.json": 3, "parts.json": 31, "rates.json": 6,
                         "technicians.json": 10, "providers.json": 4, "diagnosis_rules.json": 48,
                         "knowledge.json": 21}


def test_technicians_cover_three_regions_and_one_provider_has_expired(database, catalogue, clock):
    with database.transaction(write=False) as session:
        regions = {t.region for t in session.scalars(select(Technician))}
        expired = [p.code for p in session.scalars(select(Provider)) if p.qualified_until < clock.now().date()]
        chinese = session.scalars(select(Article.title).where(Article.language == "zh")).all()
    assert regions == {"east", "north", "south"}
    assert expired == ["PRV-LN"]
    assert len(chinese) >= 8


def test_the_data_files_refer_only_to_things_that_exist():
    lines = {line["code"]: line for line in data("product_lines.json")["product_lines"]}
    skus = {part["sku"] for part in data("parts.json")["parts"]}
    warehouses = {w["code"] for w in data("parts.json")["warehouses"]}
    skills = {line["skill"] for line in lines.values()} | {"refrigerant_handling"}
    models = {m["code"] for line in lines.values() for m in line["models"]}
    for rule in data("diagnosis_rules.json")["rules"]:
        assert rule["product_line"] in {*lines, "*"}, rule["code"]
        assert set(rule["parts"]) <= skus, rule["code"]
        assert 0 < rule["confidence"] <= 1, rule["code"]
    for part in data("parts.json")["parts"]:
        assert part["product_line"] in lines and set(part["stock"]) <= warehouses, part["sku"]
    for tech in data("technicians.json")["technicians"]:
        assert set(tech["skills"]) <= skills, tech["username"]
    for contract in data("contracts.json")["contracts"]:
        assert contract["model"] in models and contract["coverage"] in ("full", "parts_only")
        assert date.fromisoformat(contract["starts_on"]) < date.fromisoformat(contract["ends_on"])
    for article in data("knowledge.json")["articles"]:
        assert article["product_line"] in {*lines, None} and article["model"] in {*models, None}


def test_loading_again_changes_nothing_and_keeps_the_stock(call, database, catalogue):
    # Given a reservation made after the first load
    call("parts.reserve", ticket_number="AS-1", parts=[{"sku": "WM-PUMP-01", "quantity": 4}])
    # When the catalogue is loaded again (every start of the demo)
    with database.transaction() as session:
        assert load_catalogue(session, DATA_DIR) == catalogue
    # Then the stock still reflects the reservation
    with database.transaction(write=False) as session:
        assert stock_of(session, "WM-PUMP-01")["WH-SH"] == (20, 4)
        assert len(session.scalars(select(Article)).all()) == catalogue["knowledge.json"]


def test_a_broken_data_file_is_named(database, tmp_path):
    shutil.copy(DATA_DIR / "product_lines.json", tmp_path / "product_lines.json")
    (tmp_path / "parts.json").write_text('{"warehouses": [', encoding="utf-8")
    with pytest.raises(InvalidInput, match="parts.json: JSONDecodeError"), database.transaction() as session:
        load_catalogue(session, tmp_path)


def test_a_folder_without_data_loads_nothing(database, tmp_path):
    with database.transaction() as session:
        assert load_catalogue(session, tmp_path) == {}
