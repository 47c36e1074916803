"""Static files carry their version in the URL and are kept by browsers for a year; others are revalidated."""

from __future__ import annotations

import re


def test_a_pages_static_urls_carry_the_files_version_and_are_kept_for_a_year(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    url = re.search(r'/static/app\.css\?v=[0-9a-f]+', page)
    assert url, "the sign-in page links app.css with its version"
    answer = client.get(url.group())
    answer.close()
    assert answer.status_code == 200
    assert {"public", "immutable", "max-age=31536000"} <= set(answer.headers["Cache-Control"].split(", "))


def test_a_static_file_asked_for_without_or_with_an_outdated_version_is_revalidated(app):
    client = app.test_client()
    for path in ("/static/app.css", "/static/app.css?v=0"):
        answer = client.get(path)
        answer.close()
        assert answer.status_code == 200
        assert "immutable" not in answer.headers.get("Cache-Control", ""), path
        assert "max-age=31536000" not in answer.headers.get("Cache-Control", ""), path
