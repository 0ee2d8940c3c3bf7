"""In headless Chromium: the customer opens the texted link, sees the estimate, presses
Approve; the dispatcher's job then shows it approved. Screenshots in var/screenshots/."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from fieldapi.accounts.models import User
from fieldapi.accounts.sessions import open_session
from fieldapi.db import utcnow
from fieldapi.jobs import commands
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import Customer
from fieldapi.onboarding import create_organization
from tests.conftest import TEST_SECRET_KEY, ApiClient, unique_phone
from tests.documents.conftest import LINES, link_token
from tests.jobs.conftest import principal_of

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def live_server(app: Flask, committed: Session) -> Iterator[str]:
    """The app on a loopback port, on the real (committed) database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_the_customer_approves_in_the_browser_and_the_dispatcher_sees_it(
    app: Flask, committed: Session, live_server: str
) -> None:
    db = committed
    organization, dana = create_organization(
        db, name="Done Right Home Services", owner_name="Dana", owner_phone=unique_phone()
    )
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Maria Lopez",
        phone="+13122000201",
        address="1060 W Addison St, Chicago, IL",
        timezone="America/Chicago",
        site=site_point(41.9484, -87.6553),
    )
    db.add(customer)
    db.commit()
    job_id = commands.create_job(
        db,
        principal_of(dana),
        customer_id=customer.id,
        title="Dishwasher not draining",
        appointment=None,
        now=utcnow(),
    )
    dispatcher = db.get_one(User, dana.id)
    pair = open_session(db, dispatcher, secret_key=TEST_SECRET_KEY, now=utcnow())
    db.commit()
    api = ApiClient(app.test_client(), pair.access_token)
    estimate = api.post(f"/v1/jobs/{job_id}/estimates", json={"lines": LINES}).json
    assert api.post(f"/v1/documents/{estimate['id']}/actions/send").status_code == 200
    token = link_token(db, job_id)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 420, "height": 820})
            page.goto(f"{live_server}/d/{token}")
            assert page.locator("h1").inner_text() == "Estimate EST-0001"
            assert page.locator("#total").inner_text() == "180.00 USD"
            assert page.locator("#status").inner_text() == "sent"
            page.screenshot(path=str(SCREENSHOTS / "document-link-before.png"), full_page=True)
            page.get_by_role("button", name="Approve").click()
            page.wait_for_selector("#decision")
            assert page.locator("#status").inner_text() == "approved"
            assert "You approved this estimate" in page.locator("#decision").inner_text()
            assert page.get_by_role("button", name="Approve").count() == 0
            page.screenshot(path=str(SCREENSHOTS / "document-link-approved.png"), full_page=True)

            # The dispatcher's job, through the same server, with the dispatcher's token.
            headers = {"Authorization": f"Bearer {pair.access_token}"}
            documents = page.request.get(
                f"{live_server}/v1/jobs/{job_id}/documents", headers=headers
            )
            assert documents.json()["items"][0]["status"] == "approved"
            log = page.request.get(f"{live_server}/v1/jobs/{job_id}/activity", headers=headers)
            summaries = [e["details"].get("summary") for e in log.json()["items"]]
            assert "estimate EST-0001 approved by the customer" in summaries
        finally:
            browser.close()
