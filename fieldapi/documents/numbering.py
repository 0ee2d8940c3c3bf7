"""Document numbers: gapless per organization and kind, never reused.

The counter row is bumped by one upsert in the creating transaction: a second creator
waits on the row's lock until the first commits (then gets the next number) or rolls
back (then gets the same one, which was never used). Revisions keep their number.
"""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from fieldapi.documents.models import DocumentCounter


def next_number(db: Session, organization_id: uuid.UUID, kind: str) -> int:
    upsert = insert(DocumentCounter).values(
        organization_id=organization_id, kind=kind, last_number=1
    )
    statement = upsert.on_conflict_do_update(
        index_elements=[DocumentCounter.organization_id, DocumentCounter.kind],
        set_={"last_number": DocumentCounter.last_number + 1},
    ).returning(DocumentCounter.last_number)
    number: int = db.execute(statement).scalar_one()
    return number
