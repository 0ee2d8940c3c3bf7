"""Browser fixtures: the real app served on a loopback port, and Debian's headless Chromium
driven by Playwright (`playwright install` is never needed: it runs /usr/bin/chromium)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine
from werkzeug.serving import make_server

from fieldapi.app import create_app
from tests.conftest import TEST_CONFIG

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def served_app(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, str]]:
    """The API, console included, on an ephemeral loopback port (a threaded server, so the
    page's parallel requests are answered at once)."""
    config = dict(
        TEST_CONFIG,
        DATABASE_URL=database_url,
        PHOTO_DIR=str(tmp_path_factory.mktemp("web-photos")),
        PASSCODE_LOCK_AFTER=3,  # a few wrong codes lock the number: the console's 429
    )
    app = create_app(config, engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, served_app: tuple[Flask, str]) -> Iterator[Page]:
    """A fresh page (its own storage) that fails the test on any uncaught script error or
    request to another host."""
    _app, base_url = served_app
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 1400, "height": 900},
        timezone_id="America/Chicago",  # the demo organization's, as for its dispatchers
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "request",
        lambda request: (
            problems.append(f"outside request: {request.url}")
            if not request.url.startswith((base_url, "data:", "blob:"))
            else None
        ),
    )
    yield page
    context.close()
    assert problems == []


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
