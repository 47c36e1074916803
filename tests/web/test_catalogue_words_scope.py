"""The KPI catalogue's words name KPI things only; elsewhere the UI's words (messages.po) stand.

The catalogue keys its drill-downs ``all``, ``open``, ``closed``, ``breached`` … and its
figures carry a ``name``; were its texts among the catalogue texts every page puts in front
of messages.po, a Chinese ticket list would filter by 全部工单 and a status would read
未结工单. The dashboard takes the KPI names from the catalogue itself and keeps them.
"""

from __future__ import annotations

import html
import re

import pytest

KPI_NAMES = ("全部工单", "未结工单", "已关闭工单", "已解决工单", "SLA 违约", "新建工单数")


def options(page: str) -> list[str]:
    """Return the texts of the page's filter options."""
    return [html.unescape(text).strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", page)]


@pytest.fixture
def supervisor(signed_in):
    """A supervisor reading in Chinese."""
    client = signed_in("supervisor")
    client.get("/lang/zh?next=/tickets")
    return client


def test_the_chinese_ticket_list_filters_say_all_in_the_ui_words(supervisor, repair_ticket):
    # When a Chinese supervisor opens the ticket list with one ticket in it
    page = supervisor.get("/tickets").get_data(as_text=True)
    # Then every filter's empty choice says 全部 (messages.po's "all"), not the drill name 全部工单
    empty = [html.unescape(text).strip() for text in re.findall(r'<option value="">([^<]*)</option>', page)]
    assert empty == ["全部"] * 6
    assert repair_ticket in page and "处理中" in options(page)
    assert not [name for name in KPI_NAMES if name in page]


def test_the_chinese_ticket_page_reads_no_kpi_names(supervisor, repair_ticket):
    # When the supervisor opens the ticket (its page puts the deployment's reader texts first)
    page = supervisor.get(f"/tickets/{repair_ticket}").get_data(as_text=True)
    # Then no general word on it reads as a KPI figure or drill-down
    assert not [name for name in KPI_NAMES if name in page]


def test_the_reader_texts_leave_general_words_to_messages_po(app, services):
    from readmodels.texts import reader_texts
    from web.i18n import translate, use_bundle_texts

    # Given the texts a Chinese page puts in front of messages.po
    with services.db.transaction(write=False) as s:
        texts = reader_texts(s, "zh", services.settings.processes_dir / "data")
    # Then the KPI catalogue's keys and English names are not among them …
    assert not {"all", "open", "closed", "resolved", "breached", "none", "name", "unknown"} & texts.keys()
    assert not [word for word, said in texts.items() if said in KPI_NAMES]
    # … so with them in front, the general words are messages.po's
    with app.test_request_context("/tickets"):
        from flask import session
        session["lang"] = "zh"
        use_bundle_texts(texts)
        assert [translate(w) for w in ("all", "open", "name", "breached")] == ["全部", "未结", "姓名", "已超时"]


def test_the_dashboard_still_names_figures_and_drills_in_the_kpi_catalogues_chinese(supervisor):
    # When the Chinese supervisor opens the dashboard and the tickets behind "all" and "open"
    board = supervisor.get("/dashboard/").get_data(as_text=True)
    every = supervisor.get("/dashboard/tickets?kpi=all").get_data(as_text=True)
    still_open = supervisor.get("/dashboard/tickets?kpi=open").get_data(as_text=True)
    # Then the tiles and the drill-downs carry the KPI catalogue's names
    assert "新建工单数" in board
    assert '<span class="tag" data-kpi="all">全部工单</span>' in every
    assert '<span class="tag" data-kpi="open">未结工单</span>' in still_open
