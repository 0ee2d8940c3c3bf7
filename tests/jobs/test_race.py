"""Two phones press a button on the same appointment at once: exactly one wins."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.jobs import commands
from fieldapi.jobs.customers import site_point
from fieldapi.jobs.models import ActivityEvent, Appointment, Customer
from fieldapi.messaging.models import Message
from fieldapi.onboarding import create_organization
from tests.conftest import ApiClient, committed_client, requests_waiting_on_locks, unique_phone
from tests.jobs.conftest import principal_of


def test_two_phones_starting_the_same_appointment(
    app: Flask, engine: Engine, committed: Session
) -> None:
    db = committed
    organization, dispatcher = create_organization(
        db,
        name="Race Co",
        owner_name="Dana Reyes",
        owner_phone=unique_phone(),
        timezone="America/Chicago",
    )
    tech = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="Sam Ortiz",
        phone=unique_phone(),
        role="technician",
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
    db.add_all([tech, customer])
    db.commit()
    job_id = commands.create_job(
        db,
        principal_of(dispatcher),
        customer_id=customer.id,
        title="Furnace",
        appointment=commands.AppointmentInput(utcnow() + timedelta(hours=1), 60, tech.id),
        now=utcnow(),
    )
    appointment_id = db.scalar(select(Appointment.id).where(Appointment.job_id == job_id))
    phones = [committed_client(app, db, tech), committed_client(app, db, dispatcher)]
    results: list[Any] = []

    def press(client: ApiClient) -> None:
        response = client.post(f"/v1/appointments/{appointment_id}/actions/start", json={})
        results.append((response.status_code, response.json))

    # Hold the job row so both requests are inside the service, waiting on the lock,
    # before either can decide: without the service's FOR UPDATE neither would wait here.
    with engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM jobs WHERE id = :id FOR UPDATE"), {"id": job_id})
        threads = [threading.Thread(target=press, args=(phone,)) for phone in phones]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while requests_waiting_on_locks(engine) < 2:
            assert time.monotonic() < deadline, "the requests never waited for the job lock"
            time.sleep(0.05)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(code for code, _ in results) == [200, 409]
    refused = next(body for code, body in results if code == 409)
    assert "the appointment is started" in refused["message"]
    db.expire_all()
    assert db.scalar(select(Appointment.status).where(Appointment.id == appointment_id)) == (
        "started"
    )
    starts = db.scalar(
        select(func.count()).where(ActivityEvent.job_id == job_id, ActivityEvent.action == "start")
    )
    texts = db.scalar(select(func.count()).where(Message.job_id == job_id))
    assert (starts, texts) == (1, 1)
