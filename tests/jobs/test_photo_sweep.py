"""The sweep of photo files no row points to (left by an upload killed before its commit)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.jobs.models import Customer, Job, JobPhoto
from fieldapi.jobs.photo_sweep import sweep_orphan_photos
from fieldapi.periodic import periodic_work
from fieldapi.storage import DirectoryStore
from tests.conftest import ApiClient
from tests.jobs.test_notes_photos import upload
from tests.photos import JPEG, PNG

GRACE = timedelta(hours=1)


@pytest.fixture
def photo_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own photo directory, for the API and the sweep alike."""
    root = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(root))
    return root


@pytest.fixture
def store(photo_dir: Path) -> DirectoryStore:
    return DirectoryStore(photo_dir)


def age(path: Path, now: datetime, by: timedelta) -> None:
    moment = (now - by).timestamp()
    os.utime(path, (moment, moment))


def orphan(store: DirectoryStore, org: Organization, now: datetime, by: timedelta) -> Path:
    """A file saved as `add_photo` saves one, whose row never got committed."""
    key = f"{org.id}/{uuid.uuid4()}"
    store.save(key, JPEG)
    age(store.root / key, now, by)
    return store.root / key


def photo_path(
    client: ApiClient, job: Job, db: Session, photo_dir: Path, data: bytes = JPEG
) -> Path:
    response = upload(client, job, data)
    assert response.status_code == 201, response.json
    path = photo_dir / db.get_one(JobPhoto, response.json["id"]).storage_key
    assert path.read_bytes() == data
    return path


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_an_old_orphan_is_deleted_a_fresh_one_and_photos_with_rows_are_kept(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    org: Organization,
    db: Session,
    photo_dir: Path,
    store: DirectoryStore,
) -> None:
    now = utcnow()
    job = make_job()
    ancient_photo = photo_path(dispatcher_client, job, db, photo_dir)
    new_photo = photo_path(dispatcher_client, job, db, photo_dir, PNG)
    age(ancient_photo, now, timedelta(days=400))
    old_orphan = orphan(store, org, now, GRACE + timedelta(minutes=1))
    fresh_orphan = orphan(store, org, now, GRACE - timedelta(minutes=1))

    assert sweep_orphan_photos(db, store, now=now, grace=GRACE) == 1

    assert not old_orphan.exists()
    assert fresh_orphan.read_bytes() == JPEG
    assert ancient_photo.read_bytes() == JPEG and new_photo.read_bytes() == PNG
    assert db.scalar(select(JobPhoto.storage_key).where(JobPhoto.job_id == job.id)) is not None
    # Once past the grace the other orphan goes too; the photos with rows stay.
    assert sweep_orphan_photos(db, store, now=now + timedelta(minutes=2), grace=GRACE) == 1
    assert not fresh_orphan.exists()
    assert files_under(photo_dir) == {
        ancient_photo.relative_to(photo_dir).as_posix(),
        new_photo.relative_to(photo_dir).as_posix(),
    }


def test_files_that_are_not_photo_keys_are_left_alone(
    org: Organization, db: Session, photo_dir: Path, store: DirectoryStore
) -> None:
    now = utcnow()
    org_dir = photo_dir / str(org.id)
    org_dir.mkdir(parents=True)
    strays = [
        org_dir / ".upload-k3j2h1",  # a save in flight (or killed mid-write)
        photo_dir / "README.txt",
        photo_dir / "backup" / "notes",  # a valid storage key, but not a photo's
        org_dir / str(uuid.uuid4()).upper(),  # not the form add_photo writes
        org_dir / str(uuid.uuid4()) / "extra",
    ]
    for path in strays:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"keep me")
        age(path, now, timedelta(days=30))
    gone = orphan(store, org, now, timedelta(days=30))

    assert sweep_orphan_photos(db, store, now=now, grace=GRACE) == 1

    assert not gone.exists()
    assert all(path.read_bytes() == b"keep me" for path in strays)


def test_another_organizations_photos_are_kept(
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    make_job: Callable[..., Job],
    login_as: Callable[[User], ApiClient],
    dispatcher_client: ApiClient,
    org: Organization,
    db: Session,
    photo_dir: Path,
    store: DirectoryStore,
) -> None:
    now = utcnow()
    other = make_org(name="Northside Plumbing")
    other_dispatcher = make_user(other, role="dispatcher", name="Ola Berg")
    other_job = make_job(
        customer_id=make_customer(other, phone="+13122000999").id, by=other_dispatcher
    )
    assert other_job.organization_id == other.id
    theirs = photo_path(login_as(other_dispatcher), other_job, db, photo_dir)
    ours = photo_path(dispatcher_client, make_job(), db, photo_dir)
    their_orphan = orphan(store, other, now, timedelta(days=2))
    for path in (theirs, ours):
        age(path, now, timedelta(days=2))

    assert sweep_orphan_photos(db, store, now=now, grace=GRACE) == 1

    assert theirs.parent.name == str(other.id) and theirs.read_bytes() == JPEG
    assert ours.parent.name == str(org.id) and ours.read_bytes() == JPEG
    assert not their_orphan.exists()


def test_keys_are_checked_one_query_per_batch(
    org: Organization,
    db: Session,
    store: DirectoryStore,
    count_queries: Callable[[], Any],
) -> None:
    now = utcnow()
    orphans = [orphan(store, org, now, timedelta(days=1)) for _ in range(5)]

    with count_queries() as statements:
        deleted = sweep_orphan_photos(db, store, now=now, grace=GRACE, batch_size=2)

    assert deleted == 5 and not any(path.exists() for path in orphans)
    assert len(statements) == 3
    assert all("job_photos" in statement for statement in statements)


def test_the_store_lists_only_keys_older_than_the_moment(
    org: Organization, store: DirectoryStore
) -> None:
    now = utcnow()
    old = orphan(store, org, now, timedelta(minutes=10))
    orphan(store, org, now, timedelta(minutes=5))
    link = store.root / "elsewhere"
    link.symlink_to(old)
    moment = (now - timedelta(days=1)).timestamp()
    os.utime(link, (moment, moment), follow_symlinks=False)

    assert list(store.keys_older_than(now - timedelta(minutes=7))) == [
        old.relative_to(store.root).as_posix()
    ]
    assert len(list(store.keys_older_than(now))) == 2
    assert list(DirectoryStore(store.root / "missing").keys_older_than(now)) == []
    with pytest.raises(ValueError, match="aware"):
        list(store.keys_older_than(now.replace(tzinfo=None)))


def test_the_workers_periodic_work_sweeps_the_configured_photo_store(
    app: Flask,
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    org: Organization,
    db: Session,
    photo_dir: Path,
    store: DirectoryStore,
) -> None:
    now = utcnow()
    kept = photo_path(dispatcher_client, make_job(), db, photo_dir)
    age(kept, now, timedelta(days=3))
    config = dict(app.config, PHOTO_ORPHAN_GRACE_MINUTES=30)
    past_grace = orphan(store, org, now, timedelta(minutes=31))
    within_grace = orphan(store, org, now, timedelta(minutes=29))

    periodic_work(db, now, config)

    assert not past_grace.exists()
    assert within_grace.exists() and kept.read_bytes() == JPEG
