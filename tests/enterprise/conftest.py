"""Fixtures of the enterprise tests: a provider with a team, an enterprise with a manager,
connected; helpers to offer a job the way the enterprise's app does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.enterprise.models import Connection
from fieldapi.enterprise.webhooks import save_webhook
from fieldapi.onboarding import create_organization
from tests.conftest import ApiClient, unique_phone

CUSTOMER = {
    "name": "Maria Lopez",
    "phone": "(312) 200-0201",
    "address": "1060 W Addison St, Chicago, IL",
    "lat": 41.9484,
    "lon": -87.6553,
    "timezone": "America/Chicago",
}


def offer_body(provider: Organization, **changes: Any) -> dict[str, Any]:
    start = utcnow() + timedelta(days=1)
    body: dict[str, Any] = {
        "provider_id": str(provider.id),
        "title": "Dishwasher not draining",
        "customer": dict(CUSTOMER),
        "appointment_windows": [
            {"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()}
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def provider(make_org: Callable[..., Organization]) -> Organization:
    return make_org(name="Done Right Home Services")


@pytest.fixture
def dispatcher(provider: Organization, make_user: Callable[..., User]) -> User:
    return make_user(provider, role="dispatcher", name="Dana Reyes")


@pytest.fixture
def tech(provider: Organization, make_user: Callable[..., User]) -> User:
    return make_user(provider, role="technician", name="Sam Ortiz")


@pytest.fixture
def enterprise(make_org: Callable[..., Organization]) -> Organization:
    return make_org(name="Acme Home Warranty", kind="enterprise")


@pytest.fixture
def manager(enterprise: Organization, make_user: Callable[..., User]) -> User:
    return make_user(enterprise, role="manager", name="Morgan Hale")


@pytest.fixture
def dispatcher_client(dispatcher: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(dispatcher)


@pytest.fixture
def tech_client(tech: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(tech)


@pytest.fixture
def manager_client(manager: User, login_as: Callable[[User], ApiClient]) -> ApiClient:
    return login_as(manager)


def connect(manager_client: ApiClient, dispatcher_client: ApiClient, db: Session) -> str:
    """Request with the provider's code and accept it; the connection's id."""
    code = dispatcher_client.get("/v1/settings/organization").json["connection_code"]
    asked = manager_client.post("/v1/enterprise/connections", json={"connection_code": code})
    assert asked.status_code == 201, asked.json
    answer = dispatcher_client.post(f"/v1/connections/{asked.json['id']}/actions/accept")
    assert answer.status_code == 200, answer.json
    return str(asked.json["id"])


@pytest.fixture
def connected(manager_client: ApiClient, dispatcher_client: ApiClient, db: Session) -> str:
    return connect(manager_client, dispatcher_client, db)


@pytest.fixture
def offer(
    connected: str, manager_client: ApiClient, provider: Organization
) -> Callable[..., dict[str, Any]]:
    """Offer a job through the API; the enterprise's answer."""

    def make(**changes: Any) -> dict[str, Any]:
        answer = manager_client.post("/v1/enterprise/offers", json=offer_body(provider, **changes))
        assert answer.status_code == 201, answer.json
        result: dict[str, Any] = answer.json
        return result

    return make


def committed_enterprise_with_webhook(
    committed: Session, receiver_url: str
) -> tuple[Organization, User, Principal, str]:
    """Committed: a provider with its owner, an enterprise connected to it whose webhook
    goes to `receiver_url`; the provider, its owner, the manager acting, the webhook's
    secret (for the thread and process tests, which need real commits)."""
    provider, owner = create_organization(
        committed, name="Done Right", owner_name="Dana", owner_phone=unique_phone()
    )
    enterprise, manager = create_organization(
        committed, name="Acme", owner_name="Morgan", owner_phone=unique_phone(), kind="enterprise"
    )
    now = utcnow()
    committed.add(
        Connection(
            organization_id=provider.id,
            enterprise_id=enterprise.id,
            state="active",
            created_at=now,
            updated_at=now,
        )
    )
    committed.commit()
    acting = Principal(manager.id, enterprise.id, uuid.uuid4(), manager.name, "manager")
    hook = save_webhook(committed, acting, receiver_url, now=now, allow_private=True)
    return provider, owner, acting, hook.secret
