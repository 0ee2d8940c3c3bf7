"""The organization's complete reasons: what a technician picks when an appointment ends.

A reason with outcome `complete` completes the job, one with `pause` leaves it `paused`.
Replacing the list never touches appointments: an appointment keeps the code it was
completed with, even when that code is no longer in the list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Unprocessable
from fieldapi.jobs.models import DEFAULT_COMPLETE_REASONS, CompleteReason

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_REASONS = 50
OUTCOMES = ("complete", "pause")


def list_reasons(db: Session, organization_id: uuid.UUID) -> list[CompleteReason]:
    return list(
        db.scalars(
            select(CompleteReason)
            .where(CompleteReason.organization_id == organization_id)
            .order_by(CompleteReason.position, CompleteReason.code)
        )
    )


def check_reasons(reasons: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(code, label, outcome) in order; codes unique, at least one `complete` outcome."""
    if not 1 <= len(reasons) <= MAX_REASONS:
        raise Unprocessable(f"Give 1 to {MAX_REASONS} complete reasons.")
    checked: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for index, reason in enumerate(reasons):
        code, label, outcome = reason["code"], reason["label"].strip(), reason["outcome"]
        problem = None
        if not CODE.match(code):
            problem = "code: lower-case letters, digits, _ and -, at most 64"
        elif code in seen:
            problem = f"code {code!r} appears twice"
        elif not label or len(label) > 200:
            problem = "label: 1 to 200 characters"
        elif outcome not in OUTCOMES:
            problem = "outcome: complete or pause"
        if problem:
            raise Unprocessable(
                f"Complete reason {index + 1}: {problem}.", errors={str(index): [problem]}
            )
        seen.add(code)
        checked.append((code, label, outcome))
    if not any(outcome == "complete" for _, _, outcome in checked):
        raise Unprocessable(
            "At least one reason must complete the job (outcome `complete`).",
            errors={"outcome": ["No reason with outcome complete."]},
        )
    return checked


def add_default_reasons(db: Session, organization_id: uuid.UUID) -> None:
    """A new organization's complete reasons (flushed, not committed)."""
    _add(db, organization_id, DEFAULT_COMPLETE_REASONS)
    db.flush()


def _add(db: Session, organization_id: uuid.UUID, reasons: Sequence[tuple[str, str, str]]) -> None:
    db.add_all(
        CompleteReason(
            organization_id=organization_id,
            code=code,
            label=label,
            outcome=outcome,
            position=position,
        )
        for position, (code, label, outcome) in enumerate(reasons)
    )


def replace_reasons(
    db: Session, principal: Principal, reasons: Sequence[dict[str, Any]]
) -> list[CompleteReason]:
    """Replace the whole list (dispatchers), in the order given."""
    require_manager(principal, "change the complete reasons")
    checked = check_reasons(reasons)
    organization_id = principal.organization_id
    # Two dispatchers saving at once take turns instead of colliding on the primary key.
    # NO KEY UPDATE: inserts referencing the organization (pings, jobs) are not held up.
    db.execute(
        select(Organization.id)
        .where(Organization.id == organization_id)
        .with_for_update(key_share=True)
    )
    db.execute(delete(CompleteReason).where(CompleteReason.organization_id == organization_id))
    _add(db, organization_id, checked)
    db.commit()
    return list_reasons(db, organization_id)
