"""``aftersales serve``/``demo`` point the links in customers' messages at the server they start, unless the
installation says where customers reach it."""

from __future__ import annotations

import os

import pytest

from cli.serve import _default_public_url


@pytest.fixture(autouse=True)
def no_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """No address configured; and the one a test's server sets is gone after it (set first, so it is undone)."""
    for name in ("AFTERSALES_PUBLIC_URL", "AFTERSALES_BASE_URL"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("127.0.0.1", 5055, "http://127.0.0.1:5055"),
    ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
    ("service.local", 80, "http://service.local:80"),
    ("::1", 5000, "http://[::1]:5000"),
])
def test_a_server_without_a_public_address_puts_its_own_in_customer_links(host, port, expected):
    _default_public_url(host, port)
    assert os.environ["AFTERSALES_PUBLIC_URL"] == expected


def test_the_installation_s_public_address_wins(monkeypatch):
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://service.example.cn")
    _default_public_url("127.0.0.1", 5055)
    assert os.environ["AFTERSALES_PUBLIC_URL"] == "https://service.example.cn"
