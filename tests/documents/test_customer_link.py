"""The customer's link: the document as they see it, Approve / Decline once, the
decision recorded, logged and texted to the dispatchers; the link dies when the
document is voided or replaced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.documents.models import Document
from fieldapi.jobs.models import Job
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient
from tests.documents.conftest import LINES, link_token

Sent = Callable[..., tuple[dict[str, Any], str]]


def test_the_link_shows_the_document_to_the_customer(app: Flask, sent: Sent) -> None:
    document, token = sent(notes="Parts on order")
    seen = app.test_client().get(f"/v1/document-links/{token}")
    assert seen.status_code == 200
    assert seen.json["number"] == document["number"]
    assert seen.json["organization"] == "Done Right Home Services"
    assert seen.json["customer"] == "Maria Lopez"
    assert seen.json["total"] == 18000
    assert seen.json["can_decide"] is True
    assert "id" not in seen.json and "job_id" not in seen.json


def test_approving_records_logs_and_texts_the_dispatchers(
    app: Flask,
    sent: Sent,
    dispatcher: User,
    dispatcher_client: ApiClient,
    job: Job,
    db: Session,
) -> None:
    document, token = sent()
    answer = app.test_client().post(
        f"/v1/document-links/{token}/approve", environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "approved"
    assert answer.json["can_decide"] is False
    read = dispatcher_client.get(f"/v1/documents/{document['id']}").json
    assert read["status"] == "approved"
    assert read["decision"]["answer"] == "approved"
    assert read["decision"]["at"] is not None
    assert read["decision"]["address"] == "203.0.113.7"
    assert read["decision"]["page"].startswith("https://api.example.test/d/")
    assert token not in read["decision"]["page"]
    log = dispatcher_client.get(f"/v1/jobs/{job.id}/activity").json["items"]
    approved = [e for e in log if e["action"] == "estimate_approved"]
    assert len(approved) == 1
    assert approved[0]["details"]["summary"] == "estimate EST-0001 approved by the customer"
    texts = db.scalars(
        select(Message).where(Message.job_id == job.id, Message.purpose == "estimate_approved")
    ).all()
    assert dispatcher.phone in {t.to_phone for t in texts}
    assert all("EST-0001" in t.body and "approved" in t.body for t in texts)


def test_a_decision_is_taken_once(app: Flask, sent: Sent, db: Session) -> None:
    document, token = sent()
    browser = app.test_client()
    assert browser.post(f"/v1/document-links/{token}/decline").status_code == 200
    again = browser.post(f"/v1/document-links/{token}/approve")
    assert again.status_code == 409
    assert "already declined" in again.json["message"]
    db.expire_all()
    row = db.get_one(Document, document["id"])
    assert (row.status, row.decision) == ("declined", "declined")


def test_voiding_kills_the_link_and_a_voided_estimate_cannot_be_approved(
    app: Flask, sent: Sent, dispatcher_client: ApiClient, db: Session
) -> None:
    document, token = sent()
    dispatcher_client.post(f"/v1/documents/{document['id']}/actions/void")
    browser = app.test_client()
    assert browser.get(f"/v1/document-links/{token}").status_code == 404
    assert browser.post(f"/v1/document-links/{token}/approve").status_code == 404
    assert browser.get(f"/d/{token}").status_code == 404
    db.expire_all()
    assert db.get_one(Document, document["id"]).decision is None


def test_a_replaced_estimate_cannot_be_approved_and_the_new_one_gets_a_new_link(
    app: Flask, sent: Sent, dispatcher_client: ApiClient, db: Session, job: Job
) -> None:
    document, old_token = sent()
    revised = dispatcher_client.post(
        f"/v1/documents/{document['id']}/revisions", json={"lines": LINES[:1]}
    ).json
    browser = app.test_client()
    assert browser.post(f"/v1/document-links/{old_token}/approve").status_code == 404
    dispatcher_client.post(f"/v1/documents/{revised['id']}/actions/send")
    new_token = link_token(db, job.id)
    assert new_token != old_token
    seen = browser.get(f"/v1/document-links/{new_token}").json
    assert (seen["number"], seen["revision"], seen["total"]) == ("EST-0001", 2, 8900)
    assert browser.post(f"/v1/document-links/{new_token}/approve").status_code == 200


def test_an_invoice_is_not_approved_and_unknown_links_are_404(app: Flask, sent: Sent) -> None:
    _invoice, token = sent("invoice")
    browser = app.test_client()
    assert browser.get(f"/v1/document-links/{token}").json["can_decide"] is False
    assert browser.post(f"/v1/document-links/{token}/approve").status_code == 404
    for unknown in ("A" * 22, "short", "x" * 300):
        assert browser.get(f"/v1/document-links/{unknown}").status_code == 404
        assert browser.post(f"/v1/document-links/{unknown}/approve").status_code == 404


def test_the_page_posts_the_decision_and_shows_it(app: Flask, sent: Sent) -> None:
    _document, token = sent()
    browser = app.test_client()
    page = browser.get(f"/d/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    assert "EST-0001" in html and "Approve" in html and "180.00 USD" in html
    answer = browser.post(f"/d/{token}/approve")
    assert answer.status_code == 303
    after = browser.get(f"/d/{token}").get_data(as_text=True)
    assert "You approved this estimate" in after
    assert "Approve</button>" not in after
    twice = browser.post(f"/d/{token}/decline")  # a double tap: back to the page, unchanged
    assert twice.status_code == 303
    assert "You approved" in browser.get(f"/d/{token}").get_data(as_text=True)
