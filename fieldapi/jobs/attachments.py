"""Notes and photos on jobs, and who may see them.

- customers: never (there is no customer API);
- the enterprise that provided the job: only `public` ones (`EnterpriseViewer`);
- technicians: every note and photo of the jobs they are assigned to (`visible_jobs`);
- dispatchers and Both: every note and photo of the organization.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound, PayloadTooLarge, Unprocessable
from fieldapi.jobs.activity import Acting, record_event
from fieldapi.jobs.models import VISIBILITIES, Job, JobNote, JobPhoto
from fieldapi.jobs.photo_content import clean_photo
from fieldapi.jobs.visibility import visible_jobs
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate
from fieldapi.storage import FileStore

MAX_NOTE_CHARS = 10_000


@dataclass(frozen=True)
class EnterpriseViewer:
    """A user of the enterprise that offered jobs (to any of its providers)."""

    enterprise_id: uuid.UUID


Viewer = Principal | EnterpriseViewer


def _job_clause(viewer: Viewer) -> ColumnElement[bool]:
    if isinstance(viewer, Principal):
        return visible_jobs(viewer)
    return Job.offered_by_id == viewer.enterprise_id


def _visible(viewer: Viewer, column: Any) -> ColumnElement[bool]:
    return true() if isinstance(viewer, Principal) else column == "public"


def _job(db: Session, viewer: Viewer, job_id: uuid.UUID) -> Job:
    job = db.scalar(select(Job).where(Job.id == job_id, _job_clause(viewer)))
    if job is None:
        raise NotFound("No such job.")
    return job


def _check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise Unprocessable(
            "visibility is public or private.", errors={"visibility": ["public or private"]}
        )
    return visibility


def add_note(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    body: str,
    visibility: str,
    now: datetime,
) -> JobNote:
    job = _job(db, principal, job_id)
    body = body.strip()
    if not body or len(body) > MAX_NOTE_CHARS:
        raise Unprocessable(
            f"A note is 1 to {MAX_NOTE_CHARS} characters.", errors={"body": ["Bad length."]}
        )
    note = JobNote(
        id=uuid.uuid4(),
        organization_id=job.organization_id,
        job_id=job.id,
        author_id=principal.user_id,
        body=body,
        visibility=_check_visibility(visibility),
        created_at=now,
    )
    db.add(note)
    record_event(
        db,
        job,
        action="note_added",
        at=now,
        acting=Acting.user(principal),
        details={"note_id": str(note.id), "visibility": visibility},
    )
    db.commit()
    return note


def list_notes(
    db: Session,
    viewer: Viewer,
    job_id: uuid.UUID,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[JobNote]:
    """Oldest first."""
    job = _job(db, viewer, job_id)
    return paginate(
        db,
        select(JobNote).where(
            JobNote.organization_id == job.organization_id,
            JobNote.job_id == job.id,
            _visible(viewer, JobNote.visibility),
        ),
        keys=(JobNote.created_at, JobNote.id),
        key_of=lambda note: (note.created_at, note.id),
        limit=limit,
        cursor=cursor,
    )


def add_photo(
    db: Session,
    principal: Principal,
    job_id: uuid.UUID,
    *,
    data: bytes,
    visibility: str,
    now: datetime,
    store: FileStore,
    max_bytes: int,
) -> JobPhoto:
    """Store the photo (decoded, re-encoded without metadata: `photo_content`), then the
    row; a failed commit takes the file away again."""
    job = _job(db, principal, job_id)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"A photo may be at most {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise Unprocessable("The file is empty.", errors={"file": ["Empty file."]})
    photo_file = clean_photo(data)
    photo = JobPhoto(
        id=uuid.uuid4(),
        organization_id=job.organization_id,
        job_id=job.id,
        author_id=principal.user_id,
        visibility=_check_visibility(visibility),
        content_type=photo_file.content_type,
        size_bytes=len(photo_file.data),
        sha256=hashlib.sha256(photo_file.data).hexdigest(),
        created_at=now,
    )
    photo.storage_key = f"{job.organization_id}/{photo.id}"
    db.add(photo)
    record_event(
        db,
        job,
        action="photo_added",
        at=now,
        acting=Acting.user(principal),
        details={"photo_id": str(photo.id), "visibility": visibility},
    )
    store.save(photo.storage_key, photo_file.data)
    try:
        db.commit()
    except BaseException:
        store.delete(photo.storage_key)
        raise
    return photo


def list_photos(
    db: Session,
    viewer: Viewer,
    job_id: uuid.UUID,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[JobPhoto]:
    job = _job(db, viewer, job_id)
    return paginate(
        db,
        select(JobPhoto).where(
            JobPhoto.organization_id == job.organization_id,
            JobPhoto.job_id == job.id,
            _visible(viewer, JobPhoto.visibility),
        ),
        keys=(JobPhoto.created_at, JobPhoto.id),
        key_of=lambda photo: (photo.created_at, photo.id),
        limit=limit,
        cursor=cursor,
    )


def get_photo(db: Session, viewer: Viewer, photo_id: uuid.UUID) -> JobPhoto:
    """A photo the viewer may see (404 otherwise, whatever the reason)."""
    photo = db.scalar(
        select(JobPhoto)
        .join(Job, Job.id == JobPhoto.job_id)
        .where(JobPhoto.id == photo_id, _job_clause(viewer), _visible(viewer, JobPhoto.visibility))
    )
    if photo is None:
        raise NotFound("No such photo.")
    return photo
