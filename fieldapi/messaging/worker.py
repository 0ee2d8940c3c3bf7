"""The outbox sender of `fieldapi worker`, with a hook for the periodic work (`fieldapi.periodic`).

Each text is claimed in its own short transaction (`FOR UPDATE SKIP LOCKED`), which sets
it `sending` under a lease (`lease_until`, `leased_by`) and counts the attempt. The HTTP
call to the transport happens outside any transaction; its result is written only if the
lease is still ours. A worker that dies mid-send leaves the text `sending` with a lease
that expires, and any worker takes it over then. Any number of workers may run.

A worker killed after Twilio accepted a text but before the SID was written leaves a text
whose outcome is unknown. Whoever takes it over after the lease first asks Twilio (the
Messages list for that number since the attempt began, matched on the body and the time)
and adopts the SID it finds; only a text Twilio never got is sent again. When Twilio cannot
be asked, the text stays `sending` and the next lease asks again.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fieldapi.db import utcnow
from fieldapi.messaging.delivery import (
    attach_pending_callbacks,
    lock_sid,
)
from fieldapi.messaging.message_status import MessageStatus, move
from fieldapi.messaging.models import SECRET_PURPOSES, Message
from fieldapi.messaging.optouts import block, opt_out_of, record_opt_out
from fieldapi.messaging.transports import (
    SendResult,
    TransientSendError,
    Transport,
    TransportError,
    build_transport,
)
from fieldapi.settings import SettingError

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/v1/webhooks/twilio/status"
RECORD_TRIES = 3  # writing a send's result survives a short database hiccup
LOOKUP_SLACK = timedelta(seconds=30)  # our clock against Twilio's, whose times are in seconds


@dataclass(frozen=True)
class WorkerSettings:
    status_callback_url: str | None
    max_attempts: int = 6
    retry_base_s: float = 5.0
    retry_max_s: float = 900.0
    lease_s: float = 60.0
    poll_s: float = 1.0
    maintenance_every_s: float = 600.0  # 0: off

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WorkerSettings:
        base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        return cls(
            status_callback_url=base + STATUS_CALLBACK_PATH if base else None,
            max_attempts=int(config["SMS_MAX_ATTEMPTS"]),
            retry_base_s=float(config["SMS_RETRY_BASE_SECONDS"]),
            retry_max_s=float(config["SMS_RETRY_MAX_SECONDS"]),
            lease_s=float(config["SMS_LEASE_SECONDS"]),
            poll_s=float(config["WORKER_POLL_SECONDS"]),
            maintenance_every_s=float(config["WORKER_MAINTENANCE_MINUTES"]) * 60,
        )


def retry_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    retry_after_s: float | None = None,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter (half fixed,
    half random, so workers retrying together spread out), never below a `Retry-After`."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    delay = rand(ceiling / 2, ceiling)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


@dataclass(frozen=True)
class Claim:
    """A text this worker holds: identified by its key, our name and the attempt number."""

    organization_id: uuid.UUID
    message_id: uuid.UUID
    to: str
    body: str
    attempt: int
    leased_by: str
    # When the attempt before this one began, if its worker's lease ran out mid-send.
    unknown_since: datetime | None = None


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        transport: Transport,
        settings: WorkerSettings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        maintenance: Callable[[Session, datetime], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self.maintenance = maintenance
        self.monotonic = monotonic
        self.stopping = threading.Event()
        self._next_maintenance = 0.0

    def stop(self) -> None:
        """Finish the text in hand, then return from `run`."""
        self.stopping.set()

    # -- the loop ----------------------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        """Send due texts until stopped (`once`: until none is due); how many were handled."""
        handled = 0
        log.info("fieldapi worker %s started", self.name)
        while not self.stopping.is_set():
            self.maybe_run_maintenance()
            try:
                did = self.process_one()
            except (OperationalError, DBAPIError) as error:
                log.warning("worker %s: database error, trying again: %s", self.name, error)
                did = False
            except Exception:  # keep serving the other texts; this one's lease will expire
                log.exception("worker %s: unexpected error", self.name)
                did = False
            if did:
                handled += 1
                continue
            if once:
                break
            self.stopping.wait(self.settings.poll_s)
        log.info("fieldapi worker %s stopped after %d texts", self.name, handled)
        return handled

    def process_one(self) -> bool:
        """Claim one due text and send it; False when none is due."""
        claim = self.claim()
        if claim is None:
            return False
        self.send(claim)
        return True

    # -- claiming ----------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Take the next due text (or one whose lease expired) under a lease; commits.

        Texts to numbers that opted out are blocked on the way, and texts whose workers kept
        dying mid-send are failed, each in its own transaction.
        """
        while True:
            now = self.clock()
            with self.sessions() as db:
                message = _next_due(db, now)
                if message is None:
                    return None
                opt_out = opt_out_of(db, message.to_phone)
                if opt_out is not None:
                    message.leased_by = None
                    block(db, message, opt_out, now)
                    db.commit()
                    log.info("text %s to %s blocked: opted out", message.id, message.to_phone)
                    continue
                held = message.status == MessageStatus.SENDING
                if held and message.attempts >= self.settings.max_attempts:
                    self._fail(db, message, None, "No worker finished sending it.", now)
                    db.commit()
                    continue
                unknown_since = message.updated_at if held else None
                message.attempts += 1
                move(db, message, MessageStatus.SENDING, now)
                message.lease_until = now + timedelta(seconds=self.settings.lease_s)
                message.leased_by = self.name
                claim = Claim(
                    message.organization_id,
                    message.id,
                    message.to_phone,
                    message.body,
                    message.attempts,
                    self.name,
                    unknown_since,
                )
                db.commit()
                return claim

    # -- sending -----------------------------------------------------------------------

    def send(self, claim: Claim) -> None:
        outcome: SendResult | TransportError
        if claim.unknown_since is not None:
            try:
                earlier = self._earlier_send(claim, claim.unknown_since)
            except TransportError as error:
                log.warning(
                    "text %s: cannot ask Twilio whether the last try went out (%s); "
                    "asking again after the lease",
                    claim.message_id,
                    error,
                )
                return
            if earlier is not None:
                log.info("text %s: the last try went out (%s)", claim.message_id, earlier.sid)
                self._record(claim, earlier)
                return
        try:
            outcome = self.transport.send(
                to=claim.to, body=claim.body, status_callback=self.settings.status_callback_url
            )
        except TransportError as error:
            outcome = error
        except Exception as error:  # a bug or surprise in a transport: retry, never lose it
            log.exception("text %s: unexpected error from the transport", claim.message_id)
            outcome = TransientSendError(f"{type(error).__name__}: {error}")
        self._record(claim, outcome)

    def _earlier_send(self, claim: Claim, since: datetime) -> SendResult | None:
        """The send Twilio accepted for the attempt whose worker died, if it did: a match no
        other text of ours already owns."""
        found = self.transport.sent_since(to=claim.to, body=claim.body, since=since - LOOKUP_SLACK)
        if not found:
            return None
        with self.sessions() as db:
            owned = set(
                db.scalars(
                    select(Message.twilio_sid).where(
                        Message.twilio_sid.in_([result.sid for result in found])
                    )
                )
            )
        return next((result for result in found if result.sid not in owned), None)

    def _record(self, claim: Claim, outcome: SendResult | TransportError) -> None:
        """Write a send's outcome, if the lease is still ours."""
        sid = outcome.sid if isinstance(outcome, SendResult) else None
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                with self.sessions() as db:
                    if sid is not None:
                        lock_sid(db, sid)
                    message = db.scalar(
                        select(Message)
                        .where(
                            Message.organization_id == claim.organization_id,
                            Message.id == claim.message_id,
                            Message.status == MessageStatus.SENDING,
                            Message.leased_by == claim.leased_by,
                            Message.attempts == claim.attempt,
                        )
                        .with_for_update()
                    )
                    if message is None:
                        log.warning(
                            "text %s: lease lost before its outcome was written (sid %s); "
                            "another worker has it",
                            claim.message_id,
                            sid,
                        )
                        return
                    now = self.clock()
                    if isinstance(outcome, SendResult):
                        self._sent(db, message, outcome, now)
                    elif isinstance(outcome, TransientSendError):
                        self._retry(db, message, outcome, now)
                    else:
                        self._permanent(db, message, outcome, now)
                    db.commit()
                    return
            except (OperationalError, DBAPIError) as error:
                if attempt == RECORD_TRIES:
                    raise
                log.warning("text %s: cannot write the outcome yet: %s", claim.message_id, error)
                time.sleep(0.5 * attempt)

    def _sent(self, db: Session, message: Message, result: SendResult, now: datetime) -> None:
        message.twilio_sid = result.sid
        message.sent_at = now
        message.error_code = None
        message.error_message = None
        move(db, message, MessageStatus.SENT, now)
        forget_secret(message)
        attach_pending_callbacks(db, message, now)
        log.info("text %s to %s sent (%s)", message.id, message.to_phone, result.sid)

    def _retry(
        self, db: Session, message: Message, error: TransientSendError, now: datetime
    ) -> None:
        if message.attempts >= self.settings.max_attempts:
            self._fail(
                db, message, error.code, f"Gave up after {message.attempts} tries: {error}", now
            )
            return
        delay = retry_delay(
            message.attempts,
            base_s=self.settings.retry_base_s,
            max_s=self.settings.retry_max_s,
            retry_after_s=error.retry_after_s,
        )
        message.next_attempt_at = now + timedelta(seconds=delay)
        message.error_code = error.code
        message.error_message = str(error)
        move(db, message, MessageStatus.QUEUED, now)
        log.info(
            "text %s: try %d failed (%s), next in %.1f s",
            message.id,
            message.attempts,
            error,
            delay,
        )

    def _permanent(
        self, db: Session, message: Message, error: TransportError, now: datetime
    ) -> None:
        if error.is_opt_out:
            opt_out = record_opt_out(
                db, message.to_phone, source="twilio", keyword=str(error.code), now=now
            )
            message.error_code = error.code
            block(db, message, opt_out, now)
            return
        self._fail(db, message, error.code, str(error), now)

    def _fail(
        self, db: Session, message: Message, code: int | None, reason: str, now: datetime
    ) -> None:
        message.error_code = code
        message.error_message = reason
        move(db, message, MessageStatus.FAILED, now)
        forget_secret(message)
        log.warning("text %s to %s failed: %s", message.id, message.to_phone, reason)

    # -- periodic work -----------------------------------------------------------------

    def maybe_run_maintenance(self) -> None:
        every = self.settings.maintenance_every_s
        if not every or self.maintenance is None or self.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = self.monotonic() + every
        try:
            with self.sessions() as db:
                self.maintenance(db, self.clock())
        except Exception:  # periodic work must never stop the texts
            log.exception("worker %s: periodic work failed; next try in %.0f s", self.name, every)


