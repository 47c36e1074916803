"""Money, numbers and the scripts' texts follow the reader's language (Flask-Babel, gettext domain js)."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask, session

from web.rendering import js_texts, money, number


def in_language(app: Flask, language: str):  # type: ignore[no-untyped-def]
    context = app.test_request_context("/")
    context.push()
    session["lang"] = language
    return context


@pytest.mark.parametrize(("language", "expected"), [("zh", "¥1,280.50"), ("en", "CN¥1,280.50")])
def test_money_is_said_in_the_readers_locale_in_yuan(app: Flask, language: str, expected: str):
    context = in_language(app, language)
    try:
        assert money(1280.5) == expected
        assert money("1280.5", "CNY") == expected
        assert money(None) == ""
        assert money("n/a") == "n/a"
    finally:
        context.pop()


def test_numbers_are_grouped_and_decimals_fixed_on_request(app: Flask):
    context = in_language(app, "zh")
    try:
        assert number(1234567) == "1,234,567"
        assert number(3.14159, 1) == "3.1"
        assert number(12, 0) == "12"
    finally:
        context.pop()


def test_a_chinese_page_receives_the_scripts_chinese_and_an_english_page_nothing(app: Flask):
    for language, probe in (("zh", "正在加载 {file} …"), ("en", None)):
        context = in_language(app, language)
        try:
            tag = str(js_texts())
        finally:
            context.pop()
        found = re.fullmatch(r'<script type="application/json" id="ui-texts">(.*)</script>', tag, re.S)
        assert found, tag
        table = json.loads(found.group(1))
        assert table.get("Loading {file} …") == probe
        assert "<" not in found.group(1)  # a text cannot close the script element


def test_the_trace_page_embeds_the_scripts_texts_in_the_readers_language(signed_in, repair_ticket):  # type: ignore[no-untyped-def]
    auditor = signed_in("auditor")
    link = re.search(r'href="(/audit/instances/\d+)"', auditor.get("/audit/instances").get_data(as_text=True))
    assert link, f"no instance of {repair_ticket} on the audit list"
    empty = '<script type="application/json" id="ui-texts">{}</script>'
    assert empty in auditor.get(link.group(1)).get_data(as_text=True)
    auditor.get("/lang/zh")
    assert "正在加载 {file} …" in auditor.get(link.group(1)).get_data(as_text=True)
