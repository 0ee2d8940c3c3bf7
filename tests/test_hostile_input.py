"""Bad input is a clear 4xx and never a 500, on every endpoint.

Every route in the URL map is called, as a dispatcher-and-technician of the organization
that owns the ids in the path, with broken bodies (not JSON, the wrong JSON type, each
documented field set to values of the wrong type or out of range) and broken query
arguments. The fields come from the OpenAPI document, so a new field is covered without
editing this file. No answer may be a 5xx, each 4xx has the JSON error shape, and a route
whose every answer was a 4xx left the organization's rows as they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from tests.conftest import ApiClient
from tests.test_app import assert_error_shape
from tests.test_tenancy import (  # noqa: F401
    REQUESTS,
    SOON,
    Victim,
    id_kind,
    tenant_snapshot,
    victim,
)

WEIRD_VALUES: tuple[Any, ...] = (
    None,
    "",
    "x" * 5000,
    -1,
    10**30,
    1e308,
    True,
    [],
    {"nested": {"deeper": [1, 2]}},
    "2026-02-30T25:61:00Z",
    "\u0000",
)
WEIRD_QUERY_VALUES = ("", "abc", "-1", "0", "99999999999999999999", "2026-13-45", "%00", "x" * 3000)
BROKEN_BODIES: tuple[bytes, ...] = (
    b"\xff\xfe not json",
    b"[]",
    b"null",
    b"1",
    b'"text"',
    b"{}",
    b'{"a":',
    b"{" * 5000,
)


def valid_bodies(owner: Victim) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each endpoint that takes one: a broken value in an otherwise valid
    body reaches past "required" checks, into the services and the database."""
    bodies = {key: spec["json"] for key, spec in REQUESTS.items() if spec.get("json")}
    bodies.update(
        {
            ("POST", "/v1/jobs"): {
                "customer_id": str(owner.ids["customer"]),
                "title": "Noisy boiler",
                "description": "In the basement",
                "appointment": {"starts_at": SOON, "duration_min": 60},
            },
            ("POST", "/v1/customers"): {
                "name": "Ann",
                "phone": "+13125550123",
                "email": "ann@example.com",
                "address": "1 Main St",
                "lat": 41.9,
                "lon": -87.6,
                "timezone": "America/Chicago",
            },
            ("POST", "/v1/team"): {"name": "New", "phone": "+13125550188", "role": "technician"},
            ("POST", "/v1/auth/passcode"): {"phone": "+13125550177"},
            ("POST", "/v1/auth/session"): {"phone": "+13125550177", "passcode": "123456"},
            ("POST", "/v1/auth/refresh"): {"refresh_token": "not-a-real-one"},
            ("PUT", "/v1/me/duty"): {"on_duty": True},
            ("PATCH", "/v1/appointments/<uuid:appointment_id>"): {
                "starts_at": SOON,
                "duration_min": 90,
            },
        }
    )
    return bodies


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operation(spec: dict[str, Any], method: str, rule: str) -> dict[str, Any]:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    found: dict[str, Any] = spec["paths"].get(path, {}).get(method.lower(), {})
    return found


def json_fields(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    return sorted(resolve(schema, spec).get("properties", {}))


def query_names(op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]


def hostile_requests(
    spec: dict[str, Any], method: str, rule: str, valid: dict[str, Any] | None
) -> Iterator[dict[str, Any]]:
    op = operation(spec, method, rule)
    valid_query = REQUESTS.get((method, rule), {}).get("query", {})
    for name in query_names(op):
        for value in WEIRD_QUERY_VALUES:
            yield {"query_string": {name: value}}
            if valid_query:
                yield {"query_string": {**valid_query, name: value}}
    if method in ("POST", "PUT", "PATCH"):
        for body in BROKEN_BODIES:
            yield {"data": body, "content_type": "application/json"}
        fields = json_fields(spec, op)
        for name in sorted({*fields, *(valid or {})}):
            for value in WEIRD_VALUES:
                yield {"json": {name: value}}
                if valid:
                    yield {"json": {**valid, name: value}}
        if fields:
            yield {"json": dict.fromkeys(fields, "x" * 300)}
            yield {"json": {"unknown_field": 1, **dict.fromkeys(fields)}}
        if "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
            yield {"data": {}, "content_type": "multipart/form-data"}
            yield {"data": {"visibility": "nonsense"}, "content_type": "multipart/form-data"}


def test_no_input_makes_any_endpoint_fail_with_a_5xx(
    app: Flask,
    db: Session,
    victim: Victim,  # noqa: F811
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    caller = login_as(make_user(victim.organization, role="both"))
    spec = app.extensions["fieldapi.api"].spec.to_dict()
    bodies = valid_bodies(victim)
    failures: list[tuple[str, str, Any, int]] = []
    sent = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/v1/"):
            continue
        path = re.sub(r"<uuid:(\w+)>", lambda m: str(victim.ids[id_kind(m.group(1))]), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            before = tenant_snapshot(db, victim.organization.id)
            all_refused = True
            valid = bodies.get((method, rule.rule))
            for request in hostile_requests(spec, method, rule.rule, valid):
                response = caller.open(method, path, **request)
                sent += 1
                if response.status_code >= 500:
                    failures.append((method, rule.rule, request, response.status_code))
                elif response.status_code >= 400:
                    assert response.is_json, (method, rule.rule, request)
                    assert_error_shape(response.json, response.status_code)
                else:
                    all_refused = False
            if all_refused:
                assert tenant_snapshot(db, victim.organization.id) == before, (method, rule)
    assert failures == [], "\n".join(map(repr, failures))
    assert sent > 1000, sent  # the walk really covered the API
