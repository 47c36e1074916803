"""A customer's photo above the app's 5 MB request limit reaches the attachment store, which keeps it up to
10 MB and refuses a larger one with its own error on the photo field."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from handlers.attachments import MAX_BYTES, Attachment
from tests.web.test_selfservice_status import PNG, arrived  # noqa: F401 (the fixture)
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)


def photos(services, number) -> int:
    with services.db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(Attachment).where(Attachment.ticket_number == number))


def send_photo(browser, link: str, size: int, name: str, csrf: bool = True):
    """Post a PNG of ``size`` bytes from the status page, encoded here (bytes, no spooled file left open)."""
    browser.get(link)
    fields = MultiDict({"photo": FileStorage(io.BytesIO(PNG + b"\x00" * (size - len(PNG))), name, "photo",
                                             "image/png")})
    if csrf:
        fields["csrf_token"] = browser.token
    boundary, body = encode_multipart(fields)
    return browser.client.post(f"{link}/photo", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_seven_megabyte_photo_is_kept_although_the_app_limit_is_five(app, browser, services, arrived):  # noqa: F811
    number, link = arrived
    assert app.config["MAX_CONTENT_LENGTH"] < 7 * 2**20
    response = send_photo(browser, link, 7 * 2**20, "drum.png")
    assert response.status_code == 200 and "We added your photo" in response.get_data(as_text=True)
    assert photos(services, number) == 1


def test_a_photo_just_over_ten_megabytes_gets_the_stores_own_error_on_the_field(browser, services,
                                                                                 arrived):  # noqa: F811
    number, link = arrived
    response = send_photo(browser, link, MAX_BYTES + 1024, "big.png")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="photo-error"' in html
    assert "big.png is 10.0 MB; the limit is 10 MB" in html
    assert photos(services, number) == 0


def test_a_far_larger_photo_is_refused_on_the_field_not_with_a_bare_413_page(browser, services,
                                                                            arrived):  # noqa: F811
    number, link = arrived
    response = send_photo(browser, link, MAX_BYTES + 2 * 2**20, "huge.png")
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and 'id="photo-error"' in html
    assert "The photo is larger than 10 MB; nothing was kept." in html and 'id="add-photo"' in html
    assert photos(services, number) == 0


def test_a_photo_without_the_csrf_token_is_refused_and_nothing_is_kept(browser, services, arrived):  # noqa: F811
    number, link = arrived
    assert send_photo(browser, link, 6 * 2**20, "drum.png", csrf=False).status_code == 400
    assert photos(services, number) == 0
