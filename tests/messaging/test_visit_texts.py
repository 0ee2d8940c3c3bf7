"""A visit's texts by purpose, as the jobs' texts ask before queueing one of each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.db import utcnow
from fieldapi.jobs.models import Appointment, Job
from fieldapi.messaging.outbox import queue_message
from fieldapi.messaging.visit_texts import visit_had_text
from tests.conftest import plan_of
from tests.messaging.conftest import REGIONS


def visit_of(db: Session, job: Job) -> Appointment:
    appointment = Appointment(
        id=uuid.uuid4(),
        organization_id=job.organization_id,
        job_id=job.id,
        starts_at=utcnow() + timedelta(days=1),
        duration_min=60,
        status="scheduled",
    )
    db.add(appointment)
    db.flush()
    return appointment


def test_a_visit_had_a_text_of_the_purposes_queued_for_it_refused_ones_too(
    db: Session, org: Organization, make_job: Callable[..., Job]
) -> None:
    job = make_job(org)
    visit, other_visit = visit_of(db, job), visit_of(db, job)
    for purpose, opted_out in (("booked", False), ("reminder", True)):
        queue_message(
            db,
            organization_id=org.id,
            to=job.customer.phone or "",
            body="Your visit is booked.",
            purpose=purpose,
            allowed_regions=REGIONS,
            job_id=job.id,
            appointment_id=visit.id,
            opted_out=opted_out,
        )
    db.commit()
    assert visit_had_text(db, visit.id, "booked")
    assert visit_had_text(db, visit.id, "reminder")  # blocked: never sent, still had
    assert not visit_had_text(db, visit.id, "canceled")
    assert not visit_had_text(db, other_visit.id, "booked")


def test_the_question_reads_the_visit_s_texts_by_their_index(
    db: Session,
    org: Organization,
    make_job: Callable[..., Job],
    query_plans: Callable[[], Any],
) -> None:
    # Asked by every change of a visit: not a walk of every organization's texts.
    visit = visit_of(db, make_job(org))
    with query_plans() as plans:
        assert not visit_had_text(db, visit.id, "booked")
    plan = plan_of(plans, "FROM messages")
    assert "ix_messages_appointment_id_purpose" in plan, plan
