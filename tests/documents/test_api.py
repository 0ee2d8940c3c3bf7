"""Estimates and invoices through the API: numbers, totals, revisions, statuses, who may
do what, and every bad input answered 4xx with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.documents.models import Document, DocumentLine
from fieldapi.jobs.models import ActivityEvent, Customer, Job
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient
from tests.documents.conftest import LINES


def counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Document)) or 0,
        db.scalar(select(func.count()).select_from(DocumentLine)) or 0,
        db.scalar(select(func.count()).select_from(ActivityEvent)) or 0,
    )


def test_an_estimate_is_numbered_and_totalled_by_the_server(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient
) -> None:
    patched = dispatcher_client.patch(
        "/v1/settings/organization", json={"currency": "EUR", "tax_rate_pct": 8.25}
    )
    assert patched.status_code == 200, patched.json
    assert (patched.json["currency"], patched.json["tax_rate_pct"]) == ("EUR", 8.25)
    estimate = create()
    assert estimate["number"] == "EST-0001"
    assert estimate["status"] == "draft"
    assert estimate["kind"] == "estimate"
    assert estimate["currency"] == "EUR"
    assert estimate["revision"] == 1
    assert [line["amount"] for line in estimate["lines"]] == [8900, 9100]
    assert estimate["subtotal"] == 18000
    assert estimate["tax"] == 734 + 751  # 8.25 % of each line, rounded half up
    assert estimate["total"] == 18000 + 1485
    assert create()["number"] == "EST-0002"
    assert create("invoice")["number"] == "INV-0001"


def test_a_line_s_own_rate_and_a_fractional_quantity(
    create: Callable[..., dict[str, Any]],
) -> None:
    invoice = create(
        "invoice",
        tax_rate_pct=10,
        lines=[
            {"description": "Labour", "quantity": 1.5, "unit_price": 999},
            {"description": "Permit", "quantity": 1, "unit_price": 5000, "tax_rate_pct": 0},
        ],
    )
    # A line without its own rate says null: it takes the document's.
    assert [(line["quantity"], line["tax_rate_pct"]) for line in invoice["lines"]] == [
        (1.5, None),
        (1.0, 0.0),
    ]
    assert [line["amount"] for line in invoice["lines"]] == [1499, 5000]  # 1498.5 -> 1499
    assert [line["tax"] for line in invoice["lines"]] == [150, 0]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (6499, 150, 6649)


def test_listing_and_reading(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient, job: Job
) -> None:
    estimate, invoice = create(), create("invoice")
    listed = dispatcher_client.get(f"/v1/jobs/{job.id}/documents")
    assert [d["number"] for d in listed.json["items"]] == ["EST-0001", "INV-0001"]
    only = dispatcher_client.get(f"/v1/jobs/{job.id}/invoices").json["items"]
    assert [d["id"] for d in only] == [invoice["id"]]
    read = dispatcher_client.get(f"/v1/documents/{estimate['id']}")
    assert read.status_code == 200
    assert read.json["lines"][1]["description"] == "Drain pump"


def test_a_draft_is_edited_in_place_a_sent_one_only_by_a_new_revision(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient, job: Job
) -> None:
    estimate = create()
    edited = dispatcher_client.patch(
        f"/v1/documents/{estimate['id']}",
        json={"lines": [{"description": "Diagnostic visit", "quantity": 1, "unit_price": 100}]},
    )
    assert edited.status_code == 200, edited.json
    assert (edited.json["total"], edited.json["revision"]) == (100, 1)
    sent = dispatcher_client.post(f"/v1/documents/{estimate['id']}/actions/send")
    assert sent.status_code == 200, sent.json
    refused = dispatcher_client.patch(f"/v1/documents/{estimate['id']}", json={"notes": "x"})
    assert refused.status_code == 409
    revised = dispatcher_client.post(
        f"/v1/documents/{estimate['id']}/revisions", json={"lines": LINES}
    )
    assert revised.status_code == 201, revised.json
    assert (revised.json["number"], revised.json["revision"]) == ("EST-0001", 2)
    assert revised.json["status"] == "draft"
    old = dispatcher_client.get(f"/v1/documents/{estimate['id']}").json
    assert (old["status"], old["total"]) == ("sent", 100)  # still readable, unchanged
    assert old["replaced_by_id"] == revised.json["id"]
    again = dispatcher_client.post(
        f"/v1/documents/{estimate['id']}/revisions", json={"lines": LINES}
    )
    assert again.status_code == 409  # only the latest revision is revised
    assert create()["number"] == "EST-0002"  # a revision takes no number


def test_statuses_move_only_the_allowed_ways(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient
) -> None:
    invoice = create("invoice")
    path = f"/v1/documents/{invoice['id']}/actions"
    assert dispatcher_client.post(f"{path}/mark-paid").status_code == 409  # a draft
    assert dispatcher_client.post(f"{path}/send").status_code == 200
    paid = dispatcher_client.post(f"{path}/mark-paid")
    assert paid.status_code == 200
    assert paid.json["status"] == "paid"
    assert paid.json["paid_at"] is not None
    assert dispatcher_client.post(f"{path}/void").status_code == 409  # paid stays paid
    estimate = create()
    assert (
        dispatcher_client.post(f"/v1/documents/{estimate['id']}/actions/mark-paid").status_code
        == 409
    )
    voided = dispatcher_client.post(f"/v1/documents/{estimate['id']}/actions/void")
    assert voided.json["status"] == "void"


def test_a_technician_drafts_on_their_job_but_does_not_send(
    tech_client: ApiClient,
    job: Job,
    make_job: Callable[..., Job],
    db: Session,
) -> None:
    drafted = tech_client.post(f"/v1/jobs/{job.id}/estimates", json={"lines": LINES})
    assert drafted.status_code == 201, drafted.json
    sent = tech_client.post(f"/v1/documents/{drafted.json['id']}/actions/send")
    assert sent.status_code == 403
    not_theirs = make_job(technician=None)
    before = counts(db)
    refused = tech_client.post(f"/v1/jobs/{not_theirs.id}/estimates", json={"lines": LINES})
    assert refused.status_code == 404
    assert counts(db) == before


def test_sending_texts_the_customer_a_link(
    create: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    job: Job,
    db: Session,
) -> None:
    estimate = create()
    sent = dispatcher_client.post(f"/v1/documents/{estimate['id']}/actions/send")
    assert sent.json["status"] == "sent"
    text = db.scalars(select(Message).where(Message.job_id == job.id)).all()[-1]
    assert text.to_phone == db.get_one(Customer, job.customer_id).phone
    assert "EST-0001" in text.body
    assert "https://api.example.test/d/" in text.body
    assert "269.79" not in text.body  # no tax by default: the total is 180.00
    assert "180.00 USD" in text.body


def test_the_activity_log_records_created_and_sent(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient, job: Job
) -> None:
    estimate = create()
    dispatcher_client.post(f"/v1/documents/{estimate['id']}/actions/send")
    items = dispatcher_client.get(f"/v1/jobs/{job.id}/activity").json["items"]
    mine = [i for i in items if i["action"].startswith("estimate_")]
    assert [i["action"] for i in mine] == ["estimate_created", "estimate_sent"]
    assert mine[1]["details"]["number"] == "EST-0001"
    assert mine[1]["actor"]["name"] == "Dana Reyes"


BAD_BODIES: dict[str, dict[str, Any]] = {
    "negative quantity": {"lines": [{"description": "x", "quantity": -1, "unit_price": 100}]},
    "zero quantity": {"lines": [{"description": "x", "quantity": 0, "unit_price": 100}]},
    "negative price": {"lines": [{"description": "x", "quantity": 1, "unit_price": -5}]},
    "float price": {"lines": [{"description": "x", "quantity": 1, "unit_price": 10.5}]},
    "overflowing total": {"lines": [{"description": "x", "quantity": 1000, "unit_price": 10**13}]},
    "overflow by summing": {
        "lines": [{"description": "x", "quantity": 1, "unit_price": 6 * 10**12}] * 2
    },
    "too many lines": {"lines": [{"description": "x", "quantity": 1, "unit_price": 1}] * 201},
    "no lines": {"lines": []},
    "tax above 100": {"lines": LINES, "tax_rate_pct": 100.5},
    "negative tax": {"lines": LINES, "tax_rate_pct": -1},
    "line tax above 100": {
        "lines": [{"description": "x", "quantity": 1, "unit_price": 1, "tax_rate_pct": 101}]
    },
    "tax with three decimals": {"lines": LINES, "tax_rate_pct": 8.125},
    "quantity with four decimals": {
        "lines": [{"description": "x", "quantity": 1.0001, "unit_price": 1}]
    },
    "blank description": {"lines": [{"description": "", "quantity": 1, "unit_price": 1}]},
    "price as a string": {"lines": [{"description": "x", "quantity": 1, "unit_price": "1"}]},
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_input_is_a_422_and_changes_nothing(
    case: str, dispatcher_client: ApiClient, job: Job, db: Session
) -> None:
    before = counts(db)
    answer = dispatcher_client.post(f"/v1/jobs/{job.id}/estimates", json=BAD_BODIES[case])
    assert answer.status_code == 422, answer.json
    assert answer.json["message"]
    assert counts(db) == before
    good = dispatcher_client.post(f"/v1/jobs/{job.id}/estimates", json={"lines": LINES})
    assert good.json["number"] == "EST-0001"  # the refused one took no number


@pytest.mark.parametrize(
    "body",
    [{"currency": "ABC"}, {"currency": "usd"}, {"currency": "XXX"}, {"tax_rate_pct": 101}],
)
def test_an_unknown_currency_or_a_rate_out_of_range_is_refused(
    body: dict[str, Any], dispatcher_client: ApiClient, db: Session, org: Organization
) -> None:
    answer = dispatcher_client.patch("/v1/settings/organization", json=body)
    assert answer.status_code == 422, answer.json
    db.expire_all()
    organization = db.get_one(Organization, org.id)
    assert (organization.currency, organization.tax_rate_bp) == ("USD", 0)


def test_a_document_of_another_organization_is_404_both_ways(
    create: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    make_customer: Callable[..., Customer],
    job: Job,
    db: Session,
) -> None:
    ours = create()
    rival_org = make_org(name="Rival Plumbing")
    rival = login_as(make_user(rival_org, role="dispatcher"))
    theirs = rival.post(
        "/v1/customers",
        json={
            "name": "Ann",
            "phone": "+13122000299",
            "address": "1 N State St, Chicago, IL",
            "lat": 41.88,
            "lon": -87.63,
            "timezone": "America/Chicago",
        },
    )
    assert theirs.status_code == 201, theirs.json
    rival_job = rival.post("/v1/jobs", json={"customer_id": theirs.json["id"], "title": "Leak"})
    assert rival_job.status_code == 201, rival_job.json
    their_doc = rival.post(f"/v1/jobs/{rival_job.json['id']}/estimates", json={"lines": LINES})
    assert their_doc.json["number"] == "EST-0001"  # numbers are per organization
    before = counts(db)
    for client, doc_id, job_id in (
        (rival, ours["id"], job.id),
        (dispatcher_client, their_doc.json["id"], rival_job.json["id"]),
    ):
        assert client.get(f"/v1/documents/{doc_id}").status_code == 404
        assert client.get(f"/v1/documents/{doc_id}.pdf").status_code == 404
        assert client.patch(f"/v1/documents/{doc_id}", json={"notes": "x"}).status_code == 404
        for action in ("send", "void", "mark-paid"):
            assert client.post(f"/v1/documents/{doc_id}/actions/{action}").status_code == 404
        revise = client.post(f"/v1/documents/{doc_id}/revisions", json={"lines": LINES})
        assert revise.status_code == 404
        assert client.get(f"/v1/jobs/{job_id}/documents").status_code == 404
        made = client.post(f"/v1/jobs/{job_id}/estimates", json={"lines": LINES})
        assert made.status_code == 404
    assert counts(db) == before
