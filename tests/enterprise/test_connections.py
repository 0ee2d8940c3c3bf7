"""Connections: the provider's code, the enterprise's request, the dispatcher's answer,
either side ending it; offers need an active one."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from tests.conftest import ApiClient
from tests.enterprise.conftest import connect, offer_body


def test_a_request_is_pending_until_the_dispatcher_accepts_it(
    manager_client: ApiClient, dispatcher_client: ApiClient, provider: Organization
) -> None:
    code = dispatcher_client.get("/v1/settings/organization").json["connection_code"]
    assert len(code) == 12
    asked = manager_client.post(
        "/v1/enterprise/connections", json={"connection_code": code.lower()}
    )
    assert asked.status_code == 201, asked.json
    assert asked.json["state"] == "pending"
    assert asked.json["provider"] == {"id": str(provider.id), "name": provider.name}
    assert manager_client.get("/v1/enterprise/providers").json == []
    listed = dispatcher_client.get("/v1/connections").json
    assert [(c["id"], c["enterprise"]["name"]) for c in listed] == [
        (asked.json["id"], "Acme Home Warranty")
    ]
    accepted = dispatcher_client.post(f"/v1/connections/{asked.json['id']}/actions/accept")
    assert accepted.json["state"] == "active"
    assert manager_client.get("/v1/enterprise/providers").json == [
        {"id": str(provider.id), "name": provider.name}
    ]
    again = dispatcher_client.post(f"/v1/connections/{asked.json['id']}/actions/decline")
    assert again.status_code == 409


def test_an_unknown_or_replaced_code_connects_nothing(
    manager_client: ApiClient, dispatcher_client: ApiClient
) -> None:
    old = dispatcher_client.get("/v1/settings/organization").json["connection_code"]
    new = dispatcher_client.post("/v1/settings/organization/connection-code").json
    assert new["connection_code"] != old
    for code in (old, "NOSUCHCODE99"):
        answer = manager_client.post("/v1/enterprise/connections", json={"connection_code": code})
        assert answer.status_code == 404
        assert "connection_code" in answer.json["errors"]
    assert dispatcher_client.get("/v1/connections").json == []


def test_a_declined_request_allows_no_offers(
    manager_client: ApiClient, dispatcher_client: ApiClient, provider: Organization
) -> None:
    code = dispatcher_client.get("/v1/settings/organization").json["connection_code"]
    asked = manager_client.post("/v1/enterprise/connections", json={"connection_code": code})
    declined = dispatcher_client.post(f"/v1/connections/{asked.json['id']}/actions/decline")
    assert declined.json["state"] == "declined"
    offered = manager_client.post("/v1/enterprise/offers", json=offer_body(provider))
    assert offered.status_code == 404


def test_ending_stops_new_offers_and_keeps_the_jobs_offered(
    connected: str,
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    provider: Organization,
    db: Session,
) -> None:
    first = manager_client.post("/v1/enterprise/offers", json=offer_body(provider))
    assert first.status_code == 201
    assert dispatcher_client.delete(f"/v1/connections/{connected}").status_code == 204
    again = manager_client.post("/v1/enterprise/offers", json=offer_body(provider))
    assert again.status_code == 404
    assert manager_client.get(f"/v1/enterprise/jobs/{first.json['id']}").status_code == 200
    assert dispatcher_client.get(f"/v1/jobs/{first.json['id']}").json["status"] == "offered"
    ended = manager_client.get("/v1/enterprise/connections").json[0]
    assert (ended["state"], ended["ended_by"]) == ("ended", "provider")


def test_the_enterprise_may_end_it_too_and_ask_again(
    connected: str, manager_client: ApiClient, dispatcher_client: ApiClient
) -> None:
    assert manager_client.delete(f"/v1/enterprise/connections/{connected}").status_code == 204
    assert dispatcher_client.get("/v1/connections").json[0]["ended_by"] == "enterprise"
    code = dispatcher_client.get("/v1/settings/organization").json["connection_code"]
    again = manager_client.post("/v1/enterprise/connections", json={"connection_code": code})
    assert (again.status_code, again.json["state"]) == (201, "pending")
    assert again.json["id"] != connected


def test_the_providers_are_those_of_the_active_connections_by_name(
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    provider: Organization,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    db: Session,
) -> None:
    connect(manager_client, dispatcher_client, db)  # Done Right Home Services
    apex = make_org(name="Apex Plumbing")
    connect(manager_client, login_as(make_user(apex, role="dispatcher")), db)
    pending = make_org(name="Best Electric")
    pending_client = login_as(make_user(pending, role="dispatcher"))
    code = pending_client.get("/v1/settings/organization").json["connection_code"]
    asked = manager_client.post("/v1/enterprise/connections", json={"connection_code": code})
    assert asked.json["state"] == "pending"
    assert manager_client.get("/v1/enterprise/providers").json == [
        {"id": str(apex.id), "name": "Apex Plumbing"},
        {"id": str(provider.id), "name": provider.name},
    ]
