"""Login passcodes: issued per phone number, stored only as HMACs, guarded against guessing.

Every number gets the same treatment whether or not it has an account: a passcode row
(keyed by a hash of the number), the same limits, the same answer. Only the text itself
goes to active users alone, so nothing a caller sees tells them who is registered.

Wrong passcodes count twice (NIST SP 800-63B, 5.2.2): per client address, which is slowed
after a few and stopped for a day after `source_stop_after`, and per number, which is
locked only after `lock_after` (100) in a row from any addresses. One stranger is stopped
long before a number locks, so the owner's freshly texted code still works; only many
addresses together can lock a number, and even they get at most 100 guesses in a row.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.accounts.models import (
    Organization,
    Passcode,
    PasscodeRequest,
    PasscodeSource,
    User,
)
from fieldapi.accounts.numbers import read_phone
from fieldapi.accounts.tokens import hash_token
from fieldapi.errors import TooManyRequests, Unauthorized, Unprocessable
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message
from fieldapi.rate_limit_storage import RateLimitCounter

log = logging.getLogger(__name__)

PASSCODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5  # wrong tries per code
SEND_WINDOW = timedelta(hours=1)
MAX_LOCK = timedelta(days=30)
SOURCE_STOP = timedelta(days=1)  # how long a stopped address waits; also the count's memory
MAX_SOURCE_WAIT = timedelta(minutes=15)
WRONG_PASSCODE = "The passcode is wrong or has expired; ask for a new one."
_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class PasscodeRules:
    default_region: str = "US"
    allowed_regions: tuple[str, ...] = ("US", "CA")
    sends_per_hour: int = 5
    lock_after: int = 100
    lock_minutes: int = 1440
    source_slow_after: int = 10
    source_stop_after: int = 20
    texts_per_hour: int = 1000
    answer_floor: timedelta = timedelta(milliseconds=100)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasscodeRules:
        return cls(
            default_region=config["PHONE_DEFAULT_REGION"],
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
            sends_per_hour=config["PASSCODE_SENDS_PER_HOUR"],
            lock_after=config["PASSCODE_LOCK_AFTER"],
            lock_minutes=config["PASSCODE_LOCK_MINUTES"],
            source_slow_after=config["PASSCODE_SOURCE_SLOW_AFTER"],
            source_stop_after=config["PASSCODE_SOURCE_STOP_AFTER"],
            texts_per_hour=config["PASSCODE_TEXTS_PER_HOUR"],
            answer_floor=timedelta(milliseconds=config["PASSCODE_ANSWER_FLOOR_MS"]),
        )


@dataclass(frozen=True)
class PasscodeSent:
    """The answer to every accepted request, whoever the number belongs to."""

    expires_in: int = int(PASSCODE_TTL.total_seconds())
    resend_after: int = int(RESEND_AFTER.total_seconds())


def phone_key(secret_key: str, phone: str) -> str:
    return hash_token(secret_key, f"phone:{phone}")


def source_key(secret_key: str, address: str) -> str:
    return hash_token(secret_key, f"source:{address}")


def code_digest(secret_key: str, phone_hash: str, code: str) -> str:
    return hash_token(secret_key, f"passcode:{phone_hash}:{code}")


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def request_passcode(
    db: Session,
    raw_phone: str,
    *,
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
    log_code: bool = False,
) -> PasscodeSent:
    """Issue a new code for the number (replacing any earlier one) and text it if the
    number belongs to an active user. `log_code` is for development with the console
    transport only: the code then also appears in the server's log.

    An accepted request is answered no sooner than `rules.answer_floor` after it began:
    only a registered number's text is queued (a message row, its organization read), and
    without the floor those milliseconds would tell who has an account."""
    started = time.monotonic()
    phone = read_phone(
        raw_phone, default_region=rules.default_region, allowed_regions=rules.allowed_regions
    )
    key = phone_key(secret_key, phone)
    record = _lock_record(db, key, now)
    _refuse_if_locked(record, now)
    if record.consumed_at is None and record.issued_at and now < record.issued_at + RESEND_AFTER:
        wait = record.issued_at + RESEND_AFTER
        raise TooManyRequests(
            f"A passcode was just sent; ask again in {_seconds(wait, now)} s.",
            headers=_retry_after(wait, now),
        )
    recent = db.scalars(
        select(PasscodeRequest.requested_at)
        .where(PasscodeRequest.phone_hash == key, PasscodeRequest.requested_at > now - SEND_WINDOW)
        .order_by(PasscodeRequest.requested_at)
    ).all()
    if len(recent) >= rules.sends_per_hour:
        wait = recent[0] + SEND_WINDOW
        raise TooManyRequests(
            "Too many passcodes for this number this hour; try again in "
            f"{math.ceil(_seconds(wait, now) / 60)} min.",
            headers=_retry_after(wait, now),
        )

    code = new_code()
    record.code_hash = code_digest(secret_key, key, code)
    record.issued_at = now
    record.expires_at = now + PASSCODE_TTL
    record.attempts = 0
    record.consumed_at = None
    record.updated_at = now

    budget_left = rules.texts_per_hour - _texts_in_window(db, now)
    user = db.scalar(select(User).where(User.phone == phone))
    texted = False
    if user is not None and user.active:
        if budget_left > 0:
            organization = db.get_one(Organization, user.organization_id)
            queue_message(
                db,
                organization_id=organization.id,
                to=phone,
                body=templates.passcode(organization.name, code, _minutes(PASSCODE_TTL)),
                purpose="passcode",
                allowed_regions=rules.allowed_regions,
            )
            texted = True
        else:
            log.warning(
                "passcode text withheld: the budget of %d passcode texts per hour is spent "
                "(PASSCODE_TEXTS_PER_HOUR); is someone pumping SMS?",
                rules.texts_per_hour,
            )
    db.add(PasscodeRequest(phone_hash=key, requested_at=now, texted=texted))
    db.commit()
    if log_code:
        log_development_passcode(phone, code, texted=texted)
    _wait_until(started + rules.answer_floor.total_seconds())
    return PasscodeSent()


def _wait_until(moment: float) -> None:
    """Sleep until `moment` on the monotonic clock (no time at all when it has passed)."""
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def log_development_passcode(phone: str, code: str, *, texted: bool) -> None:
    """Development only: show the code in the server's output, worker or not."""
    if not log.hasHandlers():  # under gunicorn nothing handles our loggers
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(message)s"))
        log.addHandler(handler)
    note = "" if texted else " (no text queued: no active user has this number)"
    log.info("development login passcode for %s: %s%s", phone, code, note)


