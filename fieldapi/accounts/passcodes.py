"""Login passcodes: issued per phone number, stored only as HMACs, guarded against guessing.

Every number gets the same treatment whether or not it has an account: a passcode row
(keyed by a hash of the number), the same limits, the same answer. Only the text itself
goes to active users alone, so nothing a caller sees tells them who is registered.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, Passcode, PasscodeRequest, User
from fieldapi.accounts.numbers import read_phone
from fieldapi.accounts.tokens import hash_token
from fieldapi.errors import TooManyRequests, Unauthorized, Unprocessable
from fieldapi.messaging import templates
from fieldapi.messaging.outbox import queue_message

log = logging.getLogger(__name__)

PASSCODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5  # wrong tries per code
SEND_WINDOW = timedelta(hours=1)
MAX_LOCK = timedelta(days=1)
WRONG_PASSCODE = "The passcode is wrong or has expired; ask for a new one."
_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class PasscodeRules:
    default_region: str = "US"
    allowed_regions: tuple[str, ...] = ("US", "CA")
    sends_per_hour: int = 5
    lock_after: int = 10
    lock_minutes: int = 15
    texts_per_hour: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasscodeRules:
        return cls(
            default_region=config["PHONE_DEFAULT_REGION"],
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
            sends_per_hour=config["PASSCODE_SENDS_PER_HOUR"],
            lock_after=config["PASSCODE_LOCK_AFTER"],
            lock_minutes=config["PASSCODE_LOCK_MINUTES"],
            texts_per_hour=config["PASSCODE_TEXTS_PER_HOUR"],
        )


@dataclass(frozen=True)
class PasscodeSent:
    """The answer to every accepted request, whoever the number belongs to."""

    expires_in: int = int(PASSCODE_TTL.total_seconds())
    resend_after: int = int(RESEND_AFTER.total_seconds())


LOGIN = "login"
BOOKING = "booking"  # a customer proving their number on a booking page


def phone_key(secret_key: str, phone: str, purpose: str = LOGIN) -> str:
    """The record of a number for one purpose: a booking code never logs anyone in, and
    its failures and locks are its own (the same rules and limits apply to each)."""
    if purpose == LOGIN:
        return hash_token(secret_key, f"phone:{phone}")
    return hash_token(secret_key, f"{purpose}:{phone}")


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
    booking_for: Organization | None = None,
) -> PasscodeSent:
    """Issue a new code for the number (replacing any earlier one) and text it if the
    number belongs to an active user. `log_code` is for development with the console
    transport only: the code then also appears in the server's log. `booking_for`: a
    booking code of that organization instead, texted to any number (its own record)."""
    phone = read_phone(
        raw_phone, default_region=rules.default_region, allowed_regions=rules.allowed_regions
    )
    key = phone_key(secret_key, phone, LOGIN if booking_for is None else BOOKING)
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
    to_text = booking_for
    if booking_for is None and user is not None and user.active:
        to_text = db.get_one(Organization, user.organization_id)
    if to_text is not None:
        if budget_left > 0:
            minutes = _minutes(PASSCODE_TTL)
            queue_message(
                db,
                organization_id=to_text.id,
                to=phone,
                body=templates.passcode(to_text.name, code, minutes)
                if booking_for is None
                else templates.booking_code(to_text.name, code, minutes),
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
    return PasscodeSent()


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
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
) -> User:
    """The active user who holds this number and its current code; the code is used up.
    A wrong, used or expired code counts against the number (401); enough of them lock
    it (429). Failures are committed here; success is left for the caller to commit."""
    phone = redeem_code(
        db, raw_phone, raw_code, secret_key=secret_key, now=now, rules=rules, purpose=LOGIN
    )
    user = db.scalar(select(User).where(User.phone == phone))
    if user is None or not user.active:
        db.commit()
        raise Unauthorized(WRONG_PASSCODE)
    return user


def redeem_code(
    db: Session,
    raw_phone: str,
    raw_code: str,
    *,
    secret_key: str,
    now: datetime,
    rules: PasscodeRules,
    purpose: str,
) -> str:
    """Use up the number's current code of `purpose`; the number in E.164. Refusals as
    `redeem_passcode`'s (failures committed; success left for the caller to commit)."""
    phone = read_phone(
        raw_phone, default_region=rules.default_region, allowed_regions=rules.allowed_regions
    )
    code = re.sub(r"[\s-]", "", raw_code)
    if not _CODE.fullmatch(code):
        raise Unprocessable(
            "A passcode is the 6 digits from the text.",
            errors={"passcode": ["A passcode is 6 digits."]},
        )
    key = phone_key(secret_key, phone, purpose)
    record = db.scalars(
        select(Passcode)
        .where(Passcode.phone_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if record is None:
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
        db.commit()
        raise Unauthorized(WRONG_PASSCODE)
    record.consumed_at = now
    record.code_hash = None
    record.failures = 0
    record.locked_until = None
    record.updated_at = now
    return phone


def prune_passcode_records(db: Session, *, now: datetime) -> int:
    """Periodic clean-up: requests older than the hourly window, and passcode rows untouched
    for a month that hold no lock. Returns the number of rows deleted."""
    requests = db.execute(
        delete(PasscodeRequest).where(PasscodeRequest.requested_at < now - SEND_WINDOW)
    )
    codes = db.execute(
        delete(Passcode).where(
            Passcode.updated_at < now - timedelta(days=30),
            or_(Passcode.locked_until.is_(None), Passcode.locked_until < now),
        )
    )
    db.commit()
    return int(requests.rowcount) + int(codes.rowcount)  # type: ignore[attr-defined]


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
        # Each further run of failures locks for twice as long: 100 wrong codes take days.
        doublings = min(record.failures // rules.lock_after - 1, 16)
        lock = min(timedelta(minutes=rules.lock_minutes) * 2**doublings, MAX_LOCK)
        record.locked_until = now + lock
        record.code_hash = None


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
