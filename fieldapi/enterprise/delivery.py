"""Sending enterprise webhooks: claimed under a lease like texts, retried with backoff, in
order per job, at least once (the event `id` lets a receiver drop a repeat).

A delivery is sent only when no earlier delivery of the same job is still queued or being
sent, so a job's events arrive in the order they happened. A receiver that answers
non-2xx, refuses the connection or says nothing for WEBHOOK_TIMEOUT_SECONDS is tried again
later; after WEBHOOK_MAX_ATTEMPTS the delivery is `failed` (and the job's next one goes).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from fieldapi.db import utcnow
from fieldapi.enterprise.models import EnterpriseWebhook, WebhookDelivery
from fieldapi.enterprise.pinned_http import pinned_session
from fieldapi.enterprise.webhooks import (
    SIGNATURE_HEADER,
    Resolver,
    UnsafeAddress,
    checked_addresses,
    resolve,
    sign,
)
from fieldapi.messaging.worker import retry_delay

log = logging.getLogger(__name__)
KEEP_ATTEMPTS = 20  # the answers kept per delivery
ANSWER_CHARS = 500


@dataclass(frozen=True)
class WebhookSettings:
    timeout_s: float = 10.0
    max_attempts: int = 8
    retry_base_s: float = 10.0
    retry_max_s: float = 3600.0
    lease_s: float = 60.0
    poll_s: float = 1.0
    allow_private: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookSettings:
        return cls(
            timeout_s=float(config["WEBHOOK_TIMEOUT_SECONDS"]),
            max_attempts=int(config["WEBHOOK_MAX_ATTEMPTS"]),
            retry_base_s=float(config["WEBHOOK_RETRY_BASE_SECONDS"]),
            retry_max_s=float(config["WEBHOOK_RETRY_MAX_SECONDS"]),
            lease_s=float(config["WEBHOOK_LEASE_SECONDS"]),
            poll_s=float(config["WEBHOOK_POLL_SECONDS"]),
            allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]),
        )


@dataclass(frozen=True)
class Claimed:
    organization_id: uuid.UUID
    delivery_id: int
    attempt: int
    url: str | None
    secret: str | None
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    answer: str | None = None


def _due(now: datetime) -> Any:
    earlier = aliased(WebhookDelivery)
    blocked = exists(
        select(earlier.id).where(
            earlier.job_id == WebhookDelivery.job_id,
            earlier.id < WebhookDelivery.id,
            earlier.status.in_(("queued", "sending")),
        )
    )
    ready = or_(
        and_(WebhookDelivery.status == "queued", WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_until < now),
    )
    return and_(ready, ~blocked)


class WebhookSender:
    """Sends due deliveries one at a time; any number may run on any number of machines."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: WebhookSettings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        resolver: Resolver = resolve,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:webhooks"
        self.clock = clock
        self.resolver = resolver

    def run(self, stopping: threading.Event, *, once: bool = False) -> int:
        """Send due deliveries until `stopping` is set (`once`: until none is due)."""
        sent = 0
        while not stopping.is_set():
            try:
                did = self.process_one()
            except Exception:  # the lease expires and another try comes
                log.exception("webhook sender %s: unexpected error", self.name)
                did = False
            if did:
                sent += 1
                continue
            if once:
                break
            stopping.wait(self.settings.poll_s)
        return sent

    def process_one(self) -> bool:
        claimed = self.claim()
        if claimed is None:
            return False
        self.record(claimed, self.send(claimed))
        return True

    def claim(self) -> Claimed | None:
        now = self.clock()
        with self.sessions() as db:
            row = db.scalar(
                select(WebhookDelivery)
                .where(_due(now))
                .order_by(WebhookDelivery.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            hook = db.get(EnterpriseWebhook, row.organization_id)
            row.status = "sending"
            row.attempts += 1
            row.lease_until = now + timedelta(seconds=self.settings.lease_s)
            row.leased_by = self.name
            claimed = Claimed(
                row.organization_id,
                row.id,
                row.attempts,
                None if hook is None else hook.url,
                None if hook is None else hook.secret,
                json.dumps(row.payload, separators=(",", ":")).encode(),
            )
            db.commit()
            return claimed

    def send(self, claimed: Claimed) -> Outcome:
        if claimed.url is None or claimed.secret is None:
            return Outcome(False, error="the enterprise has no webhook")
        try:
            addresses = checked_addresses(
                claimed.url, allow_private=self.settings.allow_private, resolver=self.resolver
            )
        except UnsafeAddress as error:
            return Outcome(False, error=f"refused: {error}")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "fieldapi-webhooks/1",
            SIGNATURE_HEADER: sign(claimed.secret, int(time.time()), claimed.body),
        }
        timeout = self.settings.timeout_s
        try:
            with pinned_session(addresses) as http:  # to the addresses just checked
                answer = http.post(
                    claimed.url,
                    data=claimed.body,
                    headers=headers,
                    timeout=(timeout, timeout),
                    allow_redirects=False,  # a redirect could lead inside our network
                )
        except requests.Timeout:
            return Outcome(False, error=f"no answer within {timeout:g} s")
        except requests.RequestException as error:
            return Outcome(False, error=f"{type(error).__name__}: {error}"[:ANSWER_CHARS])
        text = answer.text[:ANSWER_CHARS]
        return Outcome(200 <= answer.status_code < 300, answer.status_code, answer=text)

    def record(self, claimed: Claimed, outcome: Outcome) -> None:
        now = self.clock()
        with self.sessions() as db:
            row = db.get(
                WebhookDelivery,
                (claimed.organization_id, claimed.delivery_id),
                with_for_update=True,
            )
            if row is None or row.leased_by != self.name or row.attempts != claimed.attempt:
                return  # our lease ran out and another worker has it now
            entry = {
                "at": now.isoformat(),
                "attempt": claimed.attempt,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "answer": outcome.answer,
            }
            row.attempt_log = [*row.attempt_log, entry][-KEEP_ATTEMPTS:]
            row.lease_until = row.leased_by = None
            no_hook = claimed.url is None
            if outcome.ok:
                row.status, row.finished_at = "delivered", now
            elif no_hook or claimed.attempt >= self.settings.max_attempts:
                row.status, row.finished_at = "failed", now
                log.warning("webhook %s failed: %s", row.event_id, outcome.error or entry)
            else:
                row.status = "queued"
                delay = retry_delay(
                    claimed.attempt,
                    base_s=self.settings.retry_base_s,
                    max_s=self.settings.retry_max_s,
                )
                row.next_attempt_at = now + timedelta(seconds=delay)
            db.commit()


def start_webhook_sender(
    sessions: sessionmaker[Session],
    config: Mapping[str, Any],
    stopping: threading.Event,
    *,
    once: bool = False,
) -> threading.Thread:
    """`fieldapi worker`'s webhook thread, beside the texts: it stops when `stopping` is
    set (`once`: when none is due)."""
    sender = WebhookSender(sessions, WebhookSettings.from_config(config))
    thread = threading.Thread(
        target=sender.run, args=(stopping,), kwargs={"once": once}, name="webhooks", daemon=True
    )
    thread.start()
    return thread
