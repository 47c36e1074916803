"""Texts that count say the count in the plural form the language gives it, never "1 visit(s)"."""

from __future__ import annotations

import pytest

from analytics.alerts import failed_title
from handlers.catalogue_options import open_visits


@pytest.mark.parametrize(("count", "said"), [(0, "0 open visits"), (1, "1 open visit"), (4, "4 open visits")])
def test_a_technicians_open_visits_are_counted_in_english_plural_forms(count, said):
    assert open_visits(count) == said


@pytest.mark.parametrize(("count", "language", "said"), [
    (1, "en", "1 customer notification failed for good"),
    (2, "en", "2 customer notifications failed for good"),
    (1, "zh", "1 条客户通知最终发送失败"),
    (5, "zh", "5 条客户通知最终发送失败"),
])
def test_the_failed_notifications_title_takes_the_plural_form_of_its_language(count, language, said):
    assert failed_title(count, language) == said
