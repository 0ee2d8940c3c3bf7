"""Notes and photos, and who may see them."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs import attachments
from fieldapi.jobs.attachments import EnterpriseViewer
from fieldapi.jobs.commands import create_offer
from fieldapi.jobs.models import Customer, Job, JobNote, JobPhoto
from tests.conftest import ApiClient
from tests.jobs.conftest import activity_of, principal_of, table_counts
from tests.photos import HEIC, JPEG, PNG

GIF = b"GIF89a" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def upload(
    client: ApiClient,
    job: Job,
    data: bytes,
    name: str = "photo.jpg",
    visibility: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """A multipart upload, encoded in memory (the test client's own encoding spools large
    bodies to temporary files it never closes)."""
    form: dict[str, Any] = {"file": FileStorage(io.BytesIO(data), filename=name)}
    if visibility is not None:
        form["visibility"] = visibility
    stream, _length, boundary = stream_encode_multipart(form, use_tempfile=False)
    return client.post(
        f"/v1/jobs/{job.id}/photos",
        input_stream=stream,
        headers=headers,
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )


def test_notes_are_added_and_listed_oldest_first(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    job = make_job(technician=tech)
    first = tech_client.post(f"/v1/jobs/{job.id}/notes", json={"body": "Pilot light out"})
    assert first.status_code == 201, first.json
    assert first.json["visibility"] == "private"
    assert first.json["author"]["name"] == "Sam Ortiz"
    dispatcher_client.post(
        f"/v1/jobs/{job.id}/notes", json={"body": "Warranty covers it", "visibility": "public"}
    )
    listed = dispatcher_client.get(f"/v1/jobs/{job.id}/notes").json["items"]
    assert [(n["body"], n["visibility"]) for n in listed] == [
        ("Pilot light out", "private"),
        ("Warranty covers it", "public"),
    ]
    assert [n["author"]["name"] for n in listed] == ["Sam Ortiz", "Dana Reyes"]
    assert activity_of(db, job.id)[-1].action == "note_added"
    rows = db.scalars(select(JobNote).where(JobNote.job_id == job.id)).all()
    assert {r.body for r in rows} == {"Pilot light out", "Warranty covers it"}


@pytest.mark.parametrize(
    "body", [{"body": ""}, {"body": "  "}, {"body": "x", "visibility": "secret"}, {}]
)
def test_bad_notes_are_422(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    db: Session,
    body: dict[str, Any],
) -> None:
    job = make_job()
    before = table_counts(db)
    assert dispatcher_client.post(f"/v1/jobs/{job.id}/notes", json=body).status_code == 422
    assert table_counts(db) == before


def test_technicians_see_notes_and_photos_only_on_their_jobs(
    make_job: Callable[..., Job],
    tech: User,
    other_tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    theirs = make_job(technician=other_tech)
    dispatcher_client.post(f"/v1/jobs/{theirs.id}/notes", json={"body": "private stuff"})
    photo = upload(dispatcher_client, theirs, JPEG)
    assert photo.status_code == 201
    before = table_counts(db)
    assert tech_client.get(f"/v1/jobs/{theirs.id}/notes").status_code == 404
    assert tech_client.get(f"/v1/jobs/{theirs.id}/photos").status_code == 404
    assert tech_client.get(f"/v1/photos/{photo.json['id']}").status_code == 404
    assert tech_client.post(f"/v1/jobs/{theirs.id}/notes", json={"body": "hi"}).status_code == 404
    assert upload(tech_client, theirs, JPEG).status_code == 404
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (JPEG, "a.jpg", "image/jpeg"),
        (PNG, "b.png", "image/png"),
        (HEIC, "c.heic", "image/heic"),
        (JPEG, "misnamed.png", "image/jpeg"),
    ],
)
def test_photos_are_typed_by_their_content(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    db: Session,
    app: Flask,
    data: bytes,
    name: str,
    content_type: str,
) -> None:
    job = make_job(technician=tech)
    response = upload(tech_client, job, data, name, visibility="public")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["content_type"], body["size_bytes"], body["visibility"]) == (
        content_type,
        len(data),
        "public",
    )
    row = db.get_one(JobPhoto, body["id"])
    assert (Path(app.config["PHOTO_DIR"]) / row.storage_key).read_bytes() == data
    fetched = tech_client.get(body["url"])
    assert fetched.status_code == 200
    assert fetched.data == data and fetched.mimetype == content_type
    assert [p["id"] for p in tech_client.get(f"/v1/jobs/{job.id}/photos").json["items"]] == [
        body["id"]
    ]


@pytest.mark.parametrize(
    ("data", "name"), [(GIF, "cat.jpg"), (PDF, "scan.png"), (b"hello world" * 10, "x.heic")]
)
def test_other_files_are_415_whatever_their_name(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    db: Session,
    app: Flask,
    data: bytes,
    name: str,
) -> None:
    job = make_job()
    files_before = sorted(Path(app.config["PHOTO_DIR"]).rglob("*"))
    before = table_counts(db)
    response = upload(dispatcher_client, job, data, name)
    assert response.status_code == 415, response.json
    assert "JPEG, PNG or HEIC" in response.json["message"]
    assert table_counts(db) == before
    assert sorted(Path(app.config["PHOTO_DIR"]).rglob("*")) == files_before


def test_photos_over_the_limit_are_413(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    db: Session,
    app: Flask,
) -> None:
    job = make_job()
    limit = app.config["MAX_PHOTO_BYTES"]
    before = table_counts(db)
    just_over = upload(dispatcher_client, job, JPEG + b"\x00" * (limit + 1 - len(JPEG)))
    assert just_over.status_code == 413, just_over.json
    way_over = upload(dispatcher_client, job, JPEG + b"\x00" * (limit + 200_000))
    assert way_over.status_code == 413
    assert way_over.is_json
    assert table_counts(db) == before
    at_limit = upload(dispatcher_client, job, JPEG + b"\x00" * (limit - len(JPEG)))
    assert at_limit.status_code == 201


@pytest.mark.parametrize("form", [{}, {"visibility": "friends"}])
def test_bad_uploads_are_422(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    db: Session,
    form: dict[str, Any],
) -> None:
    job = make_job()
    if "visibility" in form:
        response = upload(dispatcher_client, job, JPEG, visibility=form["visibility"])
    else:
        response = dispatcher_client.post(
            f"/v1/jobs/{job.id}/photos", data=form, content_type="multipart/form-data"
        )
    assert response.status_code == 422
    empty = upload(dispatcher_client, job, b"")
    assert empty.status_code == 422
    assert db.scalars(select(JobPhoto).where(JobPhoto.job_id == job.id)).all() == []


def test_the_enterprise_sees_only_public_notes_and_photos_of_jobs_it_provided(
    db: Session,
    org: Organization,
    customer: Customer,
    dispatcher: User,
    tech: User,
    make_job: Callable[..., Job],
) -> None:
    job_id = create_offer(
        db,
        organization_id=org.id,
        provider_name="Acme Warranty",
        customer_id=customer.id,
        title="Warranty job",
        now=utcnow(),
    )
    own_job = make_job(technician=tech)
    me = principal_of(dispatcher)
    for job in (job_id, own_job.id):
        attachments.add_note(db, me, job, body="public note", visibility="public", now=utcnow())
        attachments.add_note(db, me, job, body="private note", visibility="private", now=utcnow())
    acme = EnterpriseViewer(org.id, "Acme Warranty")
    notes = attachments.list_notes(db, acme, job_id).items
    assert [n.body for n in notes] == ["public note"]
    assert [n.body for n in attachments.list_notes(db, me, job_id).items] == [
        "public note",
        "private note",
    ]
    with pytest.raises(Exception, match="No such job"):
        attachments.list_notes(db, acme, own_job.id)
    with pytest.raises(Exception, match="No such job"):
        attachments.list_notes(db, EnterpriseViewer(org.id, "Other Brand"), job_id)


def test_the_enterprise_photo_filter(
    db: Session, org: Organization, customer: Customer, dispatcher: User, tmp_path: Path
) -> None:
    from fieldapi.storage import DirectoryStore

    job_id = create_offer(
        db,
        organization_id=org.id,
        provider_name="Acme Warranty",
        customer_id=customer.id,
        title="Warranty job",
        now=utcnow(),
    )
    store, me = DirectoryStore(tmp_path), principal_of(dispatcher)
    shown = attachments.add_photo(
        db, me, job_id, data=JPEG, visibility="public", now=utcnow(), store=store, max_bytes=1000
    )
    hidden = attachments.add_photo(
        db, me, job_id, data=PNG, visibility="private", now=utcnow(), store=store, max_bytes=1000
    )
    acme = EnterpriseViewer(org.id, "Acme Warranty")
    assert [p.id for p in attachments.list_photos(db, acme, job_id).items] == [shown.id]
    assert attachments.get_photo(db, acme, shown.id).id == shown.id
    with pytest.raises(Exception, match="No such photo"):
        attachments.get_photo(db, acme, hidden.id)
    assert store.load(hidden.storage_key) == PNG
