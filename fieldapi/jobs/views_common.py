"""Answer shapes shared by the views of this capability."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.auth import current_principal
from fieldapi.db import session
from fieldapi.jobs.attachments import authors_of
from fieldapi.jobs.models import JobNote, JobPhoto
from fieldapi.jobs.queries import get_job
from fieldapi.pagination import Page


def job_answer(job_id: uuid.UUID) -> dict[str, Any]:
    return get_job(session(), current_principal(), job_id)


def page_answer(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


def _author(author_id: uuid.UUID | None, names: dict[uuid.UUID, str]) -> dict[str, Any] | None:
    return None if author_id is None else {"id": author_id, "name": names.get(author_id)}


def note_view(note: JobNote, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": note.id,
        "job_id": note.job_id,
        "body": note.body,
        "visibility": note.visibility,
        "author": _author(note.author_id, names),
        "created_at": note.created_at,
    }


def photo_view(photo: JobPhoto, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": photo.id,
        "job_id": photo.job_id,
        "visibility": photo.visibility,
        "content_type": photo.content_type,
        "size_bytes": photo.size_bytes,
        "url": f"/v1/photos/{photo.id}",
        "author": _author(photo.author_id, names),
        "created_at": photo.created_at,
    }


def note_page(db: Session, page: Page[JobNote]) -> dict[str, Any]:
    names = authors_of(db, page.items)
    return page_answer(Page([note_view(n, names) for n in page.items], page.next_cursor))


def photo_page(db: Session, page: Page[JobPhoto]) -> dict[str, Any]:
    names = authors_of(db, page.items)
    return page_answer(Page([photo_view(p, names) for p in page.items], page.next_cursor))
