"""A real server on loopback for the browser tests, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-1"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` from a thread on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


_BUILT: dict[Any, Path] = {}  # live_site's deployed files (beside the template), per what was deployed
_SHARED: dict[str, Any] = {}  # Playwright and its Chromium, started once per test process


def _shared_browser() -> Any:
    """Debian's Chromium, launched on first use and kept for the rest of the test process.

    Starting Playwright's driver and Chromium costs a second or two; a fresh context per
    test isolates cookies, storage and pages just as a fresh browser would. A browser that
    crashed or was closed is launched again.
    """
    browser = _SHARED.get("browser")
    if browser is not None and browser.is_connected():
        return browser
    if "playwright" not in _SHARED:
        from playwright.sync_api import sync_playwright

        _SHARED["playwright"] = sync_playwright().start()
    browser = _SHARED["playwright"].chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    _SHARED["browser"] = browser
    return browser


def close_chromium() -> None:
    """Close the shared Chromium and stop Playwright (tests/conftest.py calls it at the session's end)."""
    browser = _SHARED.pop("browser", None)
    playwright = _SHARED.pop("playwright", None)
    try:
        if browser is not None and browser.is_connected():
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()


@contextmanager
def chromium(locale: str = "en-US", **options: Any) -> Iterator[Any]:
    """Yield a fresh browser context of headless Chromium (Debian's, never a downloaded one).

    The browser itself is shared by the tests of one process (see :func:`_shared_browser`);
    the context, its pages and cookies are closed on exit. ``options`` go to Playwright's
    ``new_context`` (e.g. ``java_script_enabled=False``): a test never starts a Playwright of
    its own, which the running one's event loop refuses.
    """
    context = _shared_browser().new_context(**{"locale": locale, "viewport": {"width": 1360, "height": 860},
                                               **options})
    try:
        context.set_default_timeout(15_000)
        yield context
    finally:
        if context.browser is not None and context.browser.is_connected():
            context.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under ``test-artifacts/screenshots``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def live_site(tmp_path: Path, sqlite_template: Path, bundle: list[Path], users: dict[str, list[str]],
              config: dict[str, Any] | None = None, catalogue: Path | None = None) -> Iterator[tuple[str, Any]]:
    """Serve the app on a fresh SQLite file with ``bundle`` deployed and ``users`` created.

    The deployed file is built once per test process for each bundle, users, catalogue and
    clock time, and copied for every later site asking for the same (deploying processes/
    with its catalogue costs a CPU second a test); the copy has its own URL, so nothing
    kept in memory by URL is shared."""
    import shutil
    import sqlite3

    from engine import clock
    from engine.bundle import read_bundle
    from engine.config import load_settings
    from engine.db import Database
    from engine.deploy import deploy
    from engine.identity import create_user
    from engine.registry import all_handlers
    from engine.runtime import Runtime
    from web import create_app
    from web.services import Services

    path = tmp_path / "live.sqlite3"
    all_handlers()
    key = (str(sqlite_template), tuple(map(str, bundle)), tuple((u, tuple(r)) for u, r in users.items()),
           str(catalogue), clock.now())
    built = _BUILT.get(key)
    if built is None or not built.is_file():
        shutil.copyfile(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        try:
            with db.transaction() as s:
                deploy(s, read_bundle(bundle, "aftersales"), "owner")
                for username, roles in users.items():
                    create_user(s, username, PASSWORD, roles, display_name=username.title())
                if catalogue is not None:
                    from handlers import demo

                    demo.load_catalogue(s, catalogue)
        finally:
            db.dispose()
        built = sqlite_template.parent / f"live-site{len(_BUILT)}.sqlite3"
        with sqlite3.connect(path) as conn:  # all in the main file, nothing left in a -wal beside it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copyfile(path, built)
        _BUILT[key] = built
    else:
        shutil.copyfile(built, path)
    db = Database(f"sqlite:///{path}")
    services = Services(load_settings(database_url=db.url), db, Runtime(load_settings()))
    app = create_app({"SECRET_KEY": "browser-test", **(config or {})}, services=services)
    try:
        with serving(app) as base:
            yield base, services
    finally:
        db.dispose()


@contextmanager
def desk_site(tmp_path: Path, sqlite_template: Path, clock: Any,
              staff: dict[str, str]) -> Iterator[tuple[str, Any, Any]]:
    """The real process and catalogue served on loopback to ``staff`` (user → role), and a desk
    (tests/process/driver.py) to drive tickets as them: yield the address, the services and the desk."""
    from engine.identity import Actor
    from tests.process.driver import PROCESSES, Desk

    users = {name: [role] for name, role in staff.items()}
    with live_site(tmp_path, sqlite_template, [PROCESSES], users, catalogue=PROCESSES / "data") as (base, services):
        actors = {role: Actor(name, frozenset({role})) for name, role in staff.items()}
        yield base, services, Desk(services.db, services.runtime, clock, actors)


def sign_in(page: Any, base: str, user: str) -> None:
    """Sign in through the form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(base) and "/login" not in url)  # each role lands on its own page


def sign_out(page: Any) -> None:
    """Sign out through the header button."""
    page.click("header button:has-text('Sign out')")
