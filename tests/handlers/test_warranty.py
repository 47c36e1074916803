"""Warranty entitlement: full, parts-only and no coverage, from purchase date and contracts."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import HandlerError
from engine.registry import BusinessError
from handlers.warranty import add_months


def entitlement(call, model="WM-F80", serial="WMF80-2501-000123", purchased="2025-06-18", proof="JD-1"):
    return call("warranty.check_entitlement", model=model, serial_number=serial, purchase_date=purchased,
                proof_of_purchase=proof)


@pytest.mark.parametrize(("purchased", "coverage", "expires"), [
    ("2025-06-18", "full", "2026-06-17"),
    ("2025-03-03", "full", "2026-03-02"),  # expires_on is the last day covered
    ("2025-03-02", "parts_only", "2028-03-01"),
    ("2023-03-03", "parts_only", "2026-03-02"),
    ("2023-03-02", "none", None),
])
def test_coverage_follows_the_model_warranty_periods(call, purchased, coverage, expires):
    result = entitlement(call, purchased=purchased)
    assert (result["coverage"], result["expires_on"], result["in_warranty"]) == (coverage, expires, coverage != "none")
    assert result["contract"] is None and "WM-F80" in result["reason"]


def test_without_proof_of_purchase_the_manufacturer_warranty_does_not_apply(call):
    result = entitlement(call, proof="  ")
    assert result["coverage"] == "none"
    assert "no proof of purchase" in result["reason"]


def test_an_extended_warranty_contract_covers_an_old_unit(call):
    result = entitlement(call, serial="wmf80-2403-118842", purchased="2022-03-10")
    assert result == {"coverage": "full", "expires_on": "2028-03-09", "contract": "SC-2025-0001",
                      "reason": "extended_warranty contract SC-2025-0001 gives full coverage until 2028-03-09",
                      "reason_zh": "延保合同 SC-2025-0001 提供全保，有效期至 2028-03-09", "in_warranty": True}


def test_a_contract_no_better_than_the_warranty_does_not_shorten_it(call):
    result = entitlement(call, model="AC-S35", serial="ACS35-2207-004512", purchased="2022-07-10")
    assert (result["coverage"], result["expires_on"], result["contract"]) == ("parts_only", "2028-07-09", None)


def test_an_expired_contract_gives_nothing(call):
    result = entitlement(call, model="TV-65U8", serial="TV65U8-2109-300771", purchased="2021-09-15")
    assert (result["coverage"], result["contract"]) == ("none", None)


def test_an_unknown_model_is_a_business_error(call):
    with pytest.raises(BusinessError, match="model 'XX-1' is not in the catalogue") as info:
        entitlement(call, model="XX-1")
    assert info.value.code == "UNKNOWN_MODEL"


@pytest.mark.parametrize(("purchased", "message"), [
    ("2027-01-01", "purchase_date 2027-01-01 is after today"),
    ("yesterday", "purchase_date must be a date YYYY-MM-DD"),
])
def test_bad_purchase_dates_are_refused(call, purchased, message):
    with pytest.raises(HandlerError, match=message):
        entitlement(call, purchased=purchased)


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)), (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2025, 6, 18), 12, date(2026, 6, 18)),
])
def test_months_are_added_to_calendar_dates(start, months, end):
    assert add_months(start, months) == end
