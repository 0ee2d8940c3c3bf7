"""`fieldapi worker` sends enterprise webhooks too: a real worker process, real commits, the
real local receiver checking every signature."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.enterprise.models import Connection, WebhookDelivery
from fieldapi.enterprise.offers import OfferInput, make_offer
from fieldapi.enterprise.texts import TextRules
from fieldapi.enterprise.webhooks import save_webhook
from fieldapi.onboarding import create_organization
from fieldapi.paths import project_root
from tests.conftest import TEST_SECRET_KEY, unique_phone
from tests.enterprise.conftest import CUSTOMER
from tests.enterprise.receiver import Receiver


def test_fieldapi_worker_once_delivers_the_queued_webhooks(
    database_url: str, committed: Session, receiver: Receiver, tmp_path: Path
) -> None:
    provider, _dispatcher = create_organization(
        committed, name="Done Right", owner_name="Dana", owner_phone=unique_phone()
    )
    enterprise, manager = create_organization(
        committed, name="Acme", owner_name="Morgan", owner_phone=unique_phone(), kind="enterprise"
    )
    now = utcnow()
    committed.add(
        Connection(
            organization_id=provider.id,
            enterprise_id=enterprise.id,
            state="active",
            created_at=now,
            updated_at=now,
        )
    )
    committed.commit()
    principal = Principal(manager.id, enterprise.id, uuid.uuid4(), manager.name, "manager")
    hook = save_webhook(committed, principal, receiver.url, now=now, allow_private=True)
    receiver.secret = hook.secret
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
