"""GET /v1/messages: the organization's texts with their delivery status, for dispatchers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Job
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient

Queue = Callable[..., Message]


def aged(db: Session, messages: list[Message]) -> list[Message]:
    """Give the texts distinct queue times, oldest first, a minute apart."""
    start = utcnow() - timedelta(hours=1)
    for n, message in enumerate(messages):
        message.queued_at = start + timedelta(minutes=n)
    db.commit()
    return messages


def test_a_jobs_texts_newest_first_with_their_status(
    dispatcher_client: ApiClient,
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
) -> None:
    job = make_job(org)
    older, newer = aged(db, [queue(org, job=job, body="on my way"), queue(org, job=job)])
    newer.status, newer.twilio_sid = "delivered", "SM" + "1" * 32
    queue(org, body="not this job's")
    db.commit()

    response = dispatcher_client.get(f"/v1/messages?job_id={job.id}")

    assert response.status_code == 200, response.json
    body = response.json
    assert [m["id"] for m in body["items"]] == [str(newer.id), str(older.id)]
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert first["status"] == "delivered" and first["job_id"] == str(job.id)
    assert first["to"] == newer.to_phone and first["purpose"] == "on_my_way"
    assert body["items"][1]["body"] == "on my way"
    assert set(first) >= {"queued_at", "sent_at", "delivered_at", "error_code", "attempts"}


def test_the_list_is_the_callers_organization_only_and_hides_passcodes(
    dispatcher_client: ApiClient,
    org: Organization,
    other_org: Organization,
    queue: Queue,
) -> None:
    mine = queue(org, body="ours")
    theirs = queue(other_org, body="theirs")
    code = queue(org, body="123456 is your login code", purpose="passcode")

    response = dispatcher_client.get("/v1/messages?limit=100")

    listed = {m["id"]: m for m in response.json["items"]}
    assert str(mine.id) in listed and str(theirs.id) not in listed
    assert listed[str(code.id)]["body"] is None
    assert "123456" not in response.get_data(as_text=True)


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    dispatcher_client: ApiClient,
    db: Session,
    org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
) -> None:
    job = make_job(org)
    messages = aged(db, [queue(org, job=job) for _ in range(5)])
    same_time = messages[1].queued_at
    messages[2].queued_at = same_time  # ties are broken by id
    db.commit()

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        url = f"/v1/messages?job_id={job.id}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = dispatcher_client.get(url).json
        pages += 1
        seen += [m["id"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]

    assert pages == 3
    assert sorted(seen) == sorted(str(m.id) for m in messages)
    assert len(set(seen)) == 5
    assert seen[0] == str(messages[4].id) and seen[-1] == str(messages[0].id)


@pytest.mark.parametrize(
    "query", ["cursor=not-a-cursor", "cursor=WyJ4IiwgInkiXQ", "limit=0", "limit=101", "job_id=12"]
)
def test_bad_query_values_are_422(dispatcher_client: ApiClient, query: str) -> None:
    response = dispatcher_client.get(f"/v1/messages?{query}")
    assert response.status_code == 422
    assert response.json["code"] == 422 and response.json["errors"]


def test_another_organizations_job_is_404(
    dispatcher_client: ApiClient,
    other_org: Organization,
    queue: Queue,
    make_job: Callable[..., Job],
) -> None:
    theirs = make_job(other_org)
    queue(other_org, job=theirs)

    for job_id in (theirs.id, uuid.uuid4()):
        response = dispatcher_client.get(f"/v1/messages?job_id={job_id}")
        assert response.status_code == 404
        assert response.json["code"] == 404


def test_technicians_are_403_and_strangers_401(
    client: ApiClient,
    org: Organization,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    technician = login_as(make_user(org, role="technician"))
    assert technician.get("/v1/messages").status_code == 403
    assert client.get("/v1/messages").status_code == 401


def test_users_with_both_roles_see_the_texts(
    org: Organization,
    queue: Queue,
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    message = queue(org)
    both = login_as(make_user(org, role="both"))
    response = both.get("/v1/messages")
    assert response.status_code == 200
    assert str(message.id) in {m["id"] for m in response.json["items"]}
