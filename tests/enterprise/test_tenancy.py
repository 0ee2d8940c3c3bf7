"""The cross-organization walk of the enterprise side, both directions: another
enterprise, an unconnected provider, and a provider connected to the same enterprise
reading another provider's job: 404 for every id, answered as for an id that does not
exist, and nothing changes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from tests.conftest import ApiClient
from tests.enterprise.conftest import connect
from tests.enterprise.test_view import worked_on
from tests.test_tenancy import tenant_snapshot

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/enterprise/jobs/<uuid:job_id>/reminders"): {"message": "status?"},
}


def enterprise_id_rules(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/v1/enterprise/") and rule.arguments
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def fill(rule: str, ids: dict[str, uuid.UUID]) -> str:
    return re.sub(r"<uuid:(\w+)>", lambda m: str(ids[m.group(1).removesuffix("_id")]), rule)


def test_another_enterprise_finds_nothing_of_this_one(
    app: Flask,
    offer: Callable[..., dict[str, Any]],
    connected: str,
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    tech: User,
    enterprise: Organization,
    provider: Organization,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    db: Session,
) -> None:
    job = offer()
    worked_on(job, dispatcher_client, tech_client, tech)
    photo = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/photos").json["items"][0]
    ids = {"job": uuid.UUID(job["id"]), "photo": uuid.UUID(photo["id"])}
    ids["connection"] = uuid.UUID(connected)
    lines = [{"description": "Pump", "quantity": 1, "unit_price": 12000}]
    invoice = dispatcher_client.post(f"/v1/jobs/{job['id']}/invoices", json={"lines": lines})
    dispatcher_client.post(f"/v1/documents/{invoice.json['id']}/actions/send")
    ids["document"] = uuid.UUID(invoice.json["id"])

    rival = make_org(name="Rival Warranty", kind="enterprise")
    intruder = login_as(make_user(rival, role="manager"))
    connect(intruder, dispatcher_client, db)  # even connected to the same provider
    before = {org: tenant_snapshot(db, org) for org in (enterprise.id, provider.id)}
    missing = {kind: uuid.uuid4() for kind in ids}
    rules = enterprise_id_rules(app)
    assert len(rules) >= 7
    failures = []
    for method, rule in rules:
        body = BODIES.get((method, rule), {})
        foreign = intruder.open(method, fill(rule, ids), json=body)
        unknown = intruder.open(method, fill(rule, missing), json=body)
        if (foreign.status_code, unknown.status_code) != (404, 404):
            failures.append((method, rule, foreign.status_code, unknown.status_code))
        elif foreign.json["message"] != unknown.json["message"]:
            failures.append((method, rule, foreign.json, unknown.json))
    assert failures == []
    for path in ("/v1/enterprise/jobs", "/v1/enterprise/webhook/deliveries"):
        assert job["id"] not in intruder.get(path).get_data(as_text=True)
    assert intruder.get("/v1/enterprise/connections").json[0]["id"] != connected
    assert {org: tenant_snapshot(db, org) for org in (enterprise.id, provider.id)} == before


def test_an_unconnected_provider_cannot_answer_or_end_the_connection(
    connected: str,
    offer: Callable[..., dict[str, Any]],
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    manager_client: ApiClient,
) -> None:
    job = offer()
    stranger = login_as(make_user(make_org(name="Stranger Electric"), role="dispatcher"))
    for method, path in (
        ("POST", f"/v1/connections/{connected}/actions/accept"),
        ("POST", f"/v1/connections/{connected}/actions/decline"),
        ("DELETE", f"/v1/connections/{connected}"),
        ("GET", f"/v1/jobs/{job['id']}"),
        ("POST", f"/v1/jobs/{job['id']}/actions/accept"),
    ):
        assert stranger.open(method, path, json={}).status_code == 404, path
    assert stranger.get("/v1/connections").json == []
    assert manager_client.get("/v1/enterprise/connections").json[0]["state"] == "active"
    # and an enterprise cannot end a connection of another enterprise
    rival = login_as(make_user(make_org(name="Rival", kind="enterprise"), role="manager"))
    assert rival.delete(f"/v1/enterprise/connections/{connected}").status_code == 404


def test_a_provider_connected_to_the_same_enterprise_sees_none_of_the_others_jobs(
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    db: Session,
) -> None:
    first_job = offer()
    second = make_org(name="Second Plumbing")
    second_dispatcher = login_as(make_user(second, role="dispatcher"))
    connect(manager_client, second_dispatcher, db)
    for method, path in (
        ("GET", f"/v1/jobs/{first_job['id']}"),
        ("GET", f"/v1/jobs/{first_job['id']}/activity"),
        ("POST", f"/v1/jobs/{first_job['id']}/actions/accept"),
        ("GET", f"/v1/enterprise/jobs/{first_job['id']}"),
    ):
        assert second_dispatcher.open(method, path, json={}).status_code == 404, path
    assert first_job["id"] not in second_dispatcher.get("/v1/jobs").get_data(as_text=True)
