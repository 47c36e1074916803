"""Knowledge base: full-text suggestions (English and Chinese) and drafts from tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import HandlerError
from handlers.knowledge import Article, publish_article, query_terms, spell_for_search


def titles(result):
    return [a["title"] for a in result["articles"]]


def test_suggestions_rank_the_matching_article_first_and_explain_why(call):
    result = call("knowledge.suggest", text="washing machine does not drain, water stays in the drum", model="WM-F80")
    first = result["articles"][0]
    assert first["title"] == "Washing machine does not drain (error E21)"
    assert first["score"] > 0 and "drain" in first["excerpt"].lower()
    assert any(r.startswith("matches") and "'drain'" in r for r in first["reasons"])
    assert "same product line (washing_machine)" in first["reasons"]
    assert len(result["articles"]) <= 5


def test_chinese_text_finds_chinese_articles(call):
    result = call("knowledge.suggest", text="洗衣机不排水", model="WM-F80")
    assert titles(result)[0] == "洗衣机不排水怎么办（E21）"
    assert "'排水'" in result["articles"][0]["reasons"][0]


def test_articles_of_other_product_lines_are_left_out_for_a_known_model(call):
    result = call("knowledge.suggest", text="no picture, remote does not pair, wifi drops", model="WM-F80")
    assert all("TV" not in t and "Router" not in t and "Wi-Fi" not in t for t in titles(result))


def test_an_unknown_model_searches_every_line(call):
    result = call("knowledge.suggest", text="Wi-Fi keeps dropping", model="")
    assert titles(result)[0] == "Wi-Fi keeps dropping"
    assert "product line router" in result["articles"][0]["reasons"]


def test_a_model_specific_article_is_preferred(call):
    result = call("knowledge.suggest", text="pair the bluetooth voice remote", model="TV-55U8")
    assert result["articles"][0]["title"].startswith("Pairing the Bluetooth voice remote")
    assert "written for model TV-55U8" in result["articles"][0]["reasons"]


@pytest.mark.parametrize("text", ["", "the and of", None])
def test_empty_queries_suggest_nothing(call, text):
    assert call("knowledge.suggest", text=text, model="WM-F80") == {"articles": []}


def test_a_resolved_ticket_becomes_a_draft_that_is_found_once_published(call, database, clock, count):
    # Given a draft written from a resolved ticket
    draft = call("knowledge.draft_article", task="kb", ticket_number="AS-20260302-00007",
                 title="Drain pump blocked by a sock", problem="E21 after every wash; filter was clean",
                 resolution="A child's sock was stuck in the pump housing; removed it through the filter opening",
                 model="WM-F80")
    # Then drafts are not suggested, and a repeat call returns the same draft
    assert "Drain pump blocked by a sock" not in titles(call("knowledge.suggest", text="sock pump", model="WM-F80"))
    assert call("knowledge.draft_article", task="kb", ticket_number="AS-20260302-00007", title="x", problem="y",
                resolution="z", model="WM-F80") == draft
    assert count(Article, status="draft") == 1
    # When a reviewer publishes it
    with database.transaction() as session:
        publish_article(session, draft["article_id"], clock.now() + timedelta(days=1))
    # Then it is suggested, with the ticket and line recorded
    assert titles(call("knowledge.suggest", text="sock stuck in pump", model="WM-F80"))[0] == \
        "Drain pump blocked by a sock"
    with database.transaction(write=False) as session:
        article = session.get(Article, draft["article_id"])
        assert (article.source_ticket, article.product_line, article.language) == \
            ("AS-20260302-00007", "washing_machine", "en")
        assert article.body.startswith("Problem: E21")


def test_a_chinese_draft_is_labelled_in_chinese(call, database):
    draft = call("knowledge.draft_article", ticket_number="AS-1", title="空调外机不转", problem="不制冷",
                 resolution="更换压缩机电容", model="AC-S35")
    with database.transaction(write=False) as session:
        article = session.get(Article, draft["article_id"])
    assert article.language == "zh" and article.body == "问题: 不制冷\n\n解决方法: 更换压缩机电容"


def test_a_draft_needs_a_title_problem_and_resolution(call, count):
    before = count(Article)
    with pytest.raises(HandlerError, match="resolution must be non-empty text"):
        call("knowledge.draft_article", ticket_number="AS-1", title="t", problem="p", resolution=" ", model="")
    assert count(Article) == before


def test_reloading_the_catalogue_keeps_the_search_index_in_step(call, database, catalogue):
    from handlers.demo import DATA_DIR, load_catalogue

    with database.transaction() as session:
        load_catalogue(session, DATA_DIR)
        ids = list(session.scalars(select(Article.id).where(Article.code.is_not(None))))
    assert len(ids) == catalogue["knowledge.json"]
    result = call("knowledge.suggest", text="transport bolts", model="WM-F80")
    assert titles(result).count("New washing machine shakes and walks during spin") == 1


def test_chinese_runs_are_spelled_as_bigrams_for_the_index():
    assert spell_for_search("洗衣机E21").split() == ["洗衣", "衣机", "E21"]
    assert query_terms("The 空调 is not cooling!") == ["空调", "cooling"]
