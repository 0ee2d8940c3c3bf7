"""The enterprise's view: its jobs with the provider's status and appointments, the
activity log (its users by name, the provider as the provider organization), public notes
and photos only; never a technician's name, phone or position."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.test_notes_photos import JPEG, PNG, upload


def worked_on(
    job: dict[str, Any], dispatcher_client: ApiClient, tech_client: ApiClient, tech: User
) -> str:
    """Accept, book the technician, drive there, leave a public and a private note and
    photo; the appointment's id."""
    assert dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept").status_code == 200
    booked = dispatcher_client.post(
        f"/v1/jobs/{job['id']}/appointments",
        json={
            "starts_at": (utcnow() + timedelta(hours=2)).isoformat(),
            "duration_min": 90,
            "technician_id": str(tech.id),
        },
    )
    assert booked.status_code == 201, booked.json
    appointment_id = str(booked.json["id"])
    moving = tech_client.post(
        f"/v1/appointments/{appointment_id}/actions/on-my-way",
        json={"lat": 41.8123, "lon": -87.7012},
    )
    assert moving.status_code == 200, moving.json
    for visibility in ("public", "private"):
        note = {"body": f"{visibility} note by Sam", "visibility": visibility}
        assert tech_client.post(f"/v1/jobs/{job['id']}/notes", json=note).status_code == 201
    shell = Job(id=job["id"])  # upload() needs only the id
    assert upload(tech_client, shell, JPEG, visibility="public").status_code == 201
    assert upload(tech_client, shell, PNG, name="p.png", visibility="private").status_code == 201
    return appointment_id


def test_the_enterprise_follows_the_job_without_seeing_the_technician(
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    tech: User,
    provider: Organization,
) -> None:
    job = offer(external_id="ACME-42")
    appointment_id = worked_on(job, dispatcher_client, tech_client, tech)

    seen = manager_client.get(f"/v1/enterprise/jobs/{job['id']}").json
    assert seen["status"] == "in_progress"
    assert seen["provider"] == {"id": str(provider.id), "name": provider.name}
    assert [(a["id"], a["status"], a["duration_min"]) for a in seen["appointments"]] == [
        (appointment_id, "enroute", 90)
    ]
    listed = manager_client.get(f"/v1/enterprise/jobs?provider_id={provider.id}").json
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    assert manager_client.get("/v1/enterprise/jobs?status=complete").json["items"] == []

    log = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/activity").json["items"]
    assert log[0]["actor"] == {"kind": "enterprise", "name": "Morgan Hale"}
    assert log[0]["to_status"] == "offered"
    provider_entries = [entry for entry in log if entry["actor"]["kind"] == "provider"]
    assert {json.dumps(entry["actor"]) for entry in provider_entries} == {
        json.dumps({"kind": "provider", "name": provider.name})
    }
    actions = [entry["action"] for entry in log]
    assert actions[:4] == ["create", "accept", "add_appointment", "on-my-way"]
    assert "note_added" in actions and "photo_added" in actions
    assert not any(entry["action"].startswith("text_") for entry in log)
    assert [e["details"].get("visibility") for e in log if e["action"] == "note_added"] == [
        "public"
    ]

    everything = json.dumps([seen, listed, log])
    for secret in (tech.name, "Sam", tech.phone, str(tech.id), "41.8123", "-87.7012"):
        assert secret not in everything, secret


def test_only_public_notes_and_photos_reach_the_enterprise(
    offer: Callable[..., dict[str, Any]],
    manager_client: ApiClient,
    dispatcher_client: ApiClient,
    tech_client: ApiClient,
    tech: User,
) -> None:
    job = offer()
    worked_on(job, dispatcher_client, tech_client, tech)
    notes = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/notes").json["items"]
    assert [note["body"] for note in notes] == ["public note by Sam"]
    assert "author" not in notes[0]
    photos = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/photos").json["items"]
    assert [photo["content_type"] for photo in photos] == ["image/jpeg"]
    got = manager_client.get(photos[0]["url"])
    assert (got.status_code, got.data) == (200, JPEG)
    every = dispatcher_client.get(f"/v1/jobs/{job['id']}/photos").json["items"]
    private = next(photo for photo in every if photo["visibility"] == "private")
    assert manager_client.get(f"/v1/enterprise/photos/{private['id']}").status_code == 404


def test_a_job_the_enterprise_did_not_offer_is_404(
    manager_client: ApiClient, make_org: Callable[..., Organization], db: Session
) -> None:
    other = make_org(name="Another Brand", kind="enterprise")
    assert other.kind == "enterprise"
    for path in ("", "/activity", "/notes", "/photos"):
        missing = manager_client.get(
            f"/v1/enterprise/jobs/00000000-0000-4000-8000-000000000000{path}"
        )
        assert missing.status_code == 404
