"""The tracking link: what GET /v1/tracking/<token> and GET /t/<token> show, and when the
link dies."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Appointment, Job
from fieldapi.public.models import VisitTracking
from tests.conftest import ApiClient
from tests.public.conftest import texts_of

# GSM 03.38 basic character set: a text of these only, up to 160, is one SMS segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
Driving = Callable[..., tuple[Job, str]]


def store_latest(db: Session, user: User, lat: float, lon: float) -> None:
    db.execute(
        text(
            "INSERT INTO latest_locations (organization_id, user_id, recorded_at, position, "
            "accuracy_m, updated_at) VALUES (:org, :user, :at, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 8, now()) "
            "ON CONFLICT (organization_id, user_id) DO UPDATE SET position = EXCLUDED.position, "
            "recorded_at = EXCLUDED.recorded_at"
        ),
        {"org": user.organization_id, "user": user.id, "at": utcnow(), "lat": lat, "lon": lon},
    )
    db.commit()


def test_the_on_my_way_text_links_a_page_showing_who_comes_and_when(
    on_the_way: Driving, tech: User, client: ApiClient, db: Session
) -> None:
    store_latest(db, tech, 41.87891234, -87.63594321)
    job, token = on_the_way()
    [message] = texts_of(db, job.id)
    assert re.search(r" Track: https://api\.example\.test/t/[A-Za-z0-9_-]{22}$", message.body)
    assert len(message.body) <= 160 and set(message.body) <= GSM7  # one segment

    answer = client.get(f"/v1/tracking/{token}")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["status"] == "on_the_way"
    assert body["organization"] == {"name": "Done Right Home Services"}
    assert body["technician"] == {"first_name": "Sam"}
    assert 20 <= body["eta"]["minutes"] <= 40
    assert body["eta"]["arrive_by"].endswith("Z")
    # Coarsened: 3 decimals, whatever the fix's precision.
    assert (body["position"]["lat"], body["position"]["lon"]) == (41.879, -87.636)
    assert body["position"]["accuracy_m"] == 100
    assert body["site"] == {"lat": 41.9484, "lon": -87.6553}
    # Nothing that identifies a person beyond the first name, no ids of anything.
    flat = str(body)
    assert tech.phone not in flat and "+1" not in flat and "Ortiz" not in flat
    assert str(job.id) not in flat and str(job.appointments[0].id) not in flat


def test_the_token_is_stored_only_as_a_hash(on_the_way: Driving, db: Session) -> None:
    job, token = on_the_way()
    row = db.scalars(select(VisitTracking)).one()
    assert row.appointment_id == job.appointments[0].id
    assert token not in str([getattr(row, c.key) for c in VisitTracking.__table__.columns])
    assert len(row.token_hash) == 64


def test_the_status_words_follow_the_visit_and_the_position_goes_away(
    on_the_way: Driving, tech: User, tech_client: ApiClient, client: ApiClient, db: Session
) -> None:
    store_latest(db, tech, 41.9, -87.64)
    job, token = on_the_way()
    appointment = job.appointments[0].id
    assert tech_client.post(f"/v1/appointments/{appointment}/actions/start").status_code == 200
    arrived = client.get(f"/v1/tracking/{token}").json
    assert (arrived["status"], arrived["position"], arrived["eta"]) == ("arrived", None, None)
    done = tech_client.post(
        f"/v1/appointments/{appointment}/actions/complete", json={"reason_code": "repaired"}
    )
    assert done.status_code == 200, done.json
    finished = client.get(f"/v1/tracking/{token}").json
    assert (finished["status"], finished["position"]) == ("finished", None)


def test_a_canceled_job_shows_canceled(
    on_the_way: Driving, dispatcher_client: ApiClient, client: ApiClient
) -> None:
    job, token = on_the_way()
    assert dispatcher_client.post(f"/v1/jobs/{job.id}/actions/cancel").status_code == 200
    body = client.get(f"/v1/tracking/{token}").json
    assert (body["status"], body["position"], body["eta"]) == ("canceled", None, None)


def test_the_link_dies_a_set_time_after_the_visit_ended(
    on_the_way: Driving, tech_client: ApiClient, client: ApiClient, db: Session
) -> None:
    job, token = on_the_way()
    appointment = job.appointments[0].id
    tech_client.post(
        f"/v1/appointments/{appointment}/actions/complete", json={"reason_code": "repaired"}
    )
    assert client.get(f"/v1/tracking/{token}").status_code == 200
    ended = utcnow() - timedelta(hours=2, minutes=1)  # TRACKING_LINK_HOURS is 2
    db.execute(update(Appointment).where(Appointment.id == appointment).values(ended_at=ended))
    db.commit()
    dead = client.get(f"/v1/tracking/{token}")
    never = client.get(f"/v1/tracking/{secrets.token_urlsafe(16)}")
    assert dead.status_code == never.status_code == 404
    assert dead.json == never.json
    assert client.get(f"/t/{token}").status_code == 404


def test_forged_tokens_are_404_json_and_an_html_page(client: ApiClient) -> None:
    for forged in ("x", "A" * 22, "A" * 200, "%00" * 22, "..%2F..%2Fetc"):
        answer = client.get(f"/v1/tracking/{forged}")
        assert answer.status_code == 404, forged
        assert answer.json["code"] == 404
    page = client.get("/t/" + "B" * 22)
    assert page.status_code == 404
    assert page.mimetype == "text/html" and "expired" in page.get_data(as_text=True)


def test_the_page_shows_the_visit_without_anything_from_elsewhere(
    on_the_way: Driving, client: ApiClient
) -> None:
    _job, token = on_the_way()
    page = client.get(f"/t/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Done Right Home Services" in html and "Sam is on the way" in html
    assert "Arriving in about" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no CDN, no tiles
    assert page.headers["Referrer-Policy"] == "no-referrer"
    script = client.get("/public/static/tracking.js")
    assert script.status_code == 200 and b"setTimeout(refresh" in script.data
    script.close()
    assert f"/v1/tracking/{token}" in html


def test_tracking_is_rate_limited_per_address(
    app: Flask, app_with_own_engine: Callable[..., Flask]
) -> None:
    limited = app_with_own_engine(RATELIMIT_ENABLED=True, TRACKING_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    forged = "C" * 22
    answers = [client.get(f"/v1/tracking/{forged}").status_code for _ in range(3)]
    assert answers == [404, 404, 429]
    other = client.get(f"/v1/tracking/{forged}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404
