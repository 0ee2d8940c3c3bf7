"""The organization's stored ETA fit: used while fresh, fitted again when stale or fitted
to other default speeds, one per organization; the refit walks the on-my-way index."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.eta.models import EtaCalibration
from tests.conftest import ApiClient, plan_of
from tests.eta.test_calibration import add_trips
from tests.locations.conftest import make_appointment

HERE = {"lat": 41.90, "lon": -87.65}


def eta_method(db: Session, org: Organization, tech: User, client: ApiClient) -> str:
    appointment = make_appointment(db, org, technician=tech, status="scheduled")
    answer = client.post(f"/v1/appointments/{appointment.id}/actions/on-my-way", json=HERE)
    assert answer.status_code == 200, answer.json
    method: str = answer.json["eta"]["method"]
    return method


def stored(db: Session, org: Organization) -> EtaCalibration | None:
    db.expire_all()
    return db.scalar(select(EtaCalibration).where(EtaCalibration.organization_id == org.id))


def age_the_fit(db: Session, org: Organization, by: timedelta) -> None:
    db.execute(
        update(EtaCalibration)
        .where(EtaCalibration.organization_id == org.id)
        .values(fitted_at=EtaCalibration.fitted_at - by)
    )
    db.commit()


def test_a_fresh_fit_is_used_until_it_is_older_than_the_max_age(
    app: Flask, db: Session, org: Organization, tech: User, tech_client: ApiClient
) -> None:
    assert stored(db, org) is None
    assert eta_method(db, org, tech, tech_client) == "request_position"
    fitted = stored(db, org)
    assert fitted is not None and fitted.trips == 0
    # Enough trips now, but the stored fit of none is still fresh: it is what ETAs use.
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 25)
    assert eta_method(db, org, tech, tech_client) == "request_position"
    max_age = timedelta(seconds=app.config["ETA_CALIBRATION_MAX_AGE"])
    age_the_fit(db, org, max_age + timedelta(seconds=1))
    assert eta_method(db, org, tech, tech_client) == "calibrated"
    refitted = stored(db, org)
    assert refitted is not None and refitted.trips == 25
    assert refitted.fitted_at > utcnow() - timedelta(minutes=1)


def test_a_fit_to_other_default_speeds_is_not_used(
    app: Flask,
    db: Session,
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert eta_method(db, org, tech, tech_client) == "request_position"
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 25)
    monkeypatch.setitem(app.config, "ETA_DETOUR_FACTOR", 1.5)
    assert eta_method(db, org, tech, tech_client) == "calibrated"
    refitted = stored(db, org)
    assert refitted is not None and refitted.trips == 25
    assert refitted.model_key.startswith("[1.5,")


def test_the_nearest_search_uses_and_stores_the_organization_s_fit_only(
    db: Session,
    org: Organization,
    tech: User,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 25)
    other = make_org(name="Elsewhere")
    searched = login_as(make_user(other, role="dispatcher")).get(
        "/v1/dispatch/nearest", query_string=HERE
    )
    assert searched.status_code == 200, searched.json
    theirs = stored(db, other)
    assert theirs is not None and theirs.trips == 0  # not the other organization's 25
    assert stored(db, org) is None
    ours = login_as(make_user(org, role="dispatcher")).get(
        "/v1/dispatch/nearest", query_string=HERE
    )
    assert ours.status_code == 200
    fitted = stored(db, org)
    assert fitted is not None and fitted.trips == 25


def test_the_settings_page_fits_afresh_and_stores_it(
    db: Session,
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    assert eta_method(db, org, tech, tech_client) == "request_position"  # a fit of none
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 20)
    page = login_as(make_user(org, role="dispatcher")).get("/v1/settings/eta")
    assert (page.json["method"], page.json["trips"]) == ("calibrated", 20)
    fitted = stored(db, org)
    assert fitted is not None and fitted.trips == 20
    assert eta_method(db, org, tech, tech_client) == "calibrated"


def test_the_refit_walks_the_newest_on_my_ways_by_their_index(
    db: Session,
    org: Organization,
    tech: User,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    query_plans: Callable[[], Any],
) -> None:
    # Whatever the size of the activity log, the trips are read newest on-my-way first
    # from the index of the trips' starts alone (no sort of them all), up to MAX_TRIPS.
    add_trips(db, make_appointment(db, org, technician=tech, status="scheduled"), tech, 3)
    dispatcher = login_as(make_user(org, role="dispatcher"))
    with query_plans() as plans:
        assert dispatcher.get("/v1/settings/eta").json["trips"] == 3
    plan = plan_of(plans, "FROM activity_events omw")
    assert "Index Scan Backward using ix_activity_events_on_my_way" in plan, plan
    # No sort above that walk (the lateral lookup of each trip's end may sort its few).
    assert "Sort" not in plan.split("ix_activity_events_on_my_way")[0], plan


def test_a_fit_of_many_bands_is_stored(
    app: Flask,
    db: Session,
    org: Organization,
    tech: User,
    tech_client: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bands = (*((float(km), 20.0 + km) for km in range(1, 30)), (float("inf"), 90.0))
    monkeypatch.setitem(app.config, "ETA_SPEED_BANDS", bands)
    assert eta_method(db, org, tech, tech_client) == "request_position"
    fitted = stored(db, org)
    assert fitted is not None and len(fitted.bands) == 30
