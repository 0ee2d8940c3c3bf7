"""Enterprise organizations and their managers: the manager logs in like everyone, stays on
the enterprise side (403/404 elsewhere), manages their own team; providers' users never see
the enterprise side (404)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.jobs.models import CompleteReason
from tests.conftest import ApiClient, unique_phone
from tests.test_cli import run_cli

NIL = "00000000-0000-4000-8000-000000000000"
MANAGER_REACH = re.compile(r"/v1/(enterprise(/.*)?|me|auth/.*|team|team/<uuid:user_id>)")


def routes(app: Flask) -> Iterator[tuple[str, str]]:
    """(method, path) of every /v1 endpoint, with a made-up id in each parameter."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        path = re.sub(r"<any\([^)]*\):\w+>", "accept", rule.rule)
        path = re.sub(r"<[^>]+>", NIL, path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path, rule.rule


def test_a_manager_sees_the_enterprise_kind_and_their_own_team(
    manager_client: ApiClient, manager: User, enterprise: Organization
) -> None:
    me = manager_client.get("/v1/me").json
    assert (me["role"], me["organization"]["kind"]) == ("manager", "enterprise")
    team = manager_client.get("/v1/team").json
    assert {user["id"] for user in team} >= {str(manager.id)}
    added = manager_client.post(
        "/v1/team", json={"name": "Jo Park", "phone": unique_phone(), "role": "manager"}
    )
    assert added.status_code == 201, added.json
    tech = manager_client.post(
        "/v1/team", json={"name": "Al Moss", "phone": unique_phone(), "role": "technician"}
    )
    assert tech.status_code == 422
    assert "role" in tech.json["errors"]


def test_a_provider_cannot_add_a_manager(dispatcher_client: ApiClient) -> None:
    answer = dispatcher_client.post(
        "/v1/team", json={"name": "Jo Park", "phone": unique_phone(), "role": "manager"}
    )
    assert answer.status_code == 422


def test_every_provider_endpoint_refuses_a_manager(app: Flask, manager_client: ApiClient) -> None:
    checked = 0
    for method, path, rule in routes(app):
        if MANAGER_REACH.fullmatch(rule) or rule.startswith(("/v1/webhooks/", "/v1/bookings/")):
            # Twilio's callbacks carry Twilio's signature, not a user's token; the booking
            # form is the public's, with no token at all.
            continue
        if method == "POST" and rule.endswith("/photos"):  # multipart, or 415 before auth
            form = {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "a.png"), "visibility": "public"}
            answer = manager_client.open(
                method, path, data=form, content_type="multipart/form-data"
            )
        else:
            answer = manager_client.open(method, path, json={})
        assert answer.status_code in (403, 404), (method, path, answer.status_code)
        checked += 1
    assert checked > 30


def test_every_enterprise_endpoint_is_not_found_for_providers_users(
    app: Flask, dispatcher_client: ApiClient, tech_client: ApiClient
) -> None:
    enterprise_routes = [
        (method, path) for method, path, rule in routes(app) if rule.startswith("/v1/enterprise")
    ]
    assert len(enterprise_routes) >= 15
    for client in (dispatcher_client, tech_client):
        for method, path in enterprise_routes:
            answer = client.open(method, path, json={})
            assert answer.status_code == 404, (method, path, answer.status_code)


def test_create_org_makes_an_enterprise_with_a_manager(
    database_url: str, committed: Session
) -> None:
    result = run_cli(
        database_url,
        "create-org",
        "Acme Home Warranty",
        "--kind",
        "enterprise",
        "--owner-name",
        "Morgan Hale",
        "--owner-phone",
        unique_phone(),
    )
    assert result.returncode == 0, result.stderr
    org_id = uuid.UUID(result.stdout.strip())
    organization = committed.get_one(Organization, org_id)
    assert (organization.kind, organization.connection_code) == ("enterprise", None)
    owner = committed.scalars(select(User).where(User.organization_id == org_id)).one()
    assert (owner.role, owner.name) == ("manager", "Morgan Hale")
    reasons = committed.scalars(
        select(CompleteReason.code).where(CompleteReason.organization_id == org_id)
    ).all()
    assert reasons == []
