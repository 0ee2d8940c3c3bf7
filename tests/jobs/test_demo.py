"""The demo organization comes with jobs in every status, made through the services."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.demo import seed_demo
from fieldapi.jobs.models import ActivityEvent, Appointment, Job
from fieldapi.messaging.models import Message


def test_the_demo_has_jobs_in_every_status(db: Session) -> None:
    summary = seed_demo(db)
    statuses = {status for _title, status in summary["jobs"]}
    assert statuses == {
        "scheduled",
        "in_progress",
        "paused",
        "complete",
        "unscheduled",
        "canceled",
        "offered",
    }
    org = summary["organization_id"]
    jobs = db.scalars(select(Job).where(Job.organization_id == org)).all()
    assert sorted(j.status for j in jobs) == sorted(s for _t, s in summary["jobs"])
    # made through the lifecycle: every job has its creation in the log, texts were queued
    created = db.scalar(
        select(func.count()).where(
            ActivityEvent.organization_id == org, ActivityEvent.action == "create"
        )
    )
    assert created == len(jobs)
    purposes = set(db.scalars(select(Message.purpose).where(Message.organization_id == org)))
    assert {"on_my_way", "arrival", "survey"} <= purposes
    enroute = db.scalar(
        select(func.count()).where(
            Appointment.organization_id == org, Appointment.status == "enroute"
        )
    )
    assert enroute == 1
