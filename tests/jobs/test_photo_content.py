"""Photos are decoded and written anew: no metadata is kept, a polyglot is a 415, and the
bytes are served so that no browser takes them for anything but an image."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.jobs.models import Job, JobPhoto
from tests.conftest import ApiClient
from tests.jobs.conftest import table_counts
from tests.jobs.test_notes_photos import upload
from tests.photos import (
    GPS_IFD,
    HTML,
    HTML_BEHIND_A_JPEG_HEADER,
    JPEG,
    JPEG_WITH_HTML_AFTER,
    PNG,
    exif_with_gps,
    photo,
    png_claiming,
)


def stored_bytes(app: Flask, db: Session, photo_id: str) -> bytes:
    row = db.get_one(JobPhoto, photo_id)
    return (Path(app.config["PHOTO_DIR"]) / row.storage_key).read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
def test_exif_and_its_gps_position_are_gone_before_the_photo_is_stored(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    db: Session,
    app: Flask,
    fmt: str,
) -> None:
    sent = photo(fmt, exif=exif_with_gps())
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS_IFD)  # the upload has it
    response = upload(tech_client, make_job(technician=tech), sent, "p", visibility="public")
    assert response.status_code == 201, response.json

    kept = stored_bytes(app, db, response.json["id"])
    assert b"PhoneMaker" not in kept
    image = Image.open(io.BytesIO(kept))
    assert dict(image.getexif()) == {}
    assert image.size == (8, 8)
    assert response.json["size_bytes"] == len(kept)
    assert tech_client.get(response.json["url"]).data == kept


def test_an_exif_orientation_is_applied_to_the_pixels_before_it_goes(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient, db: Session, app: Flask
) -> None:
    sideways = photo("JPEG", size=(8, 4), exif=exif_with_gps(orientation=6))  # rotate 90°
    response = upload(tech_client, make_job(technician=tech), sideways, "p.jpg")
    assert response.status_code == 201
    image = Image.open(io.BytesIO(stored_bytes(app, db, response.json["id"])))
    assert image.size == (4, 8) and dict(image.getexif()) == {}


@pytest.mark.parametrize(
    "data",
    [HTML_BEHIND_A_JPEG_HEADER, JPEG_WITH_HTML_AFTER, PNG + HTML, JPEG[: len(JPEG) // 2]],
    ids=["html-behind-jpeg-header", "html-after-jpeg", "html-after-png", "truncated-jpeg"],
)
def test_a_file_that_is_not_only_a_photo_is_a_415_and_stores_nothing(
    make_job: Callable[..., Job],
    dispatcher_client: ApiClient,
    db: Session,
    app: Flask,
    data: bytes,
) -> None:
    job = make_job()
    files_before = sorted(Path(app.config["PHOTO_DIR"]).rglob("*"))
    before = table_counts(db)
    response = upload(dispatcher_client, job, data, "photo.jpg")
    assert response.status_code == 415, response.json
    assert "JPEG, PNG or HEIC" in response.json["message"]
    assert table_counts(db) == before
    assert sorted(Path(app.config["PHOTO_DIR"]).rglob("*")) == files_before


def test_a_photo_claiming_a_billion_pixels_is_refused_before_it_is_decoded(
    make_job: Callable[..., Job], dispatcher_client: ApiClient, db: Session
) -> None:
    job = make_job()
    before = table_counts(db)
    response = upload(dispatcher_client, job, png_claiming(40_000, 30_000), "bomb.png")
    assert response.status_code == 422
    assert "megapixels" in response.json["message"]
    assert table_counts(db) == before


def test_photos_are_served_as_images_only(
    make_job: Callable[..., Job], tech: User, tech_client: ApiClient
) -> None:
    response = upload(tech_client, make_job(technician=tech), JPEG, "../../x.html")
    fetched = tech_client.get(response.json["url"])
    assert fetched.status_code == 200
    assert fetched.mimetype == "image/jpeg"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert fetched.headers["Content-Disposition"] == f'inline; filename="{response.json["id"]}.jpg"'
    assert "sandbox" in fetched.headers["Content-Security-Policy"]
    assert HTML not in fetched.data
