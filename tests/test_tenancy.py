"""Another organization's data is invisible: every endpoint that takes an id answers 404
for another organization's ids, exactly as for ids that do not exist, and changes nothing."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.documents.models import Document, DocumentCounter
from fieldapi.enterprise.models import Connection
from fieldapi.jobs.models import Appointment, Customer, Job, JobNote, JobPhoto
from fieldapi.locations.models import TrackerDevice
from fieldapi.messaging.models import Message
from fieldapi.onboarding import create_organization
from tests.conftest import ApiClient, unique_phone

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
SOON = (utcnow() + timedelta(days=2)).replace(microsecond=0).isoformat()

# A valid request for each id-taking endpoint, so that a 404 is about the id, not the body.
DOCUMENT_LINES = [{"description": "x", "quantity": 1, "unit_price": 100}]

REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/v1/appointments/<uuid:appointment_id>"): {},
    ("PATCH", "/v1/appointments/<uuid:appointment_id>"): {"json": {"duration_min": 90}},
    ("DELETE", "/v1/appointments/<uuid:appointment_id>"): {},
    ("POST", "/v1/appointments/<uuid:appointment_id>/actions/complete"): {
        "json": {"reason_code": "repaired"}
    },
    ("POST", "/v1/appointments/<uuid:appointment_id>/actions/on-my-way"): {"json": {}},
    ("POST", "/v1/appointments/<uuid:appointment_id>/actions/pause"): {"json": {}},
    ("POST", "/v1/appointments/<uuid:appointment_id>/actions/start"): {"json": {}},
    ("GET", "/v1/customers/<uuid:customer_id>"): {},
    ("GET", "/v1/tracking/<token>"): {},  # no id: any token of another visit is just unknown
    # Slugs, not ids: the booking endpoints need no account and answer 404 to unknown ones.
    ("POST", "/v1/bookings/<slug>"): {
        "json": {
            "name": "Ana",
            "phone": "+13125550142",
            "passcode": "123456",
            "address": "3600 N Clark St",
            "description": "Loud furnace",
        }
    },
    ("POST", "/v1/bookings/<slug>/passcode"): {"json": {"phone": "+13125550142"}},
    ("PATCH", "/v1/customers/<uuid:customer_id>"): {"json": {"name": "Taken Over"}},
    ("GET", "/v1/jobs/<uuid:job_id>"): {},
    ("PATCH", "/v1/jobs/<uuid:job_id>"): {"json": {"title": "Taken Over"}},
    ("POST", "/v1/jobs/<uuid:job_id>/actions/accept"): {"json": {}},
    ("POST", "/v1/jobs/<uuid:job_id>/actions/cancel"): {"json": {}},
    ("POST", "/v1/jobs/<uuid:job_id>/actions/decline"): {"json": {}},
    ("POST", "/v1/jobs/<uuid:job_id>/actions/reopen"): {"json": {}},
    ("GET", "/v1/jobs/<uuid:job_id>/activity"): {},
    ("POST", "/v1/jobs/<uuid:job_id>/appointments"): {
        "json": {"starts_at": SOON, "duration_min": 60}
    },
    ("POST", "/v1/jobs/<uuid:job_id>/notes"): {"json": {"body": "hi", "visibility": "public"}},
    ("GET", "/v1/jobs/<uuid:job_id>/notes"): {},
    ("POST", "/v1/jobs/<uuid:job_id>/photos"): {"photo": True},
    ("GET", "/v1/jobs/<uuid:job_id>/photos"): {},
    ("GET", "/v1/photos/<uuid:photo_id>"): {},
    ("PATCH", "/v1/team/<uuid:user_id>"): {"json": {"name": "Taken Over"}},
    ("POST", "/v1/connections/<uuid:connection_id>/actions/<any(accept, decline):action>"): {},
    ("DELETE", "/v1/connections/<uuid:connection_id>"): {},
    ("GET", "/v1/jobs/<uuid:job_id>/documents"): {},
    ("GET", "/v1/jobs/<uuid:job_id>/estimates"): {},
    ("POST", "/v1/jobs/<uuid:job_id>/estimates"): {"json": {"lines": DOCUMENT_LINES}},
    ("GET", "/v1/jobs/<uuid:job_id>/invoices"): {},
    ("POST", "/v1/jobs/<uuid:job_id>/invoices"): {"json": {"lines": DOCUMENT_LINES}},
    ("GET", "/v1/documents/<uuid:document_id>"): {},
    ("PATCH", "/v1/documents/<uuid:document_id>"): {"json": {"notes": "taken over"}},
    ("GET", "/v1/documents/<uuid:document_id>.pdf"): {},
    ("POST", "/v1/documents/<uuid:document_id>/revisions"): {"json": {"lines": DOCUMENT_LINES}},
    ("POST", "/v1/documents/<uuid:document_id>/actions/<any(send, void, 'mark-paid'):action>"): {},
    ("GET", "/v1/enterprise/documents/<uuid:document_id>.pdf"): {},
    # no id: the token is the key (tests/documents covers dead and unknown tokens)
    ("GET", "/v1/document-links/<token>"): {},
    ("POST", "/v1/document-links/<token>/<any(approve, decline):action>"): {},
    # The enterprise side: a provider's user finds nothing there (the enterprise's own walk
    # is tests/enterprise/test_tenancy.py).
    ("DELETE", "/v1/enterprise/connections/<uuid:connection_id>"): {},
    ("GET", "/v1/enterprise/jobs/<uuid:job_id>"): {},
    ("GET", "/v1/enterprise/jobs/<uuid:job_id>/activity"): {},
    ("GET", "/v1/enterprise/jobs/<uuid:job_id>/notes"): {},
    ("GET", "/v1/enterprise/jobs/<uuid:job_id>/photos"): {},
    ("POST", "/v1/enterprise/jobs/<uuid:job_id>/reminders"): {"json": {}},
    ("GET", "/v1/enterprise/photos/<uuid:photo_id>"): {},
    ("DELETE", "/v1/me/devices/<uuid:device_id>"): {},
    ("DELETE", "/v1/team/devices/<uuid:device_id>"): {},
    ("GET", "/v1/users/<uuid:user_id>/track"): {
        "query": {
            "since": (utcnow() - timedelta(hours=2)).isoformat(),
            "until": utcnow().isoformat(),
        }
    },
}

# Endpoints that take another organization's id in the query string.
QUERY_ID_REQUESTS: list[tuple[str, str, str]] = [
    ("/v1/messages", "job_id", "job"),
]


@dataclass
class Victim:
    organization: Organization
    ids: dict[str, uuid.UUID]


@pytest.fixture
def victim(
    db: Session,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    tmp_path: Any,
) -> Victim:
    organization = make_org(name="Victim Plumbing")
    tech = make_user(organization, role="technician")
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=organization.id,
        name="C",
        phone="+13122000299",
        address="x",
        timezone="America/Chicago",
        site=from_shape(Point(-87.65, 41.95), srid=4326),
    )
    job = Job(
        id=uuid.uuid4(),
        organization_id=organization.id,
        customer_id=customer.id,
        title="Leak",
        status="scheduled",
        offer_state="none",
    )
    appointment = Appointment(
        id=uuid.uuid4(),
        organization_id=organization.id,
        job_id=job.id,
        starts_at=utcnow() + timedelta(hours=3),
        duration_min=60,
        technician_id=tech.id,
        status="scheduled",
    )
    note = JobNote(
        id=uuid.uuid4(),
        organization_id=organization.id,
        job_id=job.id,
        body="secret",
        visibility="private",
    )
    photo = JobPhoto(
        id=uuid.uuid4(),
        organization_id=organization.id,
        job_id=job.id,
        visibility="private",
        content_type="image/png",
        size_bytes=len(PNG),
        sha256="0" * 64,
        storage_key="victim/photo.png",
    )
    message = Message(
        id=uuid.uuid4(),
        organization_id=organization.id,
        to_phone="+13122000299",
        body="hello",
        purpose="on_my_way",
        job_id=job.id,
    )
    db.add(customer)
    db.flush()
    db.add(job)
    db.flush()
    enterprise, _manager = create_organization(
        db, name="Victim's Brand", owner_name="M", owner_phone=unique_phone(), kind="enterprise"
    )
    db.flush()
    connection = Connection(
        id=uuid.uuid4(),
        organization_id=organization.id,
        enterprise_id=enterprise.id,
        state="pending",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    document = Document(
        id=uuid.uuid4(),
        organization_id=organization.id,
        job_id=job.id,
        kind="estimate",
        number=1,
        currency="USD",
        tax_rate_bp=0,
        subtotal=0,
        tax=0,
        total=0,
    )
    counter = DocumentCounter(organization_id=organization.id, kind="estimate", last_number=1)
    device = TrackerDevice(
        id=uuid.uuid4(),
        organization_id=organization.id,
        user_id=tech.id,
        name="Victim's phone",
        token_hash="1" * 64,
    )
    db.add_all([appointment, note, photo, message, connection, document, counter, device])
    db.commit()
    return Victim(
        organization,
        {
            "user": tech.id,
            "customer": customer.id,
            "job": job.id,
            "appointment": appointment.id,
            "photo": photo.id,
            "connection": connection.id,
            "document": document.id,
            "device": device.id,
        },
    )


def id_kind(argument: str) -> str:
    return argument.removesuffix("_id")


def tenant_snapshot(db: Session, organization_id: uuid.UUID) -> dict[str, str]:
    """A digest of every row the organization owns, table by table."""
    tables = (
        db.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                "WHERE a.attname = 'organization_id' AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition ORDER BY 1"
            )
        )
        .scalars()
        .all()
    )
    db.expire_all()
    return {
        table: db.execute(
            text(
                "SELECT count(*) || ':' || "
                "coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
                f"FROM {table} t WHERE organization_id = :org"
            ),
            {"org": organization_id},
        ).scalar_one()
        for table in tables
    }


def id_rules(app: Flask) -> list[tuple[str, str, list[str]]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/") or not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, sorted(rule.arguments)))
    return found


def send(client: ApiClient, method: str, rule: str, ids: dict[str, uuid.UUID]) -> Any:
    path = re.sub(r"<uuid:(\w+)>", lambda m: str(ids[id_kind(m.group(1))]), rule)
    path = re.sub(r"<any\((\w+)[^>]*>", lambda m: m.group(1), path)  # its first choice
    spec = REQUESTS[(method, rule)]
    kwargs: dict[str, Any] = {}
    if "json" in spec:
        kwargs["json"] = spec["json"]
    if "query" in spec:
        kwargs["query_string"] = spec["query"]
    if spec.get("photo"):
        kwargs["data"] = {"file": (io.BytesIO(PNG), "a.png"), "visibility": "public"}
        kwargs["content_type"] = "multipart/form-data"
    return client.open(method, path, **kwargs)


def test_every_id_taking_endpoint_is_covered(app: Flask) -> None:
    rules = {(method, rule) for method, rule, _ in id_rules(app)}
    assert rules - set(REQUESTS) == set(), "add the new endpoint to REQUESTS"


def test_other_organizations_ids_are_404_everywhere_and_change_nothing(
    app: Flask,
    db: Session,
    victim: Victim,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    intruder_org = make_org(name="Intruder HVAC")
    intruder = login_as(make_user(intruder_org, role="both"))
    before = tenant_snapshot(db, victim.organization.id)
    missing = {kind: uuid.uuid4() for kind in victim.ids}
    failures = []
    for method, rule, _arguments in id_rules(app):
        foreign = send(intruder, method, rule, victim.ids)
        unknown = send(intruder, method, rule, missing)
        if foreign.status_code != 404 or unknown.status_code != 404:
            failures.append((method, rule, foreign.status_code, unknown.status_code))
            continue
        foreign_body = foreign.get_data(as_text=True)
        for kind, value in victim.ids.items():
            foreign_body = foreign_body.replace(str(value), str(missing[kind]))
        if foreign_body != unknown.get_data(as_text=True):
            failures.append((method, rule, "answers differ", foreign_body))
    assert failures == []
    assert tenant_snapshot(db, victim.organization.id) == before


@pytest.mark.parametrize(("path", "parameter", "kind"), QUERY_ID_REQUESTS)
def test_other_organizations_ids_in_queries_are_404(
    victim: Victim,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    path: str,
    parameter: str,
    kind: str,
) -> None:
    intruder = login_as(make_user(make_org(name="Intruder HVAC"), role="dispatcher"))
    response = intruder.get(path, query_string={parameter: str(victim.ids[kind])})
    assert response.status_code == 404
    assert "hello" not in response.get_data(as_text=True)


def test_lists_never_show_other_organizations_rows(
    victim: Victim,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
) -> None:
    intruder = login_as(make_user(make_org(name="Intruder HVAC"), role="dispatcher"))
    for path in (
        "/v1/customers",
        "/v1/jobs",
        "/v1/appointments",
        "/v1/team",
        "/v1/messages",
        "/v1/team/locations",
    ):
        body = intruder.get(path).get_data(as_text=True)
        for kind, value in victim.ids.items():
            assert str(value) not in body, f"{path} shows the victim's {kind}"
