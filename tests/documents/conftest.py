"""Fixtures of the documents tests: the jobs tests' organization, team, customer and jobs,
and a document made through the API."""

# ruff: noqa: F811  (the jobs tests' fixtures are imported, then used as arguments)
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import (  # noqa: F401  (fixtures)
    customer,
    dispatcher,
    dispatcher_client,
    make_job,
    org,
    other_tech,
    tech,
    tech_client,
)

LINES = [
    {"description": "Diagnostic visit", "quantity": 1, "unit_price": 8900},
    {"description": "Drain pump", "quantity": 2, "unit_price": 4550},
]


@pytest.fixture
def job(make_job: Callable[..., Job], tech: Any) -> Job:
    return make_job(technician=tech)


@pytest.fixture
def create(dispatcher_client: ApiClient, job: Job) -> Callable[..., dict[str, Any]]:
    """Create a document on `job` through the API; its answer (asserting 201)."""

    def make(kind: str = "estimate", **body: Any) -> dict[str, Any]:
        answer = dispatcher_client.post(f"/v1/jobs/{job.id}/{kind}s", json={"lines": LINES, **body})
        assert answer.status_code == 201, answer.json
        result: dict[str, Any] = answer.json
        return result

    return make


def link_token(db: Any, job_id: Any) -> str:
    """The token of the last document link texted on the job."""
    from sqlalchemy import select

    from fieldapi.messaging.models import Message

    db.expire_all()
    bodies = db.scalars(
        select(Message.body).where(Message.job_id == job_id, Message.purpose.like("%_sent"))
    ).all()
    match = re.search(r"/d/([A-Za-z0-9_-]{22})", bodies[-1])
    assert match, bodies
    return match.group(1)


@pytest.fixture
def sent(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient, db: Any, job: Job
) -> Callable[..., tuple[dict[str, Any], str]]:
    """A document created and sent; it and its link's token."""

    def make(kind: str = "estimate", **body: Any) -> tuple[dict[str, Any], str]:
        document = create(kind, **body)
        answer = dispatcher_client.post(f"/v1/documents/{document['id']}/actions/send")
        assert answer.status_code == 200, answer.json
        return answer.json, link_token(db, job.id)

    return make
