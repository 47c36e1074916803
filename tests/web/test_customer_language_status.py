"""A Chinese customer reads the status page's refusals in Chinese: the attachment store's own "too large"
and "not a photo" errors included, not its English message."""

from __future__ import annotations

from handlers.attachments import MAX_BYTES
from tests.web.test_selfservice_photo_limit import photos, send_photo
from tests.web.test_selfservice_status import arrived  # noqa: F401 (the fixture)
from tests.web_api.test_api_real_process import real  # noqa: F401 (the real bundle as the intake process)


def test_a_chinese_customer_reads_the_stores_too_large_error_in_chinese(browser, services, arrived):  # noqa: F811
    number, link = arrived
    browser.client.get("/lang/zh")
    response = send_photo(browser, link, MAX_BYTES + 1024, "big.png")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="photo-error"' in html
    assert "big.png 大小为 10.0 MB；上限为 10 MB" in html and "the limit is" not in html
    assert photos(services, number) == 0


def test_an_english_customer_reads_it_in_english(browser, services, arrived):  # noqa: F811
    number, link = arrived
    browser.client.get("/lang/en")
    html = send_photo(browser, link, MAX_BYTES + 1024, "big.png").get_data(as_text=True)
    assert "big.png is 10.0 MB; the limit is 10 MB" in html
    assert photos(services, number) == 0
