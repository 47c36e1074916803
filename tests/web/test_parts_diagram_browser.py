"""The parts and repair diagrams draw their new steps, in Chinese and English, on the owner's heatmap:
the back-order check before each wait, the chase's *Parts arrived* boundary event and the used-parts
gateway. Screenshots: ``test-artifacts/screenshots/diagram-parts-*.png``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.models import Deployment
from tests.conftest import PROCESSES
from tests.web.live import chromium, live_site, shot, sign_in

pytestmark = pytest.mark.browser
ZH = json.loads((PROCESSES / "translations.zh.json").read_text(encoding="utf-8"))
NEW = {"parts_supply": {"check_backorders": "Check which parts are still missing",
                        "gw_parts_still_missing": "Parts still missing?",
                        "parts_arrived_while_chasing": "Parts arrived"},
       "repair_and_qc": {"gw_used_parts_reserved": "Every used part reserved?"}}


def test_the_new_parts_steps_are_drawn_with_their_names_in_the_readers_language(tmp_path, sqlite_template) -> None:
    with live_site(tmp_path, sqlite_template, [PROCESSES], {"owner": ["process_owner"]},
                   catalogue=PROCESSES / "data") as (base, services):
        with services.db.transaction(write=False) as s:
            deployment_id = s.scalar(select(func.max(Deployment.id)))
        for locale in ("zh-CN", "en-US"):
            lang = locale[:2]
            with chromium(locale=locale) as context:
                page = context.new_page()
                page.set_viewport_size({"width": 1600, "height": 900})
                sign_in(page, base, "owner")
                for process, elements in NEW.items():
                    # When the owner opens the process's heatmap
                    page.goto(f"{base}/owner/heatmap/{deployment_id}/{process}")
                    page.wait_for_selector("#heatmap[data-ready=true]")
                    # Then every new element has a shape, named in the reader's language
                    for element_id, name in elements.items():
                        drawn = page.locator(f"#heatmap [data-element-id={element_id}]").first
                        assert drawn.is_visible(), element_id
                        label = page.locator(f"#heatmap [data-element-id={element_id}] text, "
                                             f"#heatmap [data-element-id={element_id}_label] text").all_text_contents()
                        assert "".join(label).replace(" ", "").replace("\n", "") == \
                            (name if lang == "en" else ZH[name]).replace(" ", ""), element_id
                    page.locator("#heatmap").screenshot(path=str(shot(page, f"diagram-parts-{process}-{lang}")))
