"""GET /v1/appointments without `from`/`to`: today in the organization's timezone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import iso

CHICAGO = ZoneInfo("America/Chicago")  # the organization's timezone in these fixtures


def chicago_midnight(days_from_today: int) -> datetime:
    today = utcnow().astimezone(CHICAGO).date() + timedelta(days=days_from_today)
    return datetime.combine(today, time(), tzinfo=CHICAGO)


def test_without_from_and_to_the_calendar_is_today_in_the_organizations_timezone(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    today = chicago_midnight(0)
    early = make_job(technician=tech, starts_at=today + timedelta(minutes=30))
    late = make_job(technician=tech, starts_at=chicago_midnight(1) - timedelta(minutes=30))
    make_job(technician=tech, starts_at=today - timedelta(hours=2))  # ended 22:30 yesterday
    make_job(technician=tech, starts_at=chicago_midnight(1) + timedelta(minutes=30))

    answer = dispatcher_client.get("/v1/appointments")

    assert answer.status_code == 200, answer.json
    assert [a["job_id"] for a in answer.json["items"]] == [str(early.id), str(late.id)]


def test_with_only_from_the_calendar_is_the_day_from_there(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    inside = make_job(technician=tech, starts_at=start + timedelta(hours=23))
    make_job(technician=tech, starts_at=start + timedelta(hours=25))

    answer = dispatcher_client.get(f"/v1/appointments?from={iso(start)}")

    assert [a["job_id"] for a in answer.json["items"]] == [str(inside.id)]


def test_with_only_to_the_calendar_is_the_day_before_it(
    make_job: Callable[..., Job], tech: User, dispatcher_client: ApiClient
) -> None:
    end = utcnow().replace(microsecond=0) + timedelta(days=3)
    make_job(technician=tech, starts_at=end - timedelta(hours=26))  # ends 24.5 h before
    inside = make_job(technician=tech, starts_at=end - timedelta(hours=2))

    answer = dispatcher_client.get(f"/v1/appointments?to={iso(end)}")

    assert [a["job_id"] for a in answer.json["items"]] == [str(inside.id)]
