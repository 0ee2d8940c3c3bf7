"""The texts the enterprise side sends to a provider's dispatchers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fieldapi.accounts.directory import dispatcher_phones
from fieldapi.errors import DomainError
from fieldapi.messaging.outbox import queue_message

MAX_REMINDER_CHARS = 500


@dataclass(frozen=True)
class TextRules:
    phone_region: str = "US"
    allowed_regions: tuple[str, ...] = ("US", "CA")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TextRules:
        return cls(
            phone_region=config["PHONE_DEFAULT_REGION"],
            allowed_regions=tuple(config["SMS_ALLOWED_REGIONS"]),
        )


def offer_text(enterprise: str, title: str) -> str:
    return f"New job offer from {enterprise}: {title}"


def reminder_text(enterprise: str, manager: str, title: str, message: str | None) -> str:
    text = f"{manager} from {enterprise} asks for a status update on {title!r}."
    return f"{text} {message}" if message else text


def text_dispatchers(
    db: Session,
    provider_id: uuid.UUID,
    *,
    body: str,
    purpose: str,
    job_id: uuid.UUID,
    rules: TextRules,
) -> list[str]:
    """Queue `body` to every active dispatcher of the provider; the numbers texted."""
    sent = []
    for phone in dispatcher_phones(db, provider_id):
        try:
            queue_message(
                db,
                organization_id=provider_id,
                to=phone,
                body=body,
                purpose=purpose,
                allowed_regions=rules.allowed_regions,
                job_id=job_id,
            )
        except DomainError:  # a number we may not text: the others still get it
            continue
        sent.append(phone)
    return sent
