"""The texts customers expect about their visit's schedule: booked or moved, a reminder
before it, canceled; each an organization setting, at most one per purpose per visit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer, Job
from fieldapi.jobs.reminders import in_quiet_hours, send_due_reminders
from fieldapi.jobs.texts import TextSettings, visit_window_text
from fieldapi.messaging.models import Message, OptOut
from tests.conftest import ApiClient
from tests.public.conftest import texts_of

CHICAGO = ZoneInfo("America/Chicago")
TEXTS = TextSettings()


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = (utcnow().astimezone(CHICAGO) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def book(client: ApiClient, customer: Customer, starts_at: datetime, minutes: int = 90) -> str:
    answer = client.post(
        "/v1/jobs",
        json={
            "customer_id": str(customer.id),
            "title": "Fix the furnace",
            "appointment": {"starts_at": iso(starts_at), "duration_min": minutes},
        },
    )
    assert answer.status_code == 201, answer.json
    return str(answer.json["id"])


def purposes(db: Session, job_id: str | uuid.UUID) -> list[str]:
    return [m.purpose for m in texts_of(db, uuid.UUID(str(job_id)))]


def test_the_window_is_in_the_customers_timezone() -> None:
    start = datetime(2026, 12, 2, 20, 0, tzinfo=ZoneInfo("UTC"))  # 2 PM in Chicago
    assert visit_window_text(start, 90, "America/Chicago") == "Wed Dec 2, 2:00-3:30 PM"
    assert visit_window_text(start - timedelta(hours=3), 180, "America/Chicago") == (
        "Wed Dec 2, 11:00 AM-2:00 PM"
    )
    assert visit_window_text(start, 90, "Pacific/Honolulu") == "Wed Dec 2, 10:00-11:30 AM"


def test_a_booked_visit_texts_the_customer_its_day_and_window(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    job_id = book(dispatcher_client, customer, tomorrow_at(14))
    [message] = texts_of(db, uuid.UUID(job_id))
    when = visit_window_text(tomorrow_at(14), 90, "America/Chicago")
    assert message.body == f"Done Right Home Services: your visit is booked for {when}."
    assert (message.purpose, message.to_phone) == ("booked", customer.phone)


def test_a_moved_visit_texts_once_and_a_reassignment_not_at_all(
    dispatcher_client: ApiClient, customer: Customer, tech: User, db: Session
) -> None:
    job_id = book(dispatcher_client, customer, tomorrow_at(14))
    appointment = dispatcher_client.get(f"/v1/jobs/{job_id}").json["appointments"][0]["id"]
    path = f"/v1/appointments/{appointment}"
    assert dispatcher_client.patch(path, json={"technician_id": str(tech.id)}).status_code == 200
    assert purposes(db, job_id) == ["booked"]
    assert (
        dispatcher_client.patch(path, json={"starts_at": iso(tomorrow_at(16))}).status_code == 200
    )
    moved = texts_of(db, uuid.UUID(job_id))[-1]
    when = visit_window_text(tomorrow_at(16), 90, "America/Chicago")
    assert moved.body == f"Done Right Home Services: your visit moved to {when}."
    dispatcher_client.patch(path, json={"starts_at": iso(tomorrow_at(17))})
    assert purposes(db, job_id) == ["booked", "moved"]  # one per purpose per visit


def test_a_canceled_job_texts_each_visit_it_cancels(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    job_id = book(dispatcher_client, customer, tomorrow_at(9))
    assert dispatcher_client.post(f"/v1/jobs/{job_id}/actions/cancel").status_code == 200
    canceled = texts_of(db, uuid.UUID(job_id))[-1]
    assert canceled.purpose == "canceled"
    when = visit_window_text(tomorrow_at(9), 90, "America/Chicago")
    assert canceled.body == (
        f"Done Right Home Services: your visit {when} was canceled. Call us to book again."
    )
    # Reopened and canceled again: no second text of either purpose.
    assert dispatcher_client.post(f"/v1/jobs/{job_id}/actions/reopen").status_code == 200
    assert dispatcher_client.post(f"/v1/jobs/{job_id}/actions/cancel").status_code == 200
    assert purposes(db, job_id) == ["booked", "canceled"]


def test_each_text_is_an_organization_setting(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    off = {"booked_texts": False, "canceled_texts": False}
    assert dispatcher_client.patch("/v1/settings/organization", json=off).status_code == 200
    job_id = book(dispatcher_client, customer, tomorrow_at(10))
    dispatcher_client.post(f"/v1/jobs/{job_id}/actions/cancel")
    assert purposes(db, job_id) == []
    bad = dispatcher_client.patch("/v1/settings/organization", json={"reminder_hours": 0})
    assert bad.status_code == 422


def test_an_opted_out_customer_gets_no_text(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    db.add(OptOut(phone=customer.phone, source="reply", keyword="STOP"))
    db.commit()
    job_id = book(dispatcher_client, customer, tomorrow_at(11))
    [message] = texts_of(db, uuid.UUID(job_id))
    assert message.status == "blocked"  # kept with the reason, never sent


def test_a_reminder_to_a_customer_who_opted_out_since_the_session_read_them_is_blocked(
    make_job: Callable[..., Job], tech: User, customer: Customer, db: Session
) -> None:
    # The worker's session read the customer before the STOP came in: the job's lock
    # reads them again, so the reminder knows of the opt-out.
    job = make_job(technician=tech, starts_at=utcnow() + timedelta(hours=3))
    assert customer.texts_opted_out is False
    db.add(OptOut(phone=customer.phone, source="reply", keyword="STOP"))
    db.commit()
    assert send_due_reminders(db, utcnow(), settings=TEXTS, quiet_hours=(0, 0)) == 1
    [reminder] = texts_of(db, job.id)
    assert (reminder.purpose, reminder.status) == ("reminder", "blocked")
    assert reminder.error_message == "The recipient opted out by replying STOP."


def test_a_reminder_goes_once_for_a_visit_still_ahead_and_scheduled(
    make_job: Callable[..., Job], tech: User, org: Organization, db: Session
) -> None:
    soon = make_job(technician=tech, starts_at=utcnow() + timedelta(hours=3))
    later = make_job(technician=tech, starts_at=utcnow() + timedelta(hours=30))
    now = utcnow()
    awake = (0, 0)  # no quiet hours
    assert send_due_reminders(db, now, settings=TEXTS, quiet_hours=awake) == 1
    [reminder] = texts_of(db, soon.id)
    when = visit_window_text(soon.appointments[0].starts_at, 90, "America/Chicago")
    assert reminder.body == f"Done Right Home Services: a reminder of your visit {when}."
    assert texts_of(db, later.id) == []
    assert send_due_reminders(db, now, settings=TEXTS, quiet_hours=awake) == 0  # once
    org.reminder_hours = 48
    db.commit()
    assert send_due_reminders(db, now, settings=TEXTS, quiet_hours=awake) == 1
    assert purposes(db, later.id) == ["reminder"]


def test_no_reminder_at_night_nor_for_visits_canceled_or_under_way(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    quiet = make_job(technician=tech, starts_at=utcnow() + timedelta(hours=2))
    now = utcnow()
    hour = now.astimezone(CHICAGO).hour
    night = (hour, (hour + 1) % 24)  # "now" is in the customer's quiet hours
    assert in_quiet_hours(now, "America/Chicago", night)
    assert send_due_reminders(db, now, settings=TEXTS, quiet_hours=night) == 0
    assert texts_of(db, quiet.id) == []
    dispatcher_client.post(f"/v1/jobs/{quiet.id}/actions/cancel")
    driving = make_job(technician=tech, starts_at=utcnow() + timedelta(hours=2))
    tech_client.post(f"/v1/appointments/{driving.appointments[0].id}/actions/on-my-way")
    assert send_due_reminders(db, now, settings=TEXTS, quiet_hours=(0, 0)) == 0
    sent = db.scalars(select(Message.purpose).where(Message.purpose == "reminder")).all()
    assert sent == []


def test_quiet_hours_span_midnight() -> None:
    utc = ZoneInfo("UTC")
    assert in_quiet_hours(datetime(2026, 12, 2, 3, 0, tzinfo=utc), "UTC", (21, 8))
    assert in_quiet_hours(datetime(2026, 12, 2, 22, 0, tzinfo=utc), "UTC", (21, 8))
    assert not in_quiet_hours(datetime(2026, 12, 2, 8, 0, tzinfo=utc), "UTC", (21, 8))
    assert not in_quiet_hours(datetime(2026, 12, 2, 12, 0, tzinfo=utc), "UTC", (0, 0))
