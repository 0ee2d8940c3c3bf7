"""Idempotency-Key: a retried POST returns the first answer and changes nothing again."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from fieldapi.accounts.models import User
from fieldapi.db import utcnow
from fieldapi.idempotency import IdempotencyKey, prune_expired_keys
from fieldapi.jobs.models import Customer, Job, JobPhoto
from tests.conftest import ApiClient
from tests.jobs.conftest import table_counts, texts_of
from tests.photos import JPEG

KEY = {"Idempotency-Key": "3f1c9a52-retry-me"}


def new_job(customer: Customer, title: str = "Furnace") -> dict[str, str]:
    return {"customer_id": str(customer.id), "title": title}


def test_a_retry_replays_the_first_answer(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    first = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    assert first.status_code == 201
    after_first = table_counts(db)
    again = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert table_counts(db) == after_first


def test_the_body_is_compared_by_value(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    first = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    reordered = json.dumps({"title": "Furnace", "customer_id": str(customer.id)}, indent=3)
    again = dispatcher_client.post(
        "/v1/jobs", data=reordered, headers=KEY, content_type="application/json"
    )
    assert again.status_code == 201 and again.json["id"] == first.json["id"]


def test_the_same_key_with_another_body_is_422(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    before = table_counts(db)
    other = dispatcher_client.post("/v1/jobs", json=new_job(customer, "Boiler"), headers=KEY)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    elsewhere = dispatcher_client.post(f"/v1/customers/{customer.id}", json={}, headers=KEY)
    assert elsewhere.status_code == 405  # not a POST route: the key plays no part
    assert table_counts(db) == before


def test_keys_belong_to_their_user(
    dispatcher_client: ApiClient,
    both: User,
    login_as: Callable[[User], ApiClient],
    customer: Customer,
    db: Session,
) -> None:
    mine = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    theirs = login_as(both).post("/v1/jobs", json=new_job(customer), headers=KEY)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json["id"] != mine.json["id"]


def test_a_retried_action_does_not_text_twice(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    path = f"/v1/appointments/{job.appointments[0].id}/actions/on-my-way"
    first = tech_client.post(path, json={"lat": 41.88, "lon": -87.63}, headers=KEY)
    again = tech_client.post(path, json={"lat": 41.88, "lon": -87.63}, headers=KEY)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    assert len(texts_of(db, job.id)) == 1
    without_key = tech_client.post(path, json={"lat": 41.88, "lon": -87.63})
    assert without_key.status_code == 409


def test_a_failed_request_leaves_the_key_free(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session
) -> None:
    job = make_job(technician=tech)
    path = f"/v1/appointments/{job.appointments[0].id}/actions/complete"
    wrong = tech_client.post(path, json={"reason_code": "nope"}, headers=KEY)
    assert wrong.status_code == 422
    assert db.scalars(select(IdempotencyKey)).all() == []
    right = tech_client.post(path, json={"reason_code": "repaired"}, headers=KEY)
    assert right.status_code == 200 and right.json["status"] == "complete"


def test_an_expired_key_can_be_used_again(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    first = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    db.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    other = dispatcher_client.post("/v1/jobs", json=new_job(customer, "Boiler"), headers=KEY)
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    assert prune_expired_keys(db, now=utcnow() + timedelta(days=2)) == 1
    assert db.scalars(select(IdempotencyKey)).all() == []


def test_the_stored_key_is_scoped_and_expires(
    dispatcher_client: ApiClient, dispatcher: User, customer: Customer, db: Session, app: Flask
) -> None:
    dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    [row] = db.scalars(select(IdempotencyKey)).all()
    assert (row.organization_id, row.user_id, row.key) == (
        dispatcher.organization_id,
        dispatcher.id,
        KEY["Idempotency-Key"],
    )
    assert (row.method, row.path, row.status_code) == ("POST", "/v1/jobs", 201)
    ttl = row.expires_at - row.created_at
    assert ttl == timedelta(seconds=app.config["IDEMPOTENCY_TTL"]) == timedelta(hours=24)


def test_bad_keys_are_400(dispatcher_client: ApiClient, customer: Customer, db: Session) -> None:
    before = table_counts(db)
    for key in ("", "x" * 256, "has space", "caf\u00e9"):
        response = dispatcher_client.post(
            "/v1/jobs", json=new_job(customer), headers={"Idempotency-Key": key}
        )
        assert response.status_code == 400, key
    assert table_counts(db) == before


def test_a_retried_upload_stores_one_photo(
    make_job: Callable[..., Job], dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job()
    jpeg = JPEG
    answers = []
    for _ in range(2):
        form = {"file": FileStorage(io.BytesIO(jpeg), filename="a.jpg"), "visibility": "public"}
        stream, _length, boundary = stream_encode_multipart(form, use_tempfile=False)
        answers.append(
            dispatcher_client.post(
                f"/v1/jobs/{job.id}/photos",
                input_stream=stream,
                headers=KEY,
                content_type=f'multipart/form-data; boundary="{boundary}"',
            )
        )
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json == answers[1].json
    assert len(db.scalars(select(JobPhoto).where(JobPhoto.job_id == job.id)).all()) == 1


def test_every_mutating_post_of_jobs_takes_the_key(app: Flask) -> None:
    with app.app_context():
        paths = app.extensions["fieldapi.api"].spec.to_dict()["paths"]
    mine = ("/v1/jobs", "/v1/appointments", "/v1/customers")
    posts = {
        path: ops["post"] for path, ops in paths.items() if path.startswith(mine) and "post" in ops
    }
    assert len(posts) >= 10
    for path, operation in posts.items():
        names = [p.get("name") for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, path


def test_a_key_whose_answer_was_lost_says_so_instead_of_retry_in_a_second(
    dispatcher_client: ApiClient, customer: Customer, db: Session
) -> None:
    first = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    assert first.status_code == 201
    # As if the job committed and the request then failed before its answer was stored.
    db.execute(
        update(IdempotencyKey).values(status_code=None, response_body=None, response_headers=None)
    )
    in_flight = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)
    assert in_flight.status_code == 409
    assert in_flight.headers["Retry-After"] == "1"
    assert "still being processed" in in_flight.json["message"]

    db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(minutes=3)))
    lost = dispatcher_client.post("/v1/jobs", json=new_job(customer), headers=KEY)

    assert lost.status_code == 409
    assert "Retry-After" not in lost.headers
    assert "carried out, but its answer was lost" in lost.json["message"]
    assert len(db.scalars(select(Job).where(Job.customer_id == customer.id)).all()) == 1
