"""Reminders (one per job per hour, texted to the provider's active dispatchers, logged on
both sides) and the enterprise's own complete reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient

ACME_REASONS = [
    {"code": "acme_fixed", "label": "Fixed under warranty", "outcome": "complete"},
    {"code": "acme_parts", "label": "Warranty part ordered", "outcome": "pause"},
]


def reminder_texts(db: Session, job_id: str) -> list[Message]:
    return list(
        db.scalars(select(Message).where(Message.job_id == job_id, Message.purpose == "reminder"))
    )


def test_a_reminder_texts_the_active_dispatchers_and_is_logged_with_the_managers_name(
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    dispatcher: User,
    provider: Organization,
    make_user: Callable[..., User],
    db: Session,
) -> None:
    gone = make_user(provider, role="dispatcher", active=False)
    make_user(provider, role="technician")
    job = offer()
    sent = manager_client.post(
        f"/v1/enterprise/jobs/{job['id']}/reminders", json={"message": "Customer called twice"}
    )
    assert sent.status_code == 201, sent.json
    texts = reminder_texts(db, job["id"])
    phones = {text.to_phone for text in texts}
    assert dispatcher.phone in phones and gone.phone not in phones
    assert sent.json["texted"] == len(texts) == 2  # Dana and the organization's owner
    assert texts[0].body == (
        "Morgan Hale from Acme Home Warranty asks for a status update on "
        "'Dishwasher not draining'. Customer called twice"
    )
    theirs = dispatcher_client.get(f"/v1/jobs/{job['id']}/activity").json["items"][-1]
    assert (theirs["action"], theirs["actor"]["name"]) == ("reminder_sent", "Morgan Hale")
    ours = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/activity").json["items"][-1]
    assert ours["action"] == "reminder_sent"
    assert ours["actor"] == {"kind": "enterprise", "name": "Morgan Hale"}


def test_a_second_reminder_within_the_hour_is_429_with_retry_after(
    offer: Callable[..., dict[str, Any]], manager_client: ApiClient, db: Session
) -> None:
    job = offer()
    path = f"/v1/enterprise/jobs/{job['id']}/reminders"
    now = utcnow()  # the access token lives 15 minutes: the first reminder is moved back
    with time_machine.travel(now - timedelta(minutes=50), tick=False):
        assert manager_client.post(path, json={}).status_code == 201
    with time_machine.travel(now, tick=False):
        again = manager_client.post(path, json={})
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) == 10 * 60
    assert len(reminder_texts(db, job["id"])) == 2
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        assert manager_client.post(path, json={}).status_code == 201
    assert len(reminder_texts(db, job["id"])) == 4


def test_a_job_of_an_enterprise_with_its_own_reasons_is_completed_with_them(
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    tech: User,
) -> None:
    assert manager_client.get("/v1/enterprise/complete-reasons").json == []
    saved = manager_client.put("/v1/enterprise/complete-reasons", json=ACME_REASONS)
    assert saved.status_code == 200 and saved.json == ACME_REASONS
    job = offer()
    dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept")
    booked = dispatcher_client.post(
        f"/v1/jobs/{job['id']}/appointments",
        json={
            "starts_at": (utcnow() + timedelta(hours=1)).isoformat(),
            "duration_min": 60,
            "technician_id": str(tech.id),
        },
    ).json
    seen = dispatcher_client.get(f"/v1/jobs/{job['id']}").json
    assert seen["complete_reasons"] == ACME_REASONS
    visit = f"/v1/appointments/{booked['id']}/actions"
    assert tech_client.post(f"{visit}/start").status_code == 200
    refused = tech_client.post(f"{visit}/complete", json={"reason_code": "repaired"})
    assert refused.status_code == 422
    assert "acme_fixed" in refused.json["message"] and "acme_parts" in refused.json["message"]
    paused = tech_client.post(f"{visit}/complete", json={"reason_code": "acme_parts"})
    assert paused.json["status"] == "paused"


def test_without_its_own_reasons_the_providers_apply(
    offer: Callable[..., dict[str, Any]], dispatcher_client: ApiClient
) -> None:
    job = offer()
    codes = [
        r["code"] for r in dispatcher_client.get(f"/v1/jobs/{job['id']}").json["complete_reasons"]
    ]
    assert "repaired" in codes
