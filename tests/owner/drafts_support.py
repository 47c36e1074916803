"""Helpers of the drafts tests: a deployed bundle with a decision table, and JSON calls with the CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.bundle import Bundle, read_bundle
from engine.deploy import deploy
from tests.web.conftest import WEB_FIXTURES

ROOT = Path(__file__).resolve().parents[2]
DMN = (ROOT / "processes" / "quote_approval.dmn").read_bytes()


def repair_bundle() -> Bundle:
    """The web fixture's repair process, its forms and Chinese texts, and the quote approval decision table."""
    files = dict(read_bundle([WEB_FIXTURES / "customer"]).files)
    files["quote_approval.dmn"] = DMN
    return Bundle("repair", files)


def deploy_repair(database: Any) -> int:
    """Deploy :func:`repair_bundle` as version 1 of bundle ``repair``; return its deployment id."""
    with database.transaction() as s:
        return deploy(s, repair_bundle(), "olga").deployment_id


class Api:
    """A signed-in client calling the workbench API with the page's CSRF token."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.client = browser.client
        browser.get("/tasks")  # signing in starts a new session: the token of a page after it

    def headers(self, csrf: bool = True, **more: str) -> dict[str, str]:
        """Return the request headers (the CSRF token in ``X-CSRFToken`` unless told otherwise)."""
        return {"Accept": "application/json", **({"X-CSRFToken": self.browser.token} if csrf else {}), **more}

    def get(self, url: str) -> Any:
        """GET a URL."""
        return self.client.get(url, headers=self.headers())

    def post(self, url: str, body: Any = None, csrf: bool = True) -> Any:
        """POST a JSON body."""
        return self.client.post(url, json=body if body is not None else {}, headers=self.headers(csrf))

    def put(self, url: str, content: bytes, csrf: bool = True) -> Any:
        """PUT a raw body (a whole file)."""
        return self.client.put(url, data=content, headers=self.headers(csrf, **{"Content-Type": "text/plain"}))

    def delete(self, url: str, csrf: bool = True) -> Any:
        """DELETE a URL."""
        return self.client.delete(url, headers=self.headers(csrf))

    def upload(self, url: str, files: list[tuple[bytes, str]], csrf: bool = True) -> Any:
        """POST files as multipart ``files`` (encoded in memory: the test client's temp file would stay open)."""
        import io

        from werkzeug.datastructures import FileStorage, MultiDict
        from werkzeug.test import encode_multipart

        values = MultiDict([("files", FileStorage(io.BytesIO(content), filename=name)) for content, name in files])
        boundary, body = encode_multipart(values)
        return self.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                                headers=self.headers(csrf))

    def new_draft(self, name: str = "Faster repair", from_deployment_id: int | None = None, **more: Any) -> dict:
        """Create a draft and return it."""
        body = {"name": name, **({"from_deployment_id": from_deployment_id} if from_deployment_id else {}), **more}
        response = self.post("/owner/api/drafts", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
