"""A what-if never hands its simulated e-mail to the live system's mail server: its throw-away database is
marked ``simulation`` and every message it would have sent is recorded there instead."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.db import Database
from engine.rehearsal import get_purpose
from handlers.outbox import Outbox
from handlers.transports import Delivery, MailSink
from simulation.whatif import run_arm
from tests.conftest import PROCESSES
from tests.support.net import free_port


def test_a_what_if_records_its_email_and_sends_none_to_the_configured_mail_server(tmp_path, monkeypatch):
    server = MailSink(tmp_path / "mail", port=free_port()).start()
    monkeypatch.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AFTERSALES_SMTP_PORT", str(server.controller.port))
    try:
        figures = run_arm(PROCESSES, tmp_path / "arm.sqlite3", 3, 2, 7, date(2026, 11, 2))
    finally:
        server.stop()
    assert figures["requests"] >= 3
    assert server.messages() == []
    database = Database(f"sqlite:///{tmp_path / 'arm.sqlite3'}")
    try:
        with database.transaction(write=False) as session:
            assert get_purpose(session) == "simulation"
            statuses = dict(session.execute(select(Outbox.status, func.count()).where(Outbox.channel == "email")
                                            .group_by(Outbox.status)).all())
            recorded = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.channel == "email"))
    finally:
        database.dispose()
    assert set(statuses) == {"delivered"} and statuses["delivered"] >= 3  # one acknowledgement per request at least
    assert recorded == statuses["delivered"]
