"""Documents of a job an enterprise offered: its PDF download (its jobs only, never a
draft), the document events on its webhook and in its view of the activity log, where
the provider shows as a company."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.enterprise.models import WebhookDelivery
from tests.conftest import ApiClient


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_enterprise_downloads_the_documents_of_its_jobs_only(
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    manager_client: ApiClient,
    make_org: Callable[..., Any],
    make_user: Callable[..., Any],
    login_as: Callable[..., ApiClient],
) -> None:
    job = offer()
    dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept")
    lines = [{"description": "Pump", "quantity": 1, "unit_price": 12000}]
    draft = dispatcher_client.post(f"/v1/jobs/{job['id']}/invoices", json={"lines": lines}).json
    path = f"/v1/enterprise/documents/{draft['id']}.pdf"
    assert manager_client.get(path).status_code == 404  # a draft is the provider's own
    dispatcher_client.post(f"/v1/documents/{draft['id']}/actions/send")
    answer = manager_client.get(path)
    assert answer.status_code == 200, answer.json
    assert "INV-0001" in pdf_text(answer.data)
    assert "120.00 USD" in pdf_text(answer.data)
    rival = login_as(make_user(make_org(name="Rival Warranty", kind="enterprise"), role="manager"))
    assert rival.get(path).status_code == 404
    assert dispatcher_client.get(path).status_code == 404  # a provider never sees that side


def test_document_events_reach_the_webhook_and_the_enterprise_s_log(
    app: Any,
    offer: Callable[..., dict[str, Any]],
    dispatcher_client: ApiClient,
    manager_client: ApiClient,
    provider: Any,
    db: Session,
    monkeypatch: Any,
) -> None:
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    saved = manager_client.put("/v1/enterprise/webhook", json={"url": "http://127.0.0.1:9/h"})
    assert saved.status_code == 200, saved.json
    job = offer()
    dispatcher_client.post(f"/v1/jobs/{job['id']}/actions/accept")
    lines = [{"description": "Pump", "quantity": 1, "unit_price": 12000}]
    estimate = dispatcher_client.post(f"/v1/jobs/{job['id']}/estimates", json={"lines": lines})
    document_id = estimate.json["id"]
    dispatcher_client.post(f"/v1/documents/{document_id}/actions/send")
    dispatcher_client.post(f"/v1/documents/{document_id}/actions/void")
    invoice = dispatcher_client.post(f"/v1/jobs/{job['id']}/invoices", json={"lines": lines})
    dispatcher_client.post(f"/v1/documents/{invoice.json['id']}/actions/send")
    dispatcher_client.post(f"/v1/documents/{invoice.json['id']}/actions/mark-paid")
    db.expire_all()
    types = db.scalars(
        select(WebhookDelivery.type)
        .where(WebhookDelivery.job_id == job["id"])
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    ).all()
    documents = [t for t in types if "estimate" in t or "invoice" in t]
    assert documents == [
        "job.estimate_created",
        "job.estimate_sent",
        "job.estimate_voided",
        "job.invoice_created",
        "job.invoice_sent",
        "job.invoice_paid",
    ]
    log = manager_client.get(f"/v1/enterprise/jobs/{job['id']}/activity").json["items"]
    entries = [e for e in log if e["action"].startswith(("estimate_", "invoice_"))]
    assert len(entries) == 6
    assert {(e["actor"]["kind"], e["actor"]["name"]) for e in entries} == {
        ("provider", provider.name)
    }
