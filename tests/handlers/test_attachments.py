"""Files kept with a ticket: checked by content and size, named safely, audited, opened by role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.identity import Actor
from engine.models import AuditEvent
from handlers.attachments import (
    Attachment,
    add_attachment,
    clean_filename,
    list_attachments,
    read_attachment,
    sniff,
)
from tests.web.conftest import WEB_FIXTURES

TICKET = "AS-20260302-00007"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
AGENT = Actor("agent", frozenset({"agent"}))


@pytest.fixture
def ticket(database, runtime, deploy_fixture):
    """A running ticket of the web fixtures' repair process."""
    deploy_fixture(WEB_FIXTURES / "customer")
    data = {"ticket_number": TICKET, "customer": {"name": "Li Lei", "phone": "13800138000"},
            "product": {"model": "Aurora X1", "serial_number": "SN-1"}, "fault": {"description": "dead"}}
    with database.transaction() as s:
        runtime.start(s, "web_repair", data, TICKET, "agent")
    return TICKET


def stored(database) -> int:
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Attachment)) or 0


def test_a_photo_is_kept_with_its_type_from_the_content_and_audited(database, ticket):
    with database.transaction() as s:
        row = add_attachment(s, ticket, "damage.jpg", JPEG, "application/octet-stream", "agent", "ticket")
        attachment_id = row.id
    with database.transaction(write=False) as s:
        [listed] = list_attachments(s, ticket)
        found, content = read_attachment(s, ticket, attachment_id, AGENT)
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.kind == "attachment.added")))
    assert (listed.filename, listed.content_type, listed.size) == ("damage.jpg", "image/jpeg", len(JPEG))
    assert content == JPEG and found.uploaded_by == "agent"
    assert [e.data["filename"] for e in events] == ["damage.jpg"] and events[0].actor == "agent"


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("a.png", PNG, "image/png"),
    ("a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp"),
    ("a.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    ("receipt.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
    ("notes.txt", "客户说屏幕闪烁。\nThe screen flickers.\n".encode(), "text/plain"),
    ("gbk.txt", "客户说屏幕闪烁".encode("gb18030"), "text/plain"),
])
def test_allowed_types_are_recognised_by_their_content(name, content, kind):
    assert sniff(content) == kind


@pytest.mark.parametrize(("name", "content"), [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100),          # Windows program
    ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),                          # Linux program
    ("notes.txt", b"#!/bin/sh\nrm -rf ~\n"),                                        # script
    ("page.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),         # web page
    ("image.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),  # SVG
    ("image.png", b"  <svg onload=alert(1)>"),
    ("archive.pdf", b"PK\x03\x04" + b"\x00" * 64),                                  # zip
])
def test_programs_pages_and_svg_are_refused_whatever_their_name(database, ticket, name, content):
    with database.transaction() as s, pytest.raises(InvalidInput, match=r"^file: .* refused") as raised:
        add_attachment(s, ticket, name, content, "image/jpeg", "agent", "ticket")
    assert raised.value.details["field"] == "file"
    assert stored(database) == 0


def test_a_file_over_ten_megabytes_is_refused_naming_the_field(database, ticket):
    big = JPEG + b"\x00" * (30 * 1024 * 1024)
    refused = pytest.raises(InvalidInput, match=r"^file: big.jpg is 30.0 MB; the limit is 10 MB")
    with database.transaction() as s, refused:
        add_attachment(s, ticket, "big.jpg", big, "image/jpeg", "agent", "ticket")
    assert stored(database) == 0


def test_an_empty_file_is_refused(database, ticket):
    with database.transaction() as s, pytest.raises(InvalidInput, match="^file: choose a file"):
        add_attachment(s, ticket, "empty.jpg", b"", "image/jpeg", "agent", "ticket")


def test_a_file_for_an_unknown_ticket_is_refused(database, ticket):
    with database.transaction() as s, pytest.raises(NotFound, match="AS-19990101-00001"):
        add_attachment(s, "AS-19990101-00001", "a.jpg", JPEG, "image/jpeg", "agent", "ticket")


@pytest.mark.parametrize(("given", "kind", "kept"), [
    ("../../etc/passwd", "text/plain", "passwd.txt"),
    ("C:\\Users\\li\\发票.pdf", "application/pdf", "发票.pdf"),
    ("photo.JPEG", "image/jpeg", "photo.jpg"),
    ("photo.jpg", "image/png", "photo.jpg.png"),
    ('a"; filename=evil.html', "text/plain", "a_ filename=evil.html.txt"),
    ("\x00\r\n.jpg", "image/jpeg", "jpg.jpg"),
    ("", "image/jpeg", "attachment.jpg"),
])
def test_file_names_lose_folders_and_unsafe_characters_and_keep_the_contents_extension(given, kind, kept):
    assert clean_filename(given, kind) == kept


@pytest.mark.parametrize("role", ["qa", "auditor", "process_owner", "admin"])
def test_roles_that_do_not_see_customers_data_cannot_open_files(database, ticket, role):
    with database.transaction() as s:
        attachment_id = add_attachment(s, ticket, "receipt.pdf", b"%PDF-1.4 x", "application/pdf", "agent").id
    with database.transaction(write=False) as s, pytest.raises(PermissionDenied):
        read_attachment(s, ticket, attachment_id, Actor(role, frozenset({role})))


def test_a_file_is_found_only_under_its_own_ticket(database, ticket):
    with database.transaction() as s:
        attachment_id = add_attachment(s, ticket, "a.jpg", JPEG, "image/jpeg", "agent").id
    with database.transaction(write=False) as s, pytest.raises(NotFound):
        read_attachment(s, "AS-20260302-00099", attachment_id, AGENT)


def test_a_task_form_may_name_its_field_as_the_source(database, ticket):
    with database.transaction() as s:
        row = add_attachment(s, ticket, "dent.png", PNG, "image/png", "warehouse", "task:damage_photo")
        assert row.source == "task:damage_photo"
    with database.transaction() as s, pytest.raises(InvalidInput, match="source"):
        add_attachment(s, ticket, "dent.png", PNG, "image/png", "warehouse", "somewhere else")
