"""Tracking tokens: issued once per visit at on-my-way, stored only as a hash.

A token is 16 random bytes (128 bits) in URL-safe base64: 22 characters of the GSM-7
alphabet, so `PUBLIC_BASE_URL/t/<token>` fits in one SMS segment with the on-my-way text.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from fieldapi.public.models import VisitTracking
from fieldapi.writes import insert_row

TOKEN_BYTES = 16
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")


def token_hash(token: str) -> str:
    # 128 random bits need no salt or key: the hash only keeps a database reader from
    # turning a row back into a working link.
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


def tracking_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/t/{token}"


def start_tracking(
    db: Session,
    *,
    organization_id: uuid.UUID,
    appointment_id: uuid.UUID,
    promised_arrive_by: datetime | None,
    now: datetime,
) -> str:
    """The visit's tracking row with a new token (returned: the only copy of it)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    insert_row(
        db,
        VisitTracking(
            appointment_id=appointment_id,
            organization_id=organization_id,
            token_hash=token_hash(token),
            created_at=now,
            promised_arrive_by=promised_arrive_by,
            eta_arrive_by=promised_arrive_by,
            eta_updated_at=now if promised_arrive_by is not None else None,
            late_texts=0,
        ),
    )
    return token
