"""`Idempotency-Key` for mutating POSTs; any capability can put `@idempotent` on a view.

A client that may retry (a phone on a bad network) sends `Idempotency-Key: <key>`, 1 to 255
visible ASCII characters, e.g. a UUID it made for this one user action. Keys belong to the
caller (organization + user + key) and are remembered for IDEMPOTENCY_TTL seconds:

- the first request with a key runs; a 2xx answer is stored with the key;
- the same key again with the same request (method, path, body) gets that stored answer
  back, with `Idempotent-Replayed: true`, and changes nothing;
- the same key with a different request is a 422;
- a second request with the key while the first still runs waits on the key's row lock,
  then gets the first's answer (or runs, when the first failed);
- a key whose change committed without an answer being stored (409 with `Retry-After`
  while that may still come, then, after ANSWER_LOST, a 409 saying the answer was lost).

The key is claimed with an INSERT in the request's own transaction, before the view runs:
the service's single commit stores the claim together with the change, so a change never
commits without its key. The answer is written into the claimed row right after. A request
that fails (4xx, 5xx) before its commit leaves no key behind: nothing changed, so running
it again is safe. One that fails after it (the database gone between the two commits)
leaves the key without an answer.

Put the decorator right under the route decorator, so it sees the finished response.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Response, current_app, make_response, request
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, delete, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from fieldapi.db import Base, session, utcnow
from fieldapi.errors import BadRequest, Conflict, Unprocessable

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DEFAULT_TTL = 24 * 3600
# A key claimed this long ago without an answer will never get one: its request committed
# and then failed. Far above any request's time (statements time out at 15 s).
ANSWER_LOST = timedelta(minutes=2)
_REPLAYED_HEADERS = ("Content-Type", "Location")

OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[!-~]+$",  # visible ASCII, as check_key takes
    },
    "description": "Makes a retry safe: the same key and body within "
    "IDEMPOTENCY_TTL returns the first answer and changes nothing again; the same key "
    "with a different body is a 422.",
}


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


def check_key(raw: str) -> str:
    if not (1 <= len(raw) <= MAX_KEY_LENGTH) or not all(33 <= ord(c) <= 126 for c in raw):
        raise BadRequest(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
            errors={HEADER: ["1 to 255 visible ASCII characters, e.g. a UUID."]},
        )
    return raw


def request_fingerprint() -> str:
    """A hash of what makes two requests "the same": method, path, query and body.

    JSON is compared by value (key order and spacing do not matter); multipart by its
    fields and the bytes of its files; anything else by its raw bytes.
    """
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    if request.mimetype == "multipart/form-data":
        fields = sorted((name, value) for name, value in request.form.items(multi=True))
        files = []
        for name, upload in request.files.items(multi=True):
            files.append((name, hashlib.sha256(upload.stream.read()).hexdigest()))
            upload.stream.seek(0)
        digest.update(json.dumps([fields, sorted(files)]).encode())
    else:
        body = request.get_data(cache=True)
        parsed = request.get_json(silent=True) if request.is_json else None
        if parsed is not None:
            body = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
        digest.update(body)
    return digest.hexdigest()


def _key_row(
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    key: str,
    fingerprint: str,
    now: datetime,
    ttl: timedelta,
) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "user_id": user_id,
        "key": key,
        "fingerprint": fingerprint,
        "method": request.method,
        "path": request.path,
        "created_at": now,
        "expires_at": now + ttl,
    }


def _claim(db: Session, row: dict[str, Any], now: datetime) -> bool:
    """Insert the key (or take over an expired one) in the caller's transaction."""
    insert = pg_insert(IdempotencyKey).values(**row)
    taken_over: dict[str, Any] = {
        name: insert.excluded[name]
        for name in ("fingerprint", "method", "path", "created_at", "expires_at")
    }
    taken_over.update(status_code=None, response_body=None, response_headers=None)
    statement = insert.on_conflict_do_update(
        index_elements=["organization_id", "user_id", "key"],
        set_=taken_over,
        where=IdempotencyKey.expires_at <= now,
    ).returning(IdempotencyKey.key)
    return db.execute(statement).scalar_one_or_none() is not None