def redeem_passcode(
    db: Session,
    raw_phone: str,
    raw_code: str,
    *,
    source: str,
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
) -> User:
    """The active user who holds this number and its current code; the code is used up.
    A wrong, used or expired code counts against the number and against the `source`
    address (401); an address that failed too often waits or is stopped, a number that
    failed `lock_after` times in a row is locked (429). Failures are committed here;
    success is left for the caller to commit."""
    sender = _source_record(db, source_key(secret_key, source), now)
    _refuse_if_source_waits(sender, now)
    phone = read_phone(
        raw_phone, default_region=rules.default_region, allowed_regions=rules.allowed_regions
    )
    code = re.sub(r"[\s-]", "", raw_code)
    if not _CODE.fullmatch(code):
        raise Unprocessable(
            "A passcode is the 6 digits from the text.",
            errors={"passcode": ["A passcode is 6 digits."]},
        )
    key = phone_key(secret_key, phone)
    record = db.scalars(
        select(Passcode)
        .where(Passcode.phone_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if record is None:
        _count_source_failure(sender, now, rules)
        db.commit()
        raise Unauthorized(WRONG_PASSCODE)
    _refuse_if_locked(record, now)
    live = (
        record.code_hash is not None
        and record.consumed_at is None
        and record.expires_at is not None
        and now < record.expires_at
        and record.attempts < MAX_ATTEMPTS
    )
    if not live or not hmac.compare_digest(
        record.code_hash or "", code_digest(secret_key, key, code)
    ):
        _count_failure(record, now, rules)
        _count_source_failure(sender, now, rules)
        db.commit()
        raise Unauthorized(WRONG_PASSCODE)
    record.consumed_at = now
    record.code_hash = None
    record.failures = 0
    record.locked_until = None
    record.updated_at = now
    user = db.scalar(select(User).where(User.phone == phone))
    if user is None or not user.active:
        db.commit()
        raise Unauthorized(WRONG_PASSCODE)
    return user


def prune_passcode_records(db: Session, *, now: datetime) -> int:
    """Periodic clean-up: requests older than the hourly window, passcode rows untouched
    for a month that hold no lock, addresses whose failures are forgotten, rate-limit
    counters whose window is over. Returns the number of rows deleted."""
    requests = db.execute(
        delete(PasscodeRequest).where(PasscodeRequest.requested_at < now - SEND_WINDOW)
    )
    codes = db.execute(
        delete(Passcode).where(
            Passcode.updated_at < now - timedelta(days=30),
            or_(Passcode.locked_until.is_(None), Passcode.locked_until < now),
        )
    )
    sources = db.execute(
        delete(PasscodeSource).where(
            or_(
                PasscodeSource.last_failure_at.is_(None),
                PasscodeSource.last_failure_at < now - SOURCE_STOP,
            ),
            or_(PasscodeSource.blocked_until.is_(None), PasscodeSource.blocked_until < now),
        )
    )
    # The rate limits guard these same endpoints; a later hit restarts an expired counter.
    counters = db.execute(
        delete(RateLimitCounter).where(RateLimitCounter.expires_at < now.timestamp())
    )
    db.commit()
    deleted = [requests, codes, sources, counters]
    return sum(int(result.rowcount) for result in deleted)  # type: ignore[attr-defined,misc]


def _lock_record(db: Session, key: str, now: datetime) -> Passcode:
    db.execute(
        insert(Passcode)
        .values(phone_hash=key, attempts=0, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["phone_hash"])
    )
    return db.scalars(
        select(Passcode)
        .where(Passcode.phone_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _refuse_if_locked(record: Passcode, now: datetime) -> None:
    if record.locked_until is not None and now < record.locked_until:
        raise TooManyRequests(
            "Too many wrong passcodes for this number; try again in "
            f"{math.ceil(_seconds(record.locked_until, now) / 60)} min.",
            headers=_retry_after(record.locked_until, now),
        )


def _count_failure(record: Passcode, now: datetime, rules: PasscodeRules) -> None:
    record.attempts += 1
    record.failures += 1
    record.updated_at = now
    if record.failures % rules.lock_after == 0:
        # Each further run of failures locks for twice as long.
        doublings = min(record.failures // rules.lock_after - 1, 16)
        lock = min(timedelta(minutes=rules.lock_minutes) * 2**doublings, MAX_LOCK)
        record.locked_until = now + lock
        record.code_hash = None


def _source_record(db: Session, key: str, now: datetime) -> PasscodeSource:
    db.execute(
        insert(PasscodeSource)
        .values(source_hash=key, failures=0)
        .on_conflict_do_nothing(index_elements=["source_hash"])
    )
    record = db.scalars(
        select(PasscodeSource)
        .where(PasscodeSource.source_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if record.last_failure_at is not None and now >= record.last_failure_at + SOURCE_STOP:
        record.failures = 0  # a day without a failure: forgotten
    return record


def _refuse_if_source_waits(record: PasscodeSource, now: datetime) -> None:
    if record.blocked_until is not None and now < record.blocked_until:
        raise TooManyRequests(
            "Too many wrong passcodes from your address; try again in "
            f"{_seconds(record.blocked_until, now)} s.",
            headers=_retry_after(record.blocked_until, now),
        )


def _count_source_failure(record: PasscodeSource, now: datetime, rules: PasscodeRules) -> None:
    # A success does not reset the count: an attacker with an account of their own could
    # otherwise wipe it between guesses at other numbers.
    record.failures += 1
    record.last_failure_at = now
    if record.failures >= rules.source_stop_after:
        record.blocked_until = now + SOURCE_STOP
    elif record.failures >= rules.source_slow_after:
        doublings = min(record.failures - rules.source_slow_after, 20)
        record.blocked_until = now + min(timedelta(seconds=2**doublings), MAX_SOURCE_WAIT)


def _texts_in_window(db: Session, now: datetime) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(PasscodeRequest)
            .where(PasscodeRequest.texted, PasscodeRequest.requested_at > now - SEND_WINDOW)
        )
        or 0
    )


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _retry_after(until: datetime, now: datetime) -> dict[str, str]:
    return {"Retry-After": str(_seconds(until, now))}


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
