"""One rule for request bodies on every endpoint: JSON by content type, within MAX_JSON_BYTES
before it is parsed, and what the parser cannot take is a 4xx, never a 500."""

# ruff: noqa: F811 (the locations fixtures are imported, then requested by name)
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Passcode, User
from fieldapi.jobs.models import Customer
from tests.conftest import ApiClient
from tests.locations.conftest import (  # noqa: F401 (fixtures)
    base_time,
    dispatcher,
    dispatcher_client,
    org,
    ping,
    stored_pings,
    tech,
    tech_client,
)
from tests.test_app import assert_error_shape

DEEP = b'{"phone": ' + b"[" * 1000 + b"]" * 1000 + b"}"
LONG_INTEGER = b'{"phone": ' + b"9" * 4301 + b"}"
JSON_TYPE = "application/json"


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("body", [DEEP, LONG_INTEGER], ids=["1000-deep", "4301-digits"])
@pytest.mark.parametrize("path", ["/v1/auth/passcode", "/v1/customers", "/v1/team"])
def test_json_python_cannot_parse_is_a_400_on_every_webargs_endpoint(
    dispatcher_client: ApiClient, db: Session, path: str, body: bytes
) -> None:
    before = count(db, Customer), count(db, Passcode), count(db, User)
    response = dispatcher_client.post(path, data=body, content_type=JSON_TYPE)
    assert response.status_code == 400, response.json
    assert_error_shape(response.json, 400)
    assert (count(db, Customer), count(db, Passcode), count(db, User)) == before


def test_json_nested_deeper_than_the_limit_but_parseable_is_a_400(
    dispatcher_client: ApiClient,
) -> None:
    body = b'{"name": "Ann", "x": ' + b"[" * 200 + b"]" * 200 + b"}"
    response = dispatcher_client.post("/v1/customers", data=body, content_type=JSON_TYPE)
    assert response.status_code == 400
    assert "nested too deeply" in response.json["message"]


@pytest.mark.parametrize("second_ping", [False, True], ids=["one-ping path", "batch path"])
@pytest.mark.parametrize("digits", [309, 400])
def test_a_latitude_integer_past_float_range_is_one_rejected_ping(
    tech_client: ApiClient,
    tech: User,
    db: Session,
    base_time: datetime,
    second_ping: bool,
    digits: int,
) -> None:
    good = ping(base_time)
    pings = b'{"recorded_at": "%s", "lat": %s, "lon": -87.6}' % (
        good["recorded_at"].encode(),
        b"9" * digits,
    )
    if second_ping:
        pings += b', {"recorded_at": "%s", "lat": 41.9, "lon": -87.6}' % (
            ping(base_time + timedelta(minutes=1))["recorded_at"].encode()
        )
    body = b'{"pings": [' + pings + b"]}"
    response = tech_client.post("/v1/locations", data=body, content_type=JSON_TYPE)
    assert response.status_code == 200, response.json
    assert response.json["rejected"] == [{"index": 0, "message": "lat must be between -90 and 90"}]
    assert len(stored_pings(db, tech.id)) == (1 if second_ping else 0)


@pytest.mark.parametrize(
    "path", ["/v1/auth/passcode", "/v1/customers", "/v1/locations", "/v1/team"]
)
def test_a_body_over_max_json_bytes_is_a_413_on_every_endpoint(
    app: Flask, dispatcher_client: ApiClient, db: Session, path: str
) -> None:
    size = app.config["MAX_JSON_BYTES"] + 1
    body = b'{"phone": "+14155550100", "name": "' + b"x" * size + b'"}'
    assert len(body) < app.config["MAX_CONTENT_LENGTH"]  # only the JSON limit stops it
    before = count(db, Customer), count(db, Passcode)
    response = dispatcher_client.post(path, data=body, content_type=JSON_TYPE)
    assert response.status_code == 413, response.json
    assert_error_shape(response.json, 413)
    assert (count(db, Customer), count(db, Passcode)) == before


def test_a_chunked_body_over_max_json_bytes_is_a_413(
    app: Flask, client: ApiClient, db: Session
) -> None:
    body = b'{"phone": "' + b"1" * (app.config["MAX_JSON_BYTES"] + 1) + b'"}'
    response = client.open(
        "POST",
        "/v1/auth/passcode",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": JSON_TYPE, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn, which de-chunks
    )
    assert response.status_code == 413
    assert count(db, Passcode) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("path", ["/v1/auth/passcode", "/v1/customers", "/v1/locations"])
def test_json_sent_under_another_content_type_is_a_415_that_says_so(
    dispatcher_client: ApiClient,
    db: Session,
    base_time: datetime,
    dispatcher: User,
    path: str,
    content_type: str,
) -> None:
    body = (
        f'{{"phone": "+14155550100", "name": "Ann", "pings": [{{"recorded_at": '
        f'"{ping(base_time)["recorded_at"]}", "lat": 41.9, "lon": -87.6}}]}}'
    )
    before = count(db, Customer), count(db, Passcode)
    response = dispatcher_client.post(path, data=body, content_type=content_type)
    assert response.status_code == 415, response.json
    assert_error_shape(response.json, 415)
    assert "application/json" in response.json["message"]
    assert (count(db, Customer), count(db, Passcode)) == before
    assert stored_pings(db, dispatcher.id) == []


def test_a_multipart_body_to_a_json_endpoint_is_a_415(
    dispatcher_client: ApiClient, db: Session
) -> None:
    response = dispatcher_client.post(
        "/v1/customers", data={"name": "Ann"}, content_type="multipart/form-data"
    )
    assert response.status_code == 415
    assert count(db, Customer) == 0


def test_a_bodiless_request_needs_no_content_type(dispatcher_client: ApiClient) -> None:
    """The rule is about bodies: a request without one is not refused for its headers."""
    response = dispatcher_client.delete("/v1/auth/session", content_type="text/plain")
    assert response.status_code == 204


@pytest.mark.parametrize("path", ["/v1/auth/passcode", "/v1/customers", "/v1/locations"])
def test_a_400_for_broken_json_has_errors_as_the_documented_object(
    dispatcher_client: ApiClient, path: str
) -> None:
    response = dispatcher_client.post(path, data=b"{nope", content_type=JSON_TYPE)
    assert response.status_code == 400
    assert_error_shape(response.json, 400)
    assert isinstance(response.json.get("errors", {}), dict)
