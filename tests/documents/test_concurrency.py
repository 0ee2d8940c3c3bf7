"""Two dispatchers creating documents at once never get the same number."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.documents.models import Document
from fieldapi.jobs import commands
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import Customer
from fieldapi.onboarding import create_organization
from tests.conftest import ApiClient, committed_client, requests_waiting_on_locks, unique_phone
from tests.documents.conftest import LINES
from tests.jobs.conftest import principal_of


def test_two_dispatchers_creating_at_once_get_different_numbers(
    app: Flask, engine: Engine, committed: Session
) -> None:
    db = committed
    organization, dana = create_organization(
        db, name="Race Co", owner_name="Dana", owner_phone=unique_phone()
    )
    lee = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Lee",
        phone=unique_phone(),
        role="dispatcher",
    )
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Maria",
        phone="+13122000201",
        address="Addison St",
        timezone="America/Chicago",
        site=site_point(41.9484, -87.6553),
    )
    db.add_all([lee, customer])
    db.commit()
    job_id = commands.create_job(
        db,
        principal_of(dana),
        customer_id=customer.id,
        title="Furnace",
        appointment=commands.AppointmentInput(utcnow() + timedelta(hours=1), 60, None),
        now=utcnow(),
    )
    clients = [committed_client(app, db, dana), committed_client(app, db, lee)]
    first = clients[0].post(f"/v1/jobs/{job_id}/estimates", json={"lines": LINES})
    assert first.json["number"] == "EST-0001"
    results: list[Any] = []

    def create(client: ApiClient) -> None:
        answer = client.post(f"/v1/jobs/{job_id}/estimates", json={"lines": LINES})
        results.append((answer.status_code, answer.json["number"]))

    # Hold the counter so both requests are inside the service at once, waiting; a
    # "max(number) + 1" without the counter's lock would not wait and would collide.
    with engine.connect() as holder:
        holder.execute(
            text("SELECT 1 FROM document_counters WHERE organization_id = :o FOR UPDATE"),
            {"o": organization.id},
        )
        threads = [threading.Thread(target=create, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while requests_waiting_on_locks(engine) < 2:
            assert time.monotonic() < deadline, "the requests never waited for the counter"
            time.sleep(0.05)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [(201, "EST-0002"), (201, "EST-0003")]
    db.expire_all()
    numbers = db.scalars(select(Document.number).where(Document.job_id == job_id)).all()
    assert sorted(numbers) == [1, 2, 3]
