"""A tracker app's fixes and geofences reach the same en-route follow-up as the Dispatch
Field app's pings: the ETA moves, and an OwnTracks `enter` is the one arrival record."""

from __future__ import annotations

import base64
from collections.abc import Callable

from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from tests.conftest import WRIGLEY, ApiClient
from tests.jobs.conftest import activity_of, appointments_of

Driving = Callable[..., tuple[Job, str]]
KM_OF_LATITUDE = 1 / 111.2  # degrees


def device_token(tech_client: ApiClient) -> str:
    answer = tech_client.post("/v1/me/devices", json={"name": "OwnTracks on Sam's phone"})
    assert answer.status_code == 201, answer.json
    return str(answer.json["token"])


def test_a_tracker_apps_fix_moves_the_eta_of_the_visit(
    on_the_way: Driving, tech_client: ApiClient, client: ApiClient
) -> None:
    token = device_token(tech_client)
    _job, link = on_the_way()  # from the Loop, about 8 km away
    before = client.get(f"/v1/tracking/{link}").json["eta"]["minutes"]
    lat = WRIGLEY[0] + 2 * KM_OF_LATITUDE
    sent = client.client.get(
        "/ingest/osmand",
        query_string={
            "id": token,
            "lat": lat,
            "lon": WRIGLEY[1],
            "timestamp": int(utcnow().timestamp()),
            "accuracy": 8,
        },
    )
    assert sent.status_code == 200
    after = client.get(f"/v1/tracking/{link}").json
    assert after["eta"]["minutes"] < before
    assert after["position"]["lat"] == round(lat, 3)


def test_an_owntracks_enter_is_the_arrival_the_fixes_would_record(
    on_the_way: Driving,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    client: ApiClient,
    db: Session,
) -> None:
    switched = dispatcher_client.patch(
        "/v1/settings/organization", json={"auto_start_on_arrival": True}
    )
    assert switched.status_code == 200
    token = device_token(tech_client)
    job, link = on_the_way()
    now = int(utcnow().timestamp())
    enter = {
        "_type": "transition",
        "event": "enter",
        "lat": WRIGLEY[0],
        "lon": WRIGLEY[1],
        "acc": 10,
        "tst": now,
        "wtst": now - 3600,
        "t": "c",
    }
    basic = base64.b64encode(f"sam:{token}".encode()).decode()
    sent = client.client.post(
        "/ingest/owntracks", json=enter, headers={"Authorization": f"Basic {basic}"}
    )
    assert sent.status_code == 200
    # The one arrival record: the tracking page flips, auto start runs through the lifecycle.
    assert client.get(f"/v1/tracking/{link}").json["status"] == "arrived"
    assert appointments_of(db, job.id)[0].status == "started"
    log = activity_of(db, job.id)
    [arrived] = [entry for entry in log if entry.action == "arrived"]
    assert arrived.details["source"] == "owntracks_transition"
    # Fixes dwelling at the site afterwards record no second arrival.
    again = client.client.post(
        "/ingest/owntracks",
        json={**enter, "tst": now + 90},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert again.status_code == 200
    assert [e.action for e in activity_of(db, job.id)].count("arrived") == 1
