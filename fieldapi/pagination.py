"""Keyset pagination: `?limit=` (1-100, default 50) and an opaque `?cursor=`.

A list answers `{"items": [...], "next_cursor": "..." | null}`; pass `next_cursor` back as
`cursor` for the next page. A cursor encodes the sort key of the last item, so pages stay
right while rows are added (no skipped or repeated items, unlike offsets).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapi.errors import Unprocessable

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class PageQuerySchema(Schema):
    """`?limit=&cursor=` of every list; lists add their filters in a subclass."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"items per page, 1 to {MAX_LIMIT}"},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(1, 500),
        metadata={"description": "`next_cursor` of the previous page"},
    )


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """The schema of a page of `item`s, named `name` in the OpenAPI document."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(
                allow_none=True,
                metadata={"description": "pass as `cursor` for the next page; null at the end"},
            ),
        },
        name=name,
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _tag(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"cannot page on {value!r}")
    return ["i" if isinstance(value, int) else "s", value]


def _untag(item: Any) -> Any:
    kind, value = item
    if kind == "t":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time in cursor")
        return moment
    if kind == "u":
        return uuid.UUID(value)
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "s" and isinstance(value, str):
        return value
    raise ValueError(f"bad cursor item {item!r}")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_tag(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        items = json.loads(raw)
        if not isinstance(items, list) or len(items) != size:
            raise ValueError("wrong size")
        return [_untag(item) for item in items]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise Unprocessable(
            "The cursor is not valid; pass the `next_cursor` of the previous page.",
            errors={"cursor": ["Not a cursor of this list."]},
        ) from error


def paginate(
    db: Session,
    statement: Select[T],
    *,
    keys: Sequence[QueryableAttribute[Any]],
    key_of: Callable[[T], Sequence[Any]],
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[T]:
    """One page of `statement` (which selects one entity) ordered by `keys`, unique
    together (end them with the id); `limit` is held to 1..MAX_LIMIT."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor is not None:
        after = decode_cursor(cursor, len(keys))
        row_key, cursor_key = tuple_(*keys), tuple_(*after)
        statement = statement.where(row_key < cursor_key if descending else row_key > cursor_key)
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list(db.scalars(statement.order_by(*order).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key_of(rows[-1])) if more and rows else None
    return Page(rows, next_cursor)
