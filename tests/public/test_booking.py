"""Booking requests: the page, the SMS code (the passcode machinery, apart from login),
the offered job with `source: booking`, the answers texted back, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, Passcode
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer, Job
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient

SLUG = "done-right-chicago"
PHONE = "+13125550142"


@pytest.fixture
def booking_on(dispatcher_client: ApiClient) -> str:
    answer = dispatcher_client.patch(
        "/v1/settings/organization", json={"booking_slug": SLUG, "booking_enabled": True}
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["booking_slug"], answer.json["booking_enabled"]) == (SLUG, True)
    return SLUG


def code_texted(db: Session, phone: str) -> str:
    db.expire_all()
    message = db.scalars(
        select(Message).where(Message.to_phone == phone).order_by(Message.queued_at.desc())
    ).first()
    assert message is not None and message.purpose == "passcode"
    return message.body.split()[0]


def request_body(code: str, **changes: Any) -> dict[str, Any]:
    start = utcnow() + timedelta(days=2)
    return {
        "name": "Ana Ruiz",
        "phone": "(312) 555-0142",
        "passcode": code,
        "address": "3600 N Clark St, Chicago",
        "lat": 41.9472,
        "lon": -87.6564,
        "description": "The furnace makes a loud bang when it starts.",
        "preferred_windows": [
            {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat()}
        ],
        **changes,
    }


def counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Job)) or 0,
        db.scalar(select(func.count()).select_from(Customer)) or 0,
        db.scalar(select(func.count()).select_from(Message)) or 0,
    )


def test_a_customer_books_through_the_code_and_the_dispatchers_hear(
    booking_on: str,
    client: ApiClient,
    dispatcher_client: ApiClient,
    dispatcher: Any,
    org: Organization,
    db: Session,
) -> None:
    page = client.get(f"/book/{booking_on}")
    assert page.status_code == 200 and "Done Right Home Services" in page.get_data(as_text=True)
    sent = client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": "(312) 555-0142"})
    assert sent.status_code == 202, sent.json
    code = code_texted(db, PHONE)
    assert (
        "request a visit from Done Right Home Services"
        in db.scalars(select(Message.body).where(Message.to_phone == PHONE)).one()
    )
    answer = client.post(f"/v1/bookings/{booking_on}", json=request_body(code))
    assert answer.status_code == 201, answer.json
    job_id = answer.json["request_id"]
    job = dispatcher_client.get(f"/v1/jobs/{job_id}").json
    assert (job["status"], job["source"]) == ("offered", "booking")
    assert job["title"] == "The furnace makes a loud bang when it starts."
    assert len(job["preferred_windows"]) == 1
    assert job["customer"]["phone"] == PHONE and job["customer"]["name"] == "Ana Ruiz"
    notes = db.scalars(select(Message).where(Message.purpose == "booking_request")).all()
    assert dispatcher.phone in {note.to_phone for note in notes}  # every active dispatcher
    assert all("Ana Ruiz" in note.body for note in notes)
    # The code is used up: the same request again is refused and creates nothing.
    before = counts(db)
    again = client.post(f"/v1/bookings/{booking_on}", json=request_body(code))
    assert again.status_code == 401
    assert counts(db) == before


def test_accept_and_decline_text_the_customer(
    booking_on: str, client: ApiClient, dispatcher_client: ApiClient, db: Session
) -> None:
    answers = []
    for action in ("accept", "decline"):
        client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": PHONE})
        code = code_texted(db, PHONE)
        job_id = client.post(f"/v1/bookings/{booking_on}", json=request_body(code)).json[
            "request_id"
        ]
        acted = dispatcher_client.post(f"/v1/jobs/{job_id}/actions/{action}")
        assert acted.status_code == {"accept": 200, "decline": 204}[action]
        db.expire_all()
        answers.append(
            db.scalars(
                select(Message).where(Message.job_id == job_id, Message.to_phone == PHONE)
            ).one()
        )
        # A resend waits a minute: age the number's code record instead of waiting.
        db.execute(Passcode.__table__.update().values(issued_at=utcnow() - timedelta(minutes=5)))
        db.commit()
    accepted, declined = answers
    assert accepted.purpose == "booking_accepted" and "accepted your request" in accepted.body
    assert declined.purpose == "booking_declined" and "sorry" in declined.body
    # Both requests matched the one customer by phone.
    assert db.scalar(select(func.count()).select_from(Customer).where(Customer.phone == PHONE)) == 1


def test_the_answers_do_not_tell_whether_the_phone_is_a_customer(
    booking_on: str,
    client: ApiClient,
    customer: Customer,
    db: Session,
) -> None:
    known = client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": customer.phone})
    unknown = client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": PHONE})
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    answer = client.post(
        f"/v1/bookings/{booking_on}",
        json=request_body(code_texted(db, customer.phone), phone=customer.phone),
    )
    assert answer.status_code == 201 and set(answer.json) == {"request_id"}


def test_a_booking_code_does_not_log_in(
    booking_on: str, client: ApiClient, dispatcher: Any, db: Session
) -> None:
    client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": dispatcher.phone})
    code = code_texted(db, dispatcher.phone)
    login = client.post("/v1/auth/session", json={"phone": dispatcher.phone, "passcode": code})
    assert login.status_code == 401


def test_unknown_or_disabled_pages_are_404(
    booking_on: str, client: ApiClient, dispatcher_client: ApiClient
) -> None:
    assert client.get("/book/no-such-company").status_code == 404
    assert (
        client.post("/v1/bookings/no-such-company/passcode", json={"phone": PHONE}).status_code
        == 404
    )
    dispatcher_client.patch("/v1/settings/organization", json={"booking_enabled": False})
    assert client.get(f"/book/{booking_on}").status_code == 404
    assert (
        client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": PHONE}).status_code == 404
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "   "},
        {"description": ""},
        {"address": "x" * 501},
        {"description": "x" * 2001},
        {"lat": 91},
        {"preferred_windows": [{"start": "2020-01-01T10:00:00Z", "end": "2020-01-01T12:00:00Z"}]},
        {"preferred_windows": [{"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T09:00:00Z"}]},
        {
            "preferred_windows": [{"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T12:00:00Z"}]
            * 4
        },
        {"passcode": "12ab56"},
        {"passcode": "000000"},
        {"phone": "+447911123456"},
    ],
)
def test_bad_requests_are_4xx_and_change_nothing(
    changes: dict[str, Any], booking_on: str, client: ApiClient, db: Session
) -> None:
    client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": PHONE})
    code = code_texted(db, PHONE)
    before = counts(db)
    answer = client.post(f"/v1/bookings/{booking_on}", json=request_body(code, **changes))
    assert 400 <= answer.status_code < 500, answer.json
    assert answer.json["code"] == answer.status_code
    assert counts(db) == before  # no job, no customer, no text


def test_a_phone_outside_the_regions_gets_no_code(
    booking_on: str, client: ApiClient, db: Session
) -> None:
    before = counts(db)
    answer = client.post(f"/v1/bookings/{booking_on}/passcode", json={"phone": "+447911123456"})
    assert answer.status_code == 422
    assert counts(db) == before


def test_a_slug_is_checked_and_unique(
    booking_on: str, make_org: Callable[..., Organization], login_as: Any, make_user: Any
) -> None:
    other = make_org(name="Other HVAC")
    client = login_as(make_user(other, role="dispatcher"))
    taken = client.patch("/v1/settings/organization", json={"booking_slug": booking_on})
    assert taken.status_code == 409
    bad = client.patch("/v1/settings/organization", json={"booking_slug": "Not A Slug!"})
    assert bad.status_code == 422
    early = client.patch("/v1/settings/organization", json={"booking_enabled": True})
    assert early.status_code == 422


def test_booking_is_rate_limited_per_address(
    app: Flask, app_with_own_engine: Callable[..., Flask]
) -> None:
    limited = app_with_own_engine(RATELIMIT_ENABLED=True, BOOKING_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    path = "/v1/bookings/no-such-company/passcode"
    answers = [client.post(path, json={"phone": PHONE}).status_code for _ in range(3)]
    assert answers == [404, 404, 429]
