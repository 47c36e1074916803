"""KPI alert thresholds of shares are said and entered in per cent, as the rules' titles say them (低于 85 %)."""

from __future__ import annotations

import html

import pytest

from analytics.alerts import alert_rules
from tests.web.test_admin_settings import _form, _stored


@pytest.mark.parametrize(("typed", "stored"), [("72.5", 0.725), ("90 %", 0.9), ("100", 1.0)])
def test_a_share_threshold_entered_in_per_cent_is_stored_as_its_fraction(signed_in, services, typed, stored):
    admin = signed_in("admin")
    assert admin.post("/admin/settings", _form(admin, **{"kpi.csat_quarter.threshold": typed})).status_code == 302
    with services.db.transaction(write=False) as s:
        assert next(r for r in alert_rules(s) if r["id"] == "csat_quarter")["below"] == stored
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert f'name="kpi.csat_quarter.threshold" type="text" value="{round(stored * 100, 6):g}"' in page


@pytest.mark.parametrize(("language", "typed", "words"), [
    ("en", "0.85x", "Enter a percentage from 0 to 100, such as 85."),
    ("zh", "150", "请输入 0 到 100 之间的百分数，例如 85。"),
    ("zh", "-5", "请输入 0 到 100 之间的百分数，例如 85。"),
])
def test_a_share_threshold_that_is_no_percentage_is_refused_on_its_field_and_kept(
        signed_in, services, language, typed, words):
    admin = signed_in("admin")
    admin.get(f"/lang/{language}")
    response = admin.post("/admin/settings", _form(admin, **{"kpi.csat_quarter.threshold": typed}))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert 'id="err-kpi-csat_quarter-threshold"' in page and words in page
    assert f'name="kpi.csat_quarter.threshold" type="text" value="{typed}"' in page
    assert "(%)" in page
    assert _stored(services) == {}
