"""Two changes of one job in concurrent transactions: their webhook events are numbered and
sent in the order the changes became visible, never the later one while the earlier is
still being written (real commits, two sessions, the real receiver)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.enterprise.delivery import WebhookSender, WebhookSettings
from fieldapi.enterprise.models import WebhookDelivery
from fieldapi.enterprise.offers import OfferInput, make_offer
from fieldapi.enterprise.texts import TextRules
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.attachments import add_note
from fieldapi.jobs.models import Job, JobNote
from tests.conftest import requests_waiting_on_locks
from tests.enterprise.conftest import CUSTOMER, committed_enterprise_with_webhook
from tests.enterprise.receiver import Receiver


@pytest.fixture
def offered_job(committed: Session, receiver: Receiver) -> Iterator[tuple[uuid.UUID, Principal]]:
    """A committed job offered by an enterprise with a webhook to the receiver, its offer
    event already delivered; the provider's dispatcher."""
    provider, dispatcher, boss, receiver.secret = committed_enterprise_with_webhook(
        committed, receiver.url
    )
    now = utcnow()
    start = now + timedelta(days=1)
    offer = OfferInput(
        provider_id=provider.id,
        title="Dishwasher",
        customer=dict(CUSTOMER),
        appointment_windows=[{"start": start, "end": start + timedelta(hours=2)}],
    )
    job_id = make_offer(committed, boss, offer, now=now, rules=TextRules()).job_id
    committed.execute(update(WebhookDelivery).values(status="delivered"))
    committed.commit()
    yield job_id, Principal(dispatcher.id, provider.id, uuid.uuid4(), dispatcher.name, "dispatcher")


def test_a_change_committed_while_an_earlier_one_is_open_is_not_sent_ahead_of_it(
    engine: Engine, committed: Session, receiver: Receiver, offered_job: tuple[uuid.UUID, Principal]
) -> None:
    job_id, dispatcher = offered_job
    sender = WebhookSender(
        sessionmaker(bind=engine, expire_on_commit=False), WebhookSettings(allow_private=True)
    )
    first = Session(bind=engine, expire_on_commit=False)
    job = first.get_one(Job, job_id)
    record_event(  # the first change is written, not yet committed
        first,
        job,
        action="note_added",
        at=utcnow(),
        acting=Acting.user(dispatcher),
        details={"visibility": "public"},
    )
    first.flush()

    def second_change() -> None:
        with Session(bind=engine, expire_on_commit=False) as second:
            add_note(
                second, dispatcher, job_id, body="Parts ordered.", visibility="public", now=utcnow()
            )

    writer = threading.Thread(target=second_change)
    writer.start()
    # It commits (the fault this test is for), or it waits for the first change's lock.
    deadline = time.monotonic() + 30
    while writer.is_alive() and not requests_waiting_on_locks(engine):
        assert time.monotonic() < deadline, "the second change neither committed nor waited"
        time.sleep(0.01)
    while sender.process_one():  # what a worker sends meanwhile
        pass
    first.commit()
    first.close()
    writer.join(timeout=10)
    assert not writer.is_alive()
    while sender.process_one():
        pass

    queued = committed.scalars(
        select(WebhookDelivery.event_id)
        .where(WebhookDelivery.job_id == job_id, WebhookDelivery.type == "job.note_added")
        .order_by(WebhookDelivery.id)
    ).all()
    assert len(queued) == 2
    assert receiver.event_ids() == [str(event_id) for event_id in queued]


def test_two_changes_that_each_wrote_a_row_of_the_job_first_both_commit_in_order(
    engine: Engine,
    committed: Session,
    receiver: Receiver,
    offered_job: tuple[uuid.UUID, Principal],
) -> None:
    """A note's row references its job (a key-share lock on it) before its event is queued:
    two such changes at once must take turns, not deadlock."""
    job_id, dispatcher = offered_job
    organization_id = committed.get_one(Job, job_id).organization_id
    sessions = [Session(bind=engine, expire_on_commit=False) for _ in range(2)]
    for n, each in enumerate(sessions):
        each.add(
            JobNote(
                id=uuid.uuid4(),
                organization_id=organization_id,
                job_id=job_id,
                author_id=dispatcher.user_id,
                body=f"Note {n}",
                visibility="public",
                created_at=utcnow(),
            )
        )
        each.flush()
    errors: list[Exception] = []

    def change(each: Session) -> None:
        try:
            record_event(
                each,
                each.get_one(Job, job_id),
                action="note_added",
                at=utcnow(),
                acting=Acting.user(dispatcher),
                details={"visibility": "public"},
            )
            each.commit()
        except Exception as error:
            errors.append(error)
            each.rollback()
        finally:
            each.close()

    writers = [threading.Thread(target=change, args=(each,)) for each in sessions]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=15)
    assert errors == []
    sender = WebhookSender(
        sessionmaker(bind=engine, expire_on_commit=False), WebhookSettings(allow_private=True)
    )
    while sender.process_one():
        pass
    queued = committed.scalars(
        select(WebhookDelivery.event_id)
        .where(WebhookDelivery.job_id == job_id, WebhookDelivery.type == "job.note_added")
        .order_by(WebhookDelivery.id)
    ).all()
    assert len(queued) == 2
    assert receiver.event_ids() == [str(event_id) for event_id in queued]
