"""Fixtures of the documents tests: the jobs tests' organization, team, customer and jobs,
and a document made through the API."""

from __future__ import annotations

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
def job(make_job: Callable[..., Job], tech: Any) -> Job:  # noqa: F811
    return make_job(technician=tech)


@pytest.fixture
def create(dispatcher_client: ApiClient, job: Job) -> Callable[..., dict[str, Any]]:  # noqa: F811
    """Create a document on `job` through the API; its answer (asserting 201)."""

    def make(kind: str = "estimate", **body: Any) -> dict[str, Any]:
        answer = dispatcher_client.post(f"/v1/jobs/{job.id}/{kind}s", json={"lines": LINES, **body})
        assert answer.status_code == 201, answer.json
        result: dict[str, Any] = answer.json
        return result

    return make
