"""The dispatcher console in headless Chromium, against the served API on PostGIS.

Each test logs in as the demo dispatcher the way a person does (phone, then the code
texted to it) and uses the console only through what a person sees and presses.
Screenshots land in var/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.accounts.sessions import open_session
from fieldapi.db import utcnow
from fieldapi.demo import DEMO_DISPATCHER_PHONE, seed_demo
from fieldapi.messaging.models import Message
from tests.conftest import TEST_SECRET_KEY, forget_phone, passcode_from_outbox
from tests.web.conftest import screenshot

CHICAGO = (41.8781, -87.6298)


@dataclass
class Demo:
    base_url: str
    tokens: dict[str, str]  # technician's name: access token
    ids: dict[str, str]  # technician's name: user id

    def call(self, name: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[name]}"}
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def ping(self, name: str, lat: float, lon: float, minutes_ago: float = 0, **extra: Any) -> None:
        at = (utcnow() - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
        body = {"pings": [{"recorded_at": at, "lat": lat, "lon": lon, "accuracy_m": 10, **extra}]}
        answer = self.call(name, "POST", "/v1/locations", json=body)
        assert answer.json()["stored"] == 1, answer.json()


@pytest.fixture
def demo(committed: Session, served_app: tuple[Flask, str]) -> Iterator[Demo]:
    """The demo organization, committed (the served app reads it from other connections),
    with a session for each demo technician, opened as their phones would."""
    seed_demo(committed)
    committed.commit()
    tokens, ids = {}, {}
    for user in committed.scalars(select(User).where(User.role != "dispatcher")):
        pair = open_session(committed, user, secret_key=TEST_SECRET_KEY, now=utcnow())
        tokens[user.name], ids[user.name] = pair.access_token, str(user.id)
    committed.commit()
    yield Demo(served_app[1], tokens, ids)


def log_in(page: Page, committed: Session) -> None:
    """Type the dispatcher's number, read the code from the text queued for it, type it."""
    forget_phone(committed, DEMO_DISPATCHER_PHONE)
    seen = set(committed.scalars(select(Message.id).where(Message.purpose == "passcode")))
    dialog = page.locator("#login")
    expect(dialog).to_be_visible()
    page.fill("#login-phone", "(312) 200-0100")
    page.click("text=Text me a code")
    expect(page.locator("#login-code")).to_be_visible()
    committed.rollback()  # see the text the server just committed
    code = passcode_from_outbox(committed, DEMO_DISPATCHER_PHONE, seen=seen)
    page.fill("#login-code", code)
    page.click("#login-code-form button[type=submit]")
    expect(dialog).to_be_hidden()
    expect(page.locator("#who")).to_contain_text("Dana Reyes")


def test_the_team_map_shows_the_demo_team_and_moves_as_pings_arrive(
    page: Page, demo: Demo, committed: Session
) -> None:
    demo.ping("Sam Ortiz", *CHICAGO, minutes_ago=5, battery_pct=81)
    demo.ping("Priya Nair", 41.9000, -87.6500, battery_pct=54)
    demo.ping("Lee Chen", 41.8000, -87.6000, minutes_ago=20)  # past LOCATION_STALE_AFTER

    page.goto("/")
    assert page.url.endswith("/app/")
    log_in(page, committed)

    members = page.locator("#members li.member")
    expect(members).to_have_count(3)
    sam = page.locator(f"li.member[data-user-id='{demo.ids['Sam Ortiz']}']")
    expect(sam).to_contain_text("battery 81%")
    expect(sam).to_contain_text("Sam Ortiz")
    priya = page.locator(f"li.member[data-user-id='{demo.ids['Priya Nair']}']")
    expect(priya).to_contain_text("Enroute: Water heater leaking (Tom Becker)")
    lee = page.locator(f"li.member[data-user-id='{demo.ids['Lee Chen']}']")
    expect(lee).to_have_class(re.compile(r"\bstale\b"))
    expect(lee).to_contain_text("stale")
    expect(page.locator(".leaflet-tooltip", has_text="Sam Ortiz")).to_be_visible()
    screenshot(page, "map")

    sam_marker = page.locator(".leaflet-tooltip", has_text="Sam Ortiz")
    before = sam_marker.bounding_box()
    demo.ping("Sam Ortiz", CHICAGO[0] + 0.02, CHICAGO[1] + 0.01, battery_pct=80)  # 2.3 km north
    expect(sam).to_have_attribute("data-lat", re.compile(r"^41\.898"), timeout=10_000)
    expect(sam).to_contain_text("battery 80%")
    after = sam_marker.bounding_box()
    assert before and after and after["y"] < before["y"], "the marker moved north on the map"

    sam.click()
    expect(page.locator("#track-info")).to_have_text("Sam Ortiz: 2 fixes in the last 4 hours.")
    expect(page.locator("path.leaflet-interactive[stroke='#7b2cbf']")).to_have_count(1)
    screenshot(page, "map-track")


def job_status(page: Page) -> Any:
    return page.locator("#job-status")


