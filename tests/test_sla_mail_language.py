"""SLA warnings reach staff in their language, the business language (Chinese) when they chose none: the
clock's kind in words, its target as a duration and its due time in the business time zone, labelled —
never ``PT8H`` or a bare UTC timestamp."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import User
from engine.worker import Worker
from handlers.outbox import Outbox
from tests.test_sla import sla_process, utc  # noqa: F401 (the fixture)


def test_an_sla_warning_reads_in_chinese_for_staff_without_a_language_and_in_english_for_one_who_chose_it(
        database, runtime, sla_process, clock):  # noqa: F811
    # Given Ann chose no language and Sam chose English
    with database.transaction() as s:
        s.scalars(select(User).where(User.username == "sam")).one().language = "en"
    sla_process("S-9")
    worker = Worker(database, runtime)
    # When the warning and then the breach fall due
    clock.set(utc(2026, 3, 3, 6, 0, 1))
    worker.run_once()
    clock.set(utc(2026, 3, 3, 8, 0, 1))
    worker.run_once()
    with database.transaction(write=False) as s:
        mails = {(o.milestone, o.recipient): o for o in s.scalars(select(Outbox))}
    # Then Ann's warning is Chinese, with the target in words and the due time labelled in Beijing time
    warning = mails[("sla_warning", "ann@example.com")]
    assert (warning.language, warning.subject) == ("zh", "SLA 预警：S-9")
    assert "响应时限（8小时）" in warning.body or "解决时限（8小时）" in warning.body
    assert "中国标准时间" in warning.body and "PT8H" not in warning.body
    # And Sam's breach is English, the same moment said the English way
    breach = mails[("sla_breached", "sam@example.com")]
    assert breach.language == "en" and "(8 hours)" in breach.body and "China Standard Time" in breach.body
    assert "PT8H" not in breach.body
