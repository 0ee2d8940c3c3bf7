"""Customers: create, read, list, edit; positions stored as geography points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer, Job
from fieldapi.messaging.optouts import record_opt_out, remove_opt_out
from tests.conftest import ApiClient
from tests.jobs.conftest import table_counts

NEW_CUSTOMER = {
    "name": "Tom Becker",
    "phone": "(312) 200-0202",
    "email": "tom@example.com",
    "address": "233 S Wacker Dr, Chicago, IL",
    "lat": 41.8789,
    "lon": -87.6359,
    "timezone": "America/Chicago",
}


def test_a_dispatcher_adds_a_customer(dispatcher_client: ApiClient, db: Session) -> None:
    response = dispatcher_client.post("/v1/customers", json=NEW_CUSTOMER)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["phone"] == "+13122000202"
    assert (body["lat"], body["lon"]) == (41.8789, -87.6359)
    assert body["site"] == {"type": "Point", "coordinates": [-87.6359, 41.8789]}
    row = db.execute(
        text(
            "SELECT name, phone, ST_Y(site::geometry), ST_X(site::geometry), "
            "ST_SRID(site::geometry), timezone FROM customers WHERE id = :id"
        ),
        {"id": body["id"]},
    ).one()
    assert tuple(row) == ("Tom Becker", "+13122000202", 41.8789, -87.6359, 4326, "America/Chicago")


def test_a_local_number_is_read_in_the_deployment_s_region(
    app: Flask, dispatcher_client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PHONE_DEFAULT_REGION", "GB")
    london = dict(NEW_CUSTOMER, phone="020 7946 0958", timezone="Europe/London")

    created = dispatcher_client.post("/v1/customers", json=london)
    assert created.status_code == 201, created.json
    assert created.json["phone"] == "+442079460958"
    edited = dispatcher_client.patch(
        f"/v1/customers/{created.json['id']}", json={"phone": "0161 496 0000"}
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["phone"] == "+441614960000"


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "12"},
        {"timezone": "Mars/Olympus"},
        {"lat": 95},
        {"lon": -200},
        {"name": ""},
        {"email": "not-an-email"},
        {"address": "   "},
        {"lat": "NaN"},
    ],
)
def test_bad_customers_are_422(
    dispatcher_client: ApiClient, db: Session, change: dict[str, Any]
) -> None:
    before = table_counts(db)
    response = dispatcher_client.post("/v1/customers", json={**NEW_CUSTOMER, **change})
    assert response.status_code == 422, response.json
    assert table_counts(db) == before


def test_technicians_cannot_add_customers_and_see_only_those_of_their_jobs(
    tech_client: ApiClient,
    tech: User,
    make_job: Callable[..., Job],
    make_customer: Callable[..., Customer],
    org: Organization,
    customer: Customer,
    db: Session,
) -> None:
    assert tech_client.post("/v1/customers", json=NEW_CUSTOMER).status_code == 403
    stranger = make_customer(org, name="Ada Okafor")
    make_job(technician=tech)
    names = [c["name"] for c in tech_client.get("/v1/customers").json["items"]]
    assert names == ["Maria Lopez"]
    assert tech_client.get(f"/v1/customers/{stranger.id}").status_code == 404
    assert tech_client.get(f"/v1/customers/{customer.id}").status_code == 200


def test_the_list_searches_and_pages_by_name(
    dispatcher_client: ApiClient, make_customer: Callable[..., Customer], org: Organization
) -> None:
    for name in ("Cy", "Al", "Bo", "Di"):
        make_customer(org, name=name)
    first = dispatcher_client.get("/v1/customers?limit=3").json
    assert [c["name"] for c in first["items"]] == ["Al", "Bo", "Cy"]
    rest = dispatcher_client.get(f"/v1/customers?limit=3&cursor={first['next_cursor']}").json
    assert [c["name"] for c in rest["items"]] == ["Di"]
    assert rest["next_cursor"] is None
    found = dispatcher_client.get("/v1/customers?q=b").json["items"]
    assert [c["name"] for c in found] == ["Bo"]
    assert dispatcher_client.get("/v1/customers?q=100%25").json["items"] == []


def test_edit_a_customer(dispatcher_client: ApiClient, customer: Customer, db: Session) -> None:
    response = dispatcher_client.patch(
        f"/v1/customers/{customer.id}",
        json={"phone": "312-200-0299", "lat": 41.0, "lon": -87.0, "timezone": "America/Denver"},
    )
    assert response.status_code == 200, response.json
    db.expire_all()
    row = db.get_one(Customer, customer.id)
    assert (row.phone, row.timezone) == ("+13122000299", "America/Denver")
    assert response.json["site"]["coordinates"] == [-87.0, 41.0]
    half = dispatcher_client.patch(f"/v1/customers/{customer.id}", json={"lat": 40.0})
    assert half.status_code == 422
    db.expire_all()
    assert response.json["lat"] == 41.0 and db.get_one(Customer, customer.id).phone == (
        "+13122000299"
    )


def test_a_customer_who_replied_stop_is_shown_as_opted_out_until_start(
    dispatcher_client: ApiClient,
    db: Session,
    org: Organization,
    make_customer: Callable[..., Customer],
) -> None:
    stopped = make_customer(org, phone="+13122000301")
    texted = make_customer(org, phone="+13122000302")
    record_opt_out(db, stopped.phone or "", source="reply", keyword="STOP", now=utcnow())
    db.commit()

    def opted_out() -> dict[str, bool]:
        listed = dispatcher_client.get("/v1/customers").json["items"]
        one = dispatcher_client.get(f"/v1/customers/{stopped.id}").json
        assert one["texts_opted_out"] == {c["id"]: c["texts_opted_out"] for c in listed}[one["id"]]
        return {c["id"]: c["texts_opted_out"] for c in listed}

    assert opted_out() == {str(stopped.id): True, str(texted.id): False}
    remove_opt_out(db, stopped.phone or "")
    db.commit()
    assert opted_out() == {str(stopped.id): False, str(texted.id): False}
