"""`fieldapi worker` sends enterprise webhooks too: a real worker process, real commits, the
real local receiver checking every signature."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.enterprise.models import WebhookDelivery
from fieldapi.enterprise.offers import OfferInput, make_offer
from fieldapi.enterprise.texts import TextRules
from fieldapi.paths import project_root
from tests.conftest import TEST_SECRET_KEY
from tests.enterprise.conftest import CUSTOMER, committed_enterprise_with_webhook
from tests.enterprise.receiver import Receiver


def test_fieldapi_worker_once_delivers_the_queued_webhooks(
    database_url: str, committed: Session, receiver: Receiver, tmp_path: Path
) -> None:
    provider, _owner, principal, receiver.secret = committed_enterprise_with_webhook(
        committed, receiver.url
    )
    now = utcnow()
    start = now + timedelta(days=1)
    for number in (1, 2):
        offer = OfferInput(
            provider_id=provider.id,
            title=f"Job {number}",
            customer=dict(CUSTOMER),
            appointment_windows=[{"start": start, "end": start + timedelta(hours=2)}],
        )
        make_offer(committed, principal, offer, now=utcnow(), rules=TextRules())

    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        FIELDAPI_ENV="test",
        SECRET_KEY=TEST_SECRET_KEY,
        FIELDAPI_VAR_DIR=str(tmp_path / "var"),
        SMS_TRANSPORT="console",
        WORKER_MAINTENANCE_MINUTES="0",
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",
    )
    done = subprocess.run(
        [sys.executable, "-m", "fieldapi.cli", "worker", "--once"],
        env=env,
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert receiver.rejected == []
    assert sorted(event["job"]["title"] for event in receiver.received) == ["Job 1", "Job 2"]
    committed.expire_all()
    statuses = committed.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["delivered", "delivered"]