def test_a_dispatcher_accepts_an_offer_and_presses_through_a_jobs_actions(
    page: Page, demo: Demo, committed: Session
) -> None:
    page.goto("/app/#/jobs")
    log_in(page, committed)
    offered = page.locator(".column[data-status=offered] .card", has_text="Warranty claim")
    expect(offered).to_be_visible()
    expect(page.locator(".column[data-status=offered]")).to_have_css(
        "border-top-color", "rgb(46, 158, 68)"
    )
    screenshot(page, "board")
    offered.get_by_role("button", name="Accept").click()
    accepted = page.locator(".column[data-status=unscheduled] .card", has_text="Warranty claim")
    expect(accepted).to_be_visible()

    accepted.get_by_role("link").click()
    expect(job_status(page)).to_have_text("Unscheduled")
    expect(page.locator("#job-actions button")).to_have_text(["Cancel job"])
    page.click("#add-appointment summary")
    form = page.locator("#add-appointment form")
    starts = (utcnow() + timedelta(hours=1)).astimezone(ZoneInfo("America/Chicago"))
    form.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.locator("select[name=technician_id]").select_option(label="Sam Ortiz")
    form.get_by_role("button", name="Add").click()
    expect(job_status(page)).to_have_text("Scheduled")

    row = page.locator("table.appointments tr[data-appointment-id]")
    expect(row).to_contain_text("Sam Ortiz")
    row.get_by_role("button", name="On my way").click()
    expect(job_status(page)).to_have_text("In progress")
    expect(page.locator("table.texts")).to_contain_text("on the way")
    row.get_by_role("button", name="Start").click()
    expect(row).to_contain_text("Started")
    row.get_by_label("Complete reason").select_option(label="Parts Ordered")
    row.get_by_role("button", name="Complete").click()
    expect(job_status(page)).to_have_text("Paused")
    expect(page.locator("#activity")).to_contain_text("Accept")
    expect(page.locator("#activity")).to_contain_text("(in_progress → paused)")
    screenshot(page, "job")

    # Booked again, then the technician starts the visit on their phone while this page
    # still shows it as scheduled: the page's On my way meets a 409.
    page.click("#add-appointment summary")
    form.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.locator("select[name=technician_id]").select_option(label="Sam Ortiz")
    form.get_by_role("button", name="Add").click()
    expect(job_status(page)).to_have_text("Scheduled")
    second = page.locator("table.appointments tr[data-appointment-id]", has_text="Scheduled")
    appointment_id = second.get_attribute("data-appointment-id")
    started = demo.call(
        "Sam Ortiz", "POST", f"/v1/appointments/{appointment_id}/actions/start", json={}
    )
    assert started.status_code == 200, started.json()
    second.get_by_role("button", name="On my way").click()
    notice = page.locator("#notice")
    expect(notice).to_contain_text("What can be done now: Complete, Pause.")
    expect(notice).not_to_contain_text("{")
    expect(notice).not_to_contain_text("allowed_actions")
    refreshed = page.locator(f"tr[data-appointment-id='{appointment_id}']")
    expect(refreshed).to_contain_text("Started")  # the page shows the job as it is now
    expect(refreshed.get_by_role("button", name="On my way")).to_have_count(0)
    screenshot(page, "job-409")


def test_a_dispatcher_whose_session_ended_logs_in_again_and_keeps_what_they_typed(
    page: Page, demo: Demo, committed: Session
) -> None:
    page.goto("/app/#/jobs")
    log_in(page, committed)
    page.locator(".card a", has_text="Furnace not heating").click()
    expect(job_status(page)).to_have_text("Scheduled")
    page.fill("#note-form textarea", "Gate code 4412, dog in the yard")
    page.select_option("#note-form select", "public")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('fieldapi.tokens')).access")
    ended = requests.delete(
        f"{demo.base_url}/v1/auth/session", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert ended.status_code == 204

    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#login-reason")).to_contain_text("Your session has ended")
    screenshot(page, "session-ended")
    log_in(page, committed)

    note = page.locator("ul.notes li", has_text="Gate code 4412, dog in the yard")
    expect(note).to_be_visible()
    expect(note.locator(".badge")).to_have_text("public")


def test_too_many_wrong_codes_say_when_to_try_again(
    page: Page, demo: Demo, committed: Session
) -> None:
    forget_phone(committed, DEMO_DISPATCHER_PHONE)
    page.goto("/app/")
    page.fill("#login-phone", "+1 312 200 0100")
    page.click("text=Text me a code")
    error = page.locator("#login-error")
    for attempt in range(4):
        page.fill("#login-code", "000000")
        page.click("#login-code-form button[type=submit]")
        expect(error).to_be_visible()
        if attempt < 3:
            expect(error).not_to_contain_text("try again", ignore_case=True)
    expect(error).to_contain_text(re.compile(r"try again in \d+ min.* \(at \d{1,2}:\d\d [AP]M\)"))
    screenshot(page, "login-429")


def test_todays_calendar_has_a_column_per_technician(
    page: Page, demo: Demo, committed: Session
) -> None:
    page.goto("/app/#/calendar")
    log_in(page, committed)
    shown = demo.call("Lee Chen", "GET", "/v1/appointments").json()["items"]  # Lee is `both`
    expected = {a["technician"]["name"] for a in shown if a["technician"]}
    columns = page.locator(".day-column")
    expect(columns).to_have_count(len(expected))
    assert set(columns.locator("h3").all_inner_texts()) == expected
    expect(page.locator(".day-column .slot")).to_have_count(len(shown))
    screenshot(page, "calendar")