def _existing(db: Session, organization_id: uuid.UUID, user_id: uuid.UUID, key: str) -> Any:
    return db.execute(
        select(
            IdempotencyKey.fingerprint,
            IdempotencyKey.status_code,
            IdempotencyKey.response_body,
            IdempotencyKey.response_headers,
            IdempotencyKey.created_at,
        ).where(
            IdempotencyKey.organization_id == organization_id,
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
        )
    ).one_or_none()


def _replay(found: Any, fingerprint: str, now: datetime) -> Response:
    if found is not None and found.fingerprint != fingerprint:
        raise Unprocessable(
            f"This {HEADER} was already used for a different request.",
            errors={HEADER: ["Already used with another method, path or body."]},
        )
    if found is not None and found.status_code is None and found.created_at < now - ANSWER_LOST:
        # The change committed, then building or storing its answer failed (a database that
        # went away in between): telling the phone to retry in a second would loop for a day.
        raise Conflict(
            f"The request with this {HEADER} was carried out, but its answer was lost; read "
            "the resource again to see the result."
        )
    if found is None or found.status_code is None:
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry in a moment.",
            headers={"Retry-After": "1"},
        )
    response = Response(found.response_body or b"", status=found.status_code)
    for name, value in (found.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _store(db: Session, row: dict[str, Any], response: Response) -> None:
    """Write the answer into the claimed key. A view that had to roll its transaction back
    (ingest retrying after a collision) took the claim with it: the key is inserted anew,
    answer included, unless another request has claimed it since."""
    answer = {
        "status_code": response.status_code,
        "response_body": response.get_data(),
        "response_headers": {
            h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers
        },
    }
    updated = db.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.organization_id == row["organization_id"],
            IdempotencyKey.user_id == row["user_id"],
            IdempotencyKey.key == row["key"],
        )
        .values(**answer)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        db.execute(pg_insert(IdempotencyKey).values(**row, **answer).on_conflict_do_nothing())
    db.commit()


def idempotent(view: F) -> F:
    """Honour `Idempotency-Key` on this (authenticated, mutating) view."""
    return _honour_keys(view, authenticate_first=True)


def idempotent_view_authenticates(view: F) -> F:
    """`idempotent` for a view that authenticates its caller itself: a request without the
    header goes straight to the view (the one-ping upload authenticates inside its one
    statement), one with the header is authenticated first, as everywhere."""
    return _honour_keys(view, authenticate_first=False)


def key_sent() -> bool:
    return HEADER in request.headers


def _honour_keys(view: F, *, authenticate_first: bool) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from fieldapi.accounts.auth import current_principal

        raw = request.headers.get(HEADER)
        if raw is None and not authenticate_first:
            return view(*args, **kwargs)
        principal = current_principal()
        if raw is None:
            return view(*args, **kwargs)
        key = check_key(raw)
        fingerprint = request_fingerprint()
        db = session()
        ttl = timedelta(seconds=current_app.config.get("IDEMPOTENCY_TTL", DEFAULT_TTL))
        now = utcnow()
        row = _key_row(
            organization_id=principal.organization_id,
            user_id=principal.user_id,
            key=key,
            fingerprint=fingerprint,
            now=now,
            ttl=ttl,
        )
        if not _claim(db, row, now):
            found = _existing(db, principal.organization_id, principal.user_id, key)
            db.rollback()
            return _replay(found, fingerprint, now)
        response = make_response(view(*args, **kwargs))
        if 200 <= response.status_code < 300:
            _store(db, row, response)
        else:
            db.rollback()  # nothing changed: the key is free for another try
        return response

    # Document the header the way blp.doc would (flask-smorest reads `_apidoc`).
    apidoc = dict(getattr(wrapper, "_apidoc", {}))
    manual = dict(apidoc.get("manual_doc", {}))
    manual["parameters"] = [*manual.get("parameters", []), OPENAPI_PARAMETER]
    apidoc["manual_doc"] = manual
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def prune_expired_keys(db: Session, *, now: datetime) -> int:
    """Forget expired keys (periodic work); returns how many."""
    result = db.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
