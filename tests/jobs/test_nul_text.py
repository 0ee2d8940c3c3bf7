"""Text with a NUL character (which PostgreSQL cannot store) is a 422, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.jobs.models import Job, JobNote
from tests.conftest import ApiClient
from tests.test_app import assert_error_shape


def notes_of(db: Session, job: Job) -> list[str]:
    return list(db.scalars(select(JobNote.body).where(JobNote.job_id == job.id)))


def test_a_note_with_a_nul_character_is_a_422_that_stores_nothing(
    dispatcher_client: ApiClient, make_job: Callable[..., Job], db: Session
) -> None:
    job = make_job()
    response = dispatcher_client.post(
        f"/v1/jobs/{job.id}/notes", json={"body": "gate code 12\u000034", "visibility": "public"}
    )
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    assert "NUL" in response.json["message"]
    assert notes_of(db, job) == []


def test_the_text_backslash_u0000_is_only_text(
    dispatcher_client: ApiClient, make_job: Callable[..., Job], db: Session
) -> None:
    """A body whose raw bytes hold `\\u0000` as an escaped backslash is fine."""
    job = make_job()
    body = json.dumps({"body": "literally \\u0000", "visibility": "public"})
    assert "\\\\u0000" in body
    response = dispatcher_client.post(
        f"/v1/jobs/{job.id}/notes", data=body, content_type="application/json"
    )
    assert response.status_code == 201, response.json
    assert notes_of(db, job) == ["literally \\u0000"]


@pytest.mark.parametrize(
    "extra", [{"a\u0000": 1}, {"a": [1, {"b": ["ok", "n\u0000"]}]}], ids=["key", "deep"]
)
def test_a_nul_in_a_key_or_deep_in_a_list_counts_too(
    dispatcher_client: ApiClient, make_job: Callable[..., Job], db: Session, extra: object
) -> None:
    job = make_job()
    body = {"body": "fine", "visibility": "public", "extra": extra}
    response = dispatcher_client.post(f"/v1/jobs/{job.id}/notes", json=body)
    assert response.status_code == 422
    assert "NUL" in response.json["message"]
    assert notes_of(db, job) == []


@pytest.mark.parametrize("body", [b'{"title": "x\\u0000"}', b'{"title": "\\u0000"}'])
def test_a_job_title_with_a_nul_is_refused_before_the_view(
    dispatcher_client: ApiClient, db: Session, body: bytes
) -> None:
    before = db.scalar(select(func.count()).select_from(Job))
    response = dispatcher_client.post("/v1/jobs", data=body, content_type="application/json")
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(Job)) == before
