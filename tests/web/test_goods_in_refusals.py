"""Goods-in: every bad field is said in one round, and a quantity that is not a number is shown as typed."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.test_warehouse_pages import counts


@pytest.mark.parametrize(("language", "unknown", "quantity", "reference"), [
    ("en", "There is no part NOPE-999 in the catalogue.", "Enter a whole number, not “两个”.",
     "This field is required."),
    ("zh", "目录中没有备件 NOPE-999。", "请输入整数，而不是“两个”。", "此项必填。"),
])
def test_every_bad_goods_in_field_is_refused_on_its_field_with_the_typed_quantity_kept(
        desk, database, signed_in, language, unknown, quantity, reference):
    wes = signed_in("warehouse")
    wes.get(f"/lang/{language}")
    before = counts(database)
    wes.get("/warehouse/goods-in")
    response = wes.post("/warehouse/goods-in", {"sku": "NOPE-999", "warehouse": "WH-SH", "quantity": "两个",
                                                "reference": ""})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    for field in ("sku", "quantity", "reference"):
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page), field
    assert unknown in page and quantity in page and reference in page
    assert re.search(r'<input name="quantity" type="text"[^>]*value="两个"', page)
    assert counts(database) == before
