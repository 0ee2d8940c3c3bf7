"""A text's status moves only forward, through `message_status.move`, and only there."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import fieldapi
from fieldapi.db import utcnow
from fieldapi.messaging.message_status import NEXT, IllegalMove, MessageStatus, move
from fieldapi.messaging.models import MESSAGE_STATUSES, Message

S = MessageStatus


def text_in(status: MessageStatus) -> Message:
    """A text of no job (nothing goes to an activity log), never added to the session."""
    return Message(
        id=uuid.uuid4(), to_phone="+15125550100", body="hi", purpose="test", status=str(status)
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.QUEUED, S.SENT),  # never handed over without a claim
        (S.SENT, S.QUEUED),
        (S.DELIVERED, S.UNDELIVERED),
        (S.READ, S.DELIVERED),
        (S.BLOCKED, S.QUEUED),
        (S.FAILED, S.SENDING),
    ],
    ids=lambda s: str(s),
)
def test_a_text_never_moves_back_or_skips_the_claim(
    db: Session, before: MessageStatus, after: MessageStatus
) -> None:
    message = text_in(before)
    with pytest.raises(IllegalMove, match=f"from {before} to {after}"):
        move(db, message, after, utcnow())
    assert message.status == before


def test_a_move_stamps_the_time_ends_the_lease_and_notes_the_first_delivery(
    db: Session,
) -> None:
    now = utcnow()
    message = text_in(S.SENDING)
    message.lease_until = now
    move(db, message, S.SENT, now)
    assert (message.status, message.updated_at, message.lease_until) == ("sent", now, None)
    assert message.delivered_at is None
    move(db, message, S.DELIVERED, now)
    later = utcnow()
    move(db, message, S.READ, later)
    assert message.delivered_at == now and message.updated_at == later


def test_the_table_covers_every_status_the_database_accepts() -> None:
    assert set(NEXT) == set(MessageStatus)
    assert set(MESSAGE_STATUSES) == {str(status) for status in MessageStatus}


def test_no_module_assigns_a_status_but_move() -> None:
    package = Path(fieldapi.__file__).parent
    home = package / "messaging" / "message_status.py"
    assigning = []
    for path in (package / "messaging").rglob("*.py"):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    assigning.append(f"{path.name}:{node.lineno}")
    assert assigning == []
