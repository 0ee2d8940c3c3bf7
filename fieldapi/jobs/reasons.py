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

from sqlalchemy import ScalarSelect, case, delete, exists, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from fieldapi import lifecycle as lc
from fieldapi.accounts.organizations import lock_organization
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Unprocessable
from fieldapi.jobs.models import DEFAULT_COMPLETE_REASONS, CompleteReason, Job

MAX_CODE = 64
MAX_LABEL = 200
CODE_PATTERN = rf"^[a-z0-9][a-z0-9_-]{{0,{MAX_CODE - 1}}}$"
CODE = re.compile(CODE_PATTERN)
MAX_REASONS = 50
OUTCOMES = tuple(str(outcome) for outcome in lc.Outcome)


def list_reasons(db: Session, organization_id: uuid.UUID) -> list[CompleteReason]:
    return list(
        db.scalars(
            select(CompleteReason)
            .where(CompleteReason.organization_id == organization_id)
            .order_by(CompleteReason.position, CompleteReason.code)
        )
    )


def job_reasons() -> ScalarSelect[Any]:
    """A job's complete reasons (those of `reasons_owner`), in `list_reasons`' order, as a
    JSON array of [code, label, outcome]: a column to read with the job's row."""
    enterprise_reason = aliased(CompleteReason)  # not correlated to the outer rows
    enterprise_has_own = exists().where(enterprise_reason.organization_id == Job.offered_by_id)
    owner = case((enterprise_has_own, Job.offered_by_id), else_=Job.organization_id)
    entry = func.json_build_array(CompleteReason.code, CompleteReason.label, CompleteReason.outcome)
    ordered = aggregate_order_by(entry, CompleteReason.position, CompleteReason.code)
    return (
        select(func.coalesce(func.json_agg(ordered), text("'[]'::json")))
        .where(CompleteReason.organization_id == owner)
        .correlate(Job)
        .scalar_subquery()
    )


def reasons_owner(db: Session, job: Job) -> uuid.UUID:
    """Whose complete reasons a job is completed with: those of the enterprise that offered
    it when the enterprise has a list of its own ("complete reasons are specific to each
    account"), else the provider's."""
    if job.offered_by_id is not None:
        has_own = db.scalar(
            select(CompleteReason.code)
            .where(CompleteReason.organization_id == job.offered_by_id)
            .limit(1)
        )
        if has_own is not None:
            return job.offered_by_id
    return job.organization_id


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
            problem = f"code: lower-case letters, digits, _ and -, at most {MAX_CODE}"
        elif code in seen:
            problem = f"code {code!r} appears twice"
        elif not label or len(label) > MAX_LABEL:
            problem = f"label: 1 to {MAX_LABEL} characters"
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
    return write_reasons(db, principal.organization_id, reasons)


def write_reasons(
    db: Session, organization_id: uuid.UUID, reasons: Sequence[dict[str, Any]]
) -> list[CompleteReason]:
    """Check and replace an organization's list (a provider's, or an enterprise's own)."""
    checked = check_reasons(reasons)
    # Two dispatchers saving at once take turns instead of colliding on the primary key.
    lock_organization(db, organization_id)
    db.execute(delete(CompleteReason).where(CompleteReason.organization_id == organization_id))
    _add(db, organization_id, checked)
    db.commit()
    return list_reasons(db, organization_id)
