"""GET /metrics: Prometheus' text format, closed unless a token or an address allows it;
requests by route and status, pings by outcome (the apps' and the tracker apps'), texts and
the outbox, the enterprise webhook queue, the pool."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.config import load_config
from fieldapi.db import utcnow
from fieldapi.enterprise.models import WebhookDelivery
from fieldapi.messaging.outbox import queue_message
from fieldapi.settings import SettingError
from tests.conftest import ApiClient, unique_phone
from tests.enterprise.conftest import connect, offer_body
from tests.test_app import assert_error_shape

TOKEN = "scrape-me-" + "x" * 20


@pytest.fixture
def scrape(
    app: Flask, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def read() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        assert answer.content_type.startswith("text/plain; version=")
        assert answer.content_type.count("charset") == 1
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True))
            for sample in family.samples
        }

    return read


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_closed_unless_a_setting_opens_them(
    app: Flask, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    assert_error_shape(wrong.get_json(), 404)
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    monkeypatch.setitem(app.config, "METRICS_ALLOW_FROM", ["10.0.0.0/8"])
    assert client.get("/metrics").status_code == 404  # the test client is 127.0.0.1
    monkeypatch.setitem(app.config, "METRICS_ALLOW_FROM", ["10.0.0.0/8", "127.0.0.1"])
    assert client.get("/metrics").status_code == 200


def test_an_allow_list_that_is_not_addresses_is_a_setting_error() -> None:
    with pytest.raises(SettingError, match="METRICS_ALLOW_FROM"):
        load_config({"METRICS_ALLOW_FROM": "127.0.0.1,not-a-network"})


def test_requests_are_counted_by_route_method_and_status_with_their_latency(
    scrape: Callable[[], dict], client: ApiClient
) -> None:
    before = scrape()
    client.get("/v1/me")
    client.get("/v1/me")
    client.get("/no/such/path")
    after = scrape()

    route = {"route": "/v1/me", "method": "GET"}
    assert (
        value(after, "fieldapi_http_requests_total", **route, status="401")
        - value(before, "fieldapi_http_requests_total", **route, status="401")
        == 2
    )
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "fieldapi_http_requests_total", **unmatched)
        - value(before, "fieldapi_http_requests_total", **unmatched)
        == 1
    )
    count = "fieldapi_http_request_duration_seconds_count"
    assert value(after, count, **route) - value(before, count, **route) == 2


def test_pings_are_counted_stored_duplicate_and_rejected(
    scrape: Callable[[], dict],
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    tech = login_as(make_user(make_org("Metric HVAC"), role="technician"))
    at = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    good = [
        {"recorded_at": (at + timedelta(seconds=n)).isoformat(), "lat": 41.9, "lon": -87.6}
        for n in range(3)
    ]
    before = scrape()
    assert tech.post("/v1/locations", json={"pings": good}).status_code == 200
    answer = tech.post("/v1/locations", json={"pings": [good[0], {"lat": 500}]})
    assert answer.status_code == 200
    after = scrape()

    def delta(outcome: str) -> float:
        name = "fieldapi_pings_total"
        return value(after, name, outcome=outcome) - value(before, name, outcome=outcome)

    assert (delta("stored"), delta("duplicate"), delta("rejected")) == (3, 1, 1)


def test_texts_by_status_the_outbox_and_the_pool_are_read_at_scrape_time(
    scrape: Callable[[], dict], db: Session, make_org: Callable[..., Organization]
) -> None:
    before = scrape()
    for _ in range(2):
        queue_message(
            db,
            organization_id=make_org("Outbox Co").id,
            to=unique_phone(),
            body="hello",
            purpose="on_my_way",
            allowed_regions=("US", "CA"),
        )
    db.flush()
    after = scrape()

    assert (
        value(after, "fieldapi_texts", status="queued")
        - value(before, "fieldapi_texts", status="queued")
        == 2
    )
    assert value(after, "fieldapi_outbox_depth", status="queued") >= 2
    assert value(after, "fieldapi_outbox_oldest_due_seconds", status="queued") >= 0
    pool = [k for k in after if k[0] == "fieldapi_db_pool_connections"]
    assert {dict(labels)["state"] for _name, labels in pool} >= {"in_use", "size"}


def test_the_tracker_apps_pings_are_counted_as_the_apps_are(
    scrape: Callable[[], dict],
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    client: ApiClient,
) -> None:
    tech = login_as(make_user(make_org("Tracker HVAC"), role="technician"))
    token = tech.post("/v1/me/devices", json={"name": "Sam's phone"}).json["token"]
    at = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    before = scrape()
    osmand = client.client.post(
        f"/ingest/osmand?id={token}&timestamp={int(at.timestamp())}&lat=41.88&lon=-87.63"
    )
    assert osmand.status_code == 200
    basic = {"Authorization": "Basic " + base64.b64encode(f"sam:{token}".encode()).decode()}
    location = {"_type": "location", "lat": 41.881, "lon": -87.631, "tst": int(at.timestamp()) + 60}
    for _ in range(2):  # the second is a repeat of the first
        owntracks = client.client.post("/ingest/owntracks", json=location, headers=basic)
        assert owntracks.status_code == 200
    stamp = (at + timedelta(seconds=120)).isoformat().replace("+00:00", "Z")
    good = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-87.632, 41.882]},
        "properties": {"timestamp": stamp},
    }
    overland = client.client.post(
        "/ingest/overland",
        json={"locations": [good, "garbage"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert overland.json["stored"] == 1 and len(overland.json["rejected"]) == 1
    after = scrape()

    def delta(outcome: str) -> float:
        name = "fieldapi_pings_total"
        return value(after, name, outcome=outcome) - value(before, name, outcome=outcome)

    assert (delta("stored"), delta("duplicate"), delta("rejected")) == (3, 1, 1)


def test_the_webhook_queue_s_depth_and_the_age_of_its_oldest_delivery_in_backoff_too(
    scrape: Callable[[], dict],
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    db: Session,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    provider = make_org("Hooked Plumbing")
    dispatcher = login_as(make_user(provider, role="dispatcher"))
    manager = login_as(make_user(make_org("Hook Warranty", kind="enterprise"), role="manager"))
    connect(manager, dispatcher, db)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    saved = manager.put("/v1/enterprise/webhook", json={"url": "http://127.0.0.1:9/hook"})
    assert saved.status_code == 200, saved.json
    before = scrape()
    offered = manager.post("/v1/enterprise/offers", json=offer_body(provider))
    assert offered.status_code == 201, offered.json
    # the event was queued 90 s ago and waits in backoff, its receiver down (the scrape's
    # now() is the test's transaction's)
    db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.job_id == offered.json["id"])
        .values(
            created_at=func.now() - timedelta(seconds=90),
            next_attempt_at=func.now() + timedelta(seconds=60),
            attempts=3,
        )
    )
    db.flush()
    after = scrape()

    depth = "fieldapi_webhook_queue_depth"
    assert value(after, depth, status="queued") - value(before, depth, status="queued") == 1
    age = value(after, "fieldapi_webhook_queue_oldest_seconds", status="queued")
    assert 90 <= age < 3600
