"""Fixtures of the customer's side: the jobs tests' organization, team and jobs, and the
tracking link a visit's on-my-way text carries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.jobs.models import Job
from tests.conftest import ApiClient
from tests.jobs.conftest import (  # noqa: F401 (fixtures)
    customer,
    dispatcher,
    dispatcher_client,
    make_job,
    org,
    tech,
    tech_client,
    texts_of,
)


def tracking_token(db: Session, job: Job) -> str:
    """The token in the job's on-my-way text."""
    [text] = [m for m in texts_of(db, job.id) if m.purpose == "on_my_way"]
    return text.body.rsplit("/t/", 1)[1]


@pytest.fixture
def on_the_way(
    make_job: Callable[..., Job],  # noqa: F811 (the imported fixtures, asked for)
    tech: Any,  # noqa: F811
    tech_client: ApiClient,  # noqa: F811
    db: Session,
) -> Callable[..., tuple[Job, str]]:
    """A job whose technician pressed on-my-way (from `lat`, `lon`), and its token."""

    def start(lat: float = 41.8789, lon: float = -87.6359) -> tuple[Job, str]:
        job = make_job(technician=tech)
        response = tech_client.post(
            f"/v1/appointments/{job.appointments[0].id}/actions/on-my-way",
            json={"lat": lat, "lon": lon},
        )
        assert response.status_code == 200, response.json
        return job, tracking_token(db, job)

    return start