REDACTED_BODY = "[login code removed after sending]"


def forget_secret(message: Message) -> None:
    """A login code is kept only until it has left: nobody can read it from the outbox after."""
    if message.purpose in SECRET_PURPOSES:
        message.body = REDACTED_BODY


def _next_due(db: Session, now: datetime) -> Message | None:
    """The text to send next, locked; texts other workers hold are skipped, not waited for."""
    expired = db.scalar(
        select(Message)
        .where(Message.status == MessageStatus.SENDING, Message.lease_until < now)
        .order_by(Message.lease_until)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if expired is not None:
        return expired
    return db.scalar(
        select(Message)
        .where(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def transport_from_config(config: dict[str, Any]) -> Transport:
    try:
        return build_transport(
            config["SMS_TRANSPORT"],
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            from_number=config["TWILIO_FROM"],
            messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"],
            api_base_url=config["TWILIO_API_BASE_URL"],
            timeout_s=config["TWILIO_TIMEOUT_SECONDS"],
        )
    except ValueError as error:
        raise SettingError(
            f"SMS_TRANSPORT={config['SMS_TRANSPORT']}: {error} (set TWILIO_ACCOUNT_SID, "
            "TWILIO_AUTH_TOKEN and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID)"
        ) from error


__all__ = ["Worker", "WorkerSettings", "retry_delay", "transport_from_config"]
