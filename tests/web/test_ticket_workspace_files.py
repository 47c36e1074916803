"""Files on the ticket page: uploaded with the form, refused by size and content, downloaded by role."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from handlers.attachments import Attachment
from tests.web.conftest import TICKET

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 2048


def stored(database) -> int:
    with database.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Attachment)) or 0


def upload(b, name: str, content: bytes, kind: str = "image/jpeg"):
    """Post the upload form as a browser does (the body built in memory: no temporary file left open)."""
    b.get(f"/tickets/{TICKET}")
    fields = MultiDict({"csrf_token": b.token, "file": FileStorage(io.BytesIO(content), name, "file", kind)})
    boundary, body = encode_multipart(fields)
    return b.client.post(f"/tickets/{TICKET}/attachments", data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")


def test_an_agent_attaches_a_photo_and_downloads_it_as_an_attachment(signed_in, database, repair_ticket):
    agent = signed_in("agent")
    response = upload(agent, "损坏 照片.jpg", JPEG)
    assert response.status_code == 302 and response.location.endswith("#files")
    html = agent.get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert "损坏 照片.jpg" in html and "File attached" in html
    with database.transaction(write=False) as s:
        attachment_id = s.scalar(select(Attachment.id))
    got = agent.client.get(f"/tickets/{TICKET}/attachments/{attachment_id}")
    assert got.status_code == 200 and got.data == JPEG
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_a_30_megabyte_upload_is_refused_naming_the_file_field(signed_in, database, repair_ticket):
    agent = signed_in("agent")
    response = upload(agent, "huge.jpg", JPEG + b"\x00" * (30 * 1024 * 1024))
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'id="err-file"' in html and "larger than 10 MB" in html
    assert stored(database) == 0


def test_an_eleven_megabyte_photo_is_refused_by_the_store_naming_the_field(signed_in, database, repair_ticket):
    agent = signed_in("agent")
    response = upload(agent, "big.jpg", JPEG + b"\x00" * (10 * 1024 * 1024))
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 413) and 'id="err-file"' in html
    assert stored(database) == 0


@pytest.mark.parametrize(("name", "content"), [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200),
    ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    ("notes.txt", b"<html><script>alert(1)</script></html>"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
])
def test_programs_and_web_pages_renamed_as_photos_are_refused(signed_in, database, repair_ticket, name, content):
    agent = signed_in("agent")
    response = upload(agent, name, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="err-file"' in html and "are refused" in html
    assert stored(database) == 0


def test_an_upload_without_a_file_asks_for_one(signed_in, database, repair_ticket):
    agent = signed_in("agent")
    agent.get(f"/tickets/{TICKET}")
    response = agent.client.post(f"/tickets/{TICKET}/attachments", data={"csrf_token": agent.token})
    assert response.status_code == 422 and "Choose a file to attach." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["qa", "auditor", "process_owner", "admin"])
def test_roles_that_see_no_customer_data_list_files_but_cannot_open_them(signed_in, database, repair_ticket,
                                                                          role):
    upload(signed_in("agent"), "receipt.jpg", JPEG)
    with database.transaction(write=False) as s:
        attachment_id = s.scalar(select(Attachment.id))
    b = signed_in(role)
    assert "receipt.jpg" in b.get(f"/tickets/{TICKET}").get_data(as_text=True)
    assert b.get(f"/tickets/{TICKET}/attachments/{attachment_id}").status_code == 403
    assert upload(b, "more.jpg", JPEG).status_code == 403


@pytest.mark.parametrize("role", ["technician", "warehouse", "supervisor"])
def test_roles_that_work_on_the_ticket_attach_and_open_files(signed_in, database, repair_ticket, role):
    b = signed_in(role)
    assert upload(b, "dent.jpg", JPEG).status_code == 302
    with database.transaction(write=False) as s:
        attachment_id = s.scalar(select(Attachment.id))
    assert b.client.get(f"/tickets/{TICKET}/attachments/{attachment_id}").data == JPEG
