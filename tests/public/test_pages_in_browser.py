"""The customer's pages in a real headless Chromium (Debian's, driven by Playwright):
the tracking page follows a simulated technician's drive without reloading.
Screenshots are kept under var/screenshots/ for a human look."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import User
from fieldapi.accounts.sessions import open_session
from fieldapi.db import utcnow
from fieldapi.jobs import commands
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import Customer
from fieldapi.jobs.texts import TextSettings
from fieldapi.messaging.models import Message
from fieldapi.onboarding import create_organization
from tests.conftest import TEST_SECRET_KEY, WRIGLEY, unique_phone
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
KM_OF_LATITUDE = 1 / 111.2


@pytest.fixture
def live_server(app_with_own_engine: Callable[..., Flask]) -> Iterator[str]:
    """The API on a free local port, as a phone and a browser reach it."""
    app = app_with_own_engine(TRACKING_REFRESH_SECONDS=1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 390, "height": 760})
        yield page
        browser.close()


def _visit_on_the_way(committed: Session, base_url: str) -> tuple[User, str, str]:
    """A technician on the way to a customer at Wrigley Field (from the Loop, 8 km): the
    technician, their access token, the tracking token of the on-my-way text."""
    organization, owner = create_organization(
        committed,
        name="Done Right Home Services",
        owner_name="Dana Reyes",
        owner_phone=unique_phone(),
        timezone="America/Chicago",
    )
    tech = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Sam Ortiz",
        phone=unique_phone(),
        role="technician",
    )
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Maria Lopez",
        phone="+13122000201",
        address="1060 W Addison St, Chicago, IL",
        timezone="America/Chicago",
        site=site_point(*WRIGLEY),
    )
    committed.add_all([tech, customer])
    committed.commit()
    job_id = commands.create_job(
        committed,
        principal_of(owner),
        customer_id=customer.id,
        title="Fix the furnace",
        appointment=commands.AppointmentInput(
            starts_at=utcnow() + timedelta(minutes=30), duration_min=90, technician_id=tech.id
        ),
        now=utcnow(),
    )
    [appointment_id] = committed.scalars(
        select(commands.Appointment.id).where(commands.Appointment.job_id == job_id)
    ).all()
    commands.appointment_action(
        committed,
        principal_of(tech),
        appointment_id,
        lc.ActionName.ON_MY_WAY,
        now=utcnow(),
        settings=TextSettings(public_base_url=base_url),
        position=(41.8789, -87.6359),
    )
    body = committed.scalars(select(Message.body).where(Message.job_id == job_id)).one()
    access = open_session(committed, tech, secret_key=TEST_SECRET_KEY, now=utcnow())
    committed.commit()
    return tech, access.access_token, body.rsplit("/t/", 1)[1]


def _ping(base_url: str, token: str, at: datetime, km_north_of_site: float) -> None:
    ping = {
        "recorded_at": at.isoformat().replace("+00:00", "Z"),
        "lat": WRIGLEY[0] + km_north_of_site * KM_OF_LATITUDE,
        "lon": WRIGLEY[1],
        "accuracy_m": 8,
    }
    request = urllib.request.Request(
        f"{base_url}/v1/locations",
        data=json.dumps({"pings": [ping]}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["stored"] == 1


def _eta_minutes(page: Page) -> int:
    return int(page.inner_text("#eta").split("about ")[1].split(" min")[0])


def _van(page: Page) -> tuple[str | None, str | None]:
    return page.get_attribute("#van", "cx"), page.get_attribute("#van", "cy")


def test_the_tracking_page_follows_the_drive(
    committed: Session, live_server: str, browser_page: Page
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _tech, access, token = _visit_on_the_way(committed, live_server)
    page = browser_page
    fetched_elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            fetched_elsewhere.append(request.url)
            if not request.url.startswith(live_server)
            else None
        ),
    )
    start = utcnow()
    _ping(live_server, access, start, 6)
    page.goto(f"{live_server}/t/{token}")
    page.wait_for_selector("#distance:has-text('km away')")
    assert page.inner_text("h1") == "Sam is on the way"
    assert page.inner_text("#company") == "Done Right Home Services"
    first_eta, first_van = _eta_minutes(page), _van(page)
    page.screenshot(path=str(SCREENSHOTS / "tracking-1-on-the-way.png"), full_page=True)

    # The technician drives closer; the page, never reloaded, shows the new ETA.
    _ping(live_server, access, start + timedelta(seconds=90), 2)
    page.wait_for_function(
        "minutes => !document.querySelector('#eta').textContent.includes('about ' + minutes + ' ')",
        arg=first_eta,
    )
    closer_eta = _eta_minutes(page)
    assert closer_eta < first_eta
    page.wait_for_function(
        "() => document.querySelector('#distance').textContent.includes('2.0 km')"
    )
    assert _van(page) != first_van
    page.screenshot(path=str(SCREENSHOTS / "tracking-2-closer.png"), full_page=True)

    # At the site for the dwell time: the page says so and the position goes away.
    _ping(live_server, access, start + timedelta(seconds=180), 0.02)
    _ping(live_server, access, start + timedelta(seconds=250), 0.01)
    page.wait_for_function("() => document.querySelector('h1').textContent === 'Sam has arrived'")
    assert page.inner_text("#eta") == ""
    assert page.is_hidden("#map")
    page.screenshot(path=str(SCREENSHOTS / "tracking-3-arrived.png"), full_page=True)
    assert fetched_elsewhere == []  # nothing from a CDN or a tile server
