"""The jobs' lists read by indexes that bound them, whatever the organization's history:
planned with sequential scans made dear (`query_plans`), each statement shows its index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fieldapi.jobs.models import Job
from tests.conftest import ApiClient, plan_of


def test_the_newest_jobs_are_read_from_the_index_of_their_creation(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    query_plans: Callable[[], Any],
) -> None:
    make_job()
    with query_plans() as plans:
        answer = dispatcher_client.get("/v1/jobs")
    assert answer.status_code == 200 and len(answer.json["items"]) == 1
    plan = plan_of(plans, "FROM jobs", "ORDER BY jobs.created_at DESC")
    assert "ix_jobs_organization_id_created_at_id" in plan, plan
    assert "Sort" not in plan.split("Index Scan Backward")[0], plan
