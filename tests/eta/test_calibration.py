"""ETA calibration: trips from the organization's own drives, a robust fit per band shrunk
toward the defaults, `eta.method: calibrated`, GET /v1/settings/eta."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.eta.calibration import Trip, fit, organization_trips
from fieldapi.eta.fits import refit
from fieldapi.eta.model import EtaModel, estimate_minutes, travel_hours
from fieldapi.eta.settings import EtaSettings
from fieldapi.jobs.customers import distance_to_site_m
from fieldapi.jobs.models import ActivityEvent, Appointment, Job
from tests.conftest import ApiClient
from tests.jobs.test_on_my_way import store_ping
from tests.locations.conftest import make_appointment

TRUE = EtaModel(bands=((3.0, 12.0), (15.0, 30.0), (float("inf"), 90.0)), min_minutes=0)
DEFAULT = EtaModel(min_minutes=0)


@pytest.fixture
def dispatcher_client(
    org: Organization, make_user: Callable[..., User], login_as: Callable[[User], ApiClient]
) -> ApiClient:
    return login_as(make_user(org, role="dispatcher"))


def drives(count: int, seed: int = 1, *, outliers: float = 0.0) -> list[Trip]:
    rng = random.Random(seed)
    trips = []
    for _ in range(count):
        distance = rng.uniform(300, 40_000)
        road_km = distance / 1000 * TRUE.detour_factor
        minutes = travel_hours(road_km, TRUE.bands) * 60 * rng.uniform(0.9, 1.1)
        if rng.random() < outliers:
            minutes *= 5  # a stop on the way
        trips.append(Trip(distance, minutes))
    return trips


def test_many_trips_recover_the_true_speeds_despite_outliers() -> None:
    calibration = fit(drives(3000, outliers=0.1), DEFAULT)
    fitted = [band.fitted_kmh for band in calibration.bands]
    for got, want in zip(fitted, (12.0, 30.0, 90.0), strict=True):
        assert got == pytest.approx(want, rel=0.12)
    # A trip just past a band's edge, driven faster than the nearer bands' pace, says
    # nothing about its own band (a negative pace) and is left out.
    assert 2850 <= sum(band.trips for band in calibration.bands) <= 3000


def test_few_trips_stay_near_the_defaults() -> None:
    calibration = fit(drives(3), DEFAULT)
    first = calibration.bands[0]
    # 20 km/h by default, 12 km/h truly: with at most 3 trips the fit moves less than
    # a quarter of the way.
    assert first.trips <= 3
    assert first.fitted_kmh > 20 - 0.25 * 8


def test_no_trips_is_the_default_model() -> None:
    calibration = fit([], DEFAULT)
    assert [(b.fitted_kmh, b.trips) for b in calibration.bands] == [(20, 0), (40, 0), (70, 0)]


def add_trips(db: Session, appointment: Appointment, tech: User, count: int) -> None:
    """`count` on-my-way -> start pairs of 30 minutes for 10 km straight-line drives."""
    start = utcnow() - timedelta(days=2)
    for n in range(count):
        at = start + timedelta(hours=n)
        for action, when, details in (
            ("on-my-way", at, {"eta": {"distance_m": 10_000, "method": "request_position"}}),
            ("start", at + timedelta(minutes=30), {}),
        ):
            db.add(
                ActivityEvent(
                    organization_id=appointment.organization_id,
                    job_id=appointment.job_id,
                    appointment_id=appointment.id,
                    at=when,
                    actor_id=tech.id,
                    actor_name=tech.name,
                    actor_kind="user",
                    action=action,
                    from_status="scheduled",
                    to_status="scheduled",
                    details=details,
                )
            )
    db.commit()


def test_an_on_my_way_then_start_through_the_api_is_a_trip(
    db: Session, org: Organization, tech: User, tech_client: ApiClient
) -> None:
    appointment = make_appointment(db, org, technician=tech, status="scheduled")
    base = f"/v1/appointments/{appointment.id}/actions"
    omw = tech_client.post(f"{base}/on-my-way", json={"lat": 41.90, "lon": -87.65})
    assert omw.status_code == 200, omw.json
    db.execute(
        update(ActivityEvent)
        .where(ActivityEvent.appointment_id == appointment.id)
        .values(at=ActivityEvent.at - timedelta(minutes=25))
    )
    db.commit()
    assert tech_client.post(f"{base}/start", json={}).status_code == 200
    [trip] = organization_trips(db, org.id)
    assert trip.minutes == pytest.approx(25, abs=0.5)
    assert trip.distance_m == pytest.approx(omw.json["eta"]["distance_m"], abs=1)


def test_enough_trips_make_the_organization_s_eta_calibrated(
    db: Session,
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    before = dispatcher_client.get("/v1/settings/eta")
    assert before.status_code == 200
    assert (before.json["method"], before.json["trips"]) == ("default", 0)
    history = make_appointment(db, org, technician=tech, status="scheduled")
    add_trips(db, history, tech, 20)
    after = dispatcher_client.get("/v1/settings/eta").json
    assert (after["method"], after["trips"], after["min_trips"]) == ("calibrated", 20, 20)
    middle = after["bands"][1]
    assert (middle["up_to_km"], middle["trips"]) == (15.0, 20)
    # 13.5 road km in 30 minutes, the first 3 at the default 20 km/h: slower than 40.
    assert middle["fitted_kmh"] < 40
    assert after["bands"][2]["up_to_km"] is None

    appointment = make_appointment(db, org, technician=tech, status="scheduled")
    omw = tech_client.post(
        f"/v1/appointments/{appointment.id}/actions/on-my-way", json={"lat": 41.90, "lon": -87.65}
    )
    assert omw.json["eta"]["method"] == "calibrated"
    uncalibrated = estimate_minutes(omw.json["eta"]["distance_m"], EtaModel())
    assert omw.json["eta"]["minutes"] > uncalibrated

    other = login_as(make_user(make_org(name="Elsewhere"), role="dispatcher"))
    assert other.get("/v1/settings/eta").json["method"] == "default"
    assert tech_client.get("/v1/settings/eta").status_code == 403


@pytest.mark.parametrize("position", ["request", "latest ping"])
def test_the_on_my_way_eta_fits_the_trips_the_settings_page_fits(
    app: Flask, db: Session, org: Organization, tech: User, tech_client: ApiClient, position: str
) -> None:
    # On-my-way reads its position, distance and trips in one statement: the same trips.
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 25)
    chosen = refit(db, org.id, EtaSettings.from_config(app.config), now=utcnow())
    assert chosen.calibrated
    appointment = make_appointment(db, org, technician=tech, status="scheduled")
    here = (41.90, -87.65)
    body = {"lat": here[0], "lon": here[1]}
    if position == "latest ping":
        store_ping(db, tech, *here, utcnow() - timedelta(minutes=2))
        body = {}
    omw = tech_client.post(f"/v1/appointments/{appointment.id}/actions/on-my-way", json=body)
    assert omw.status_code == 200, omw.json
    customer_id = db.get_one(Job, appointment.job_id).customer_id
    distance = distance_to_site_m(db, customer_id, *here)
    assert distance is not None
    assert omw.json["eta"]["method"] == "calibrated"
    assert omw.json["eta"]["distance_m"] == round(distance)
    assert omw.json["eta"]["minutes"] == estimate_minutes(distance, chosen.model)
    assert omw.json["eta"]["minutes"] != estimate_minutes(distance, EtaModel())


def test_bench_eta_finds_the_calibrated_model_better_on_held_out_trips() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_eta.py"
    result = subprocess.run(
        [sys.executable, str(script), "--trips", "300"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "noise floor" in result.stdout
