"""The guard every request body passes before any view: its type, its size, and its JSON.

One rule for every endpoint: a body is JSON (`Content-Type: application/json`) unless the
view declares other types with `@takes_body(...)`; any other type is a 415. A body that is
not multipart is at most MAX_JSON_BYTES (413), checked before it is read when it announces
its length. A JSON body is parsed here once, safely: what Python's parser cannot take (too
deep, an integer of thousands of digits) is a 400, not a 500 in the view; a text holding
U+0000, which PostgreSQL's text types cannot store, is a 422.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from fieldapi.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType

F = TypeVar("F", bound=Callable[..., Any])

JSON_TYPE = "application/json"
MULTIPART_TYPE = "multipart/form-data"
MAX_JSON_DEPTH = 64
_BODY_TYPES_ATTRIBUTE = "_fieldapi_body_types"
_PARSES_BODY_ATTRIBUTE = "_fieldapi_parses_own_body"
_NUL_ESCAPE = b"\\u0000"

#: The pattern the document gives a text that must hold more than blanks (names trimmed
#: before they are checked): one character that is not white space, anywhere.
NOT_BLANK = r"\S"


def takes_body(*mimetypes: str, parsed_by_view: bool = False) -> Callable[[F], F]:
    """Declare the body types a view accepts (instead of JSON alone). `parsed_by_view`: the
    view reads and parses the raw body itself, so the guard only checks type and size (and
    a JSON body for NUL text). Put it right under the route decorator."""

    def mark(view: F) -> F:
        setattr(view, _BODY_TYPES_ATTRIBUTE, frozenset(mimetypes))
        setattr(view, _PARSES_BODY_ATTRIBUTE, parsed_by_view)
        return view

    return mark


def _has_body() -> bool:
    length = request.content_length
    if length is not None:
        return length > 0
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _body_types(view: Any) -> frozenset[str]:
    return getattr(view, _BODY_TYPES_ATTRIBUTE, frozenset({JSON_TYPE}))


def check_request_body() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not _has_body():
        return
    accepted = _body_types(view)
    mimetype = JSON_TYPE if request.is_json else request.mimetype
    if mimetype not in accepted:
        raise UnsupportedMediaType(
            f"This endpoint takes {' or '.join(sorted(accepted))}; "
            f"the body was sent as {request.mimetype or 'no content type'}.",
            errors={"Content-Type": [f"Expected {' or '.join(sorted(accepted))}."]},
        )
    if mimetype == MULTIPART_TYPE:
        return  # files: MAX_CONTENT_LENGTH, and the view's own limit per file
    limit = int(current_app.config["MAX_JSON_BYTES"])
    too_large = PayloadTooLarge(f"The body is larger than {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    if mimetype != JSON_TYPE:
        return
    data = request.get_data(cache=True)
    if len(data) > limit:
        raise too_large
    if getattr(view, _PARSES_BODY_ATTRIBUTE, False) and _NUL_ESCAPE not in data:
        return
    check_json_value(parse_json_body(data))


def parse_json_body(data: bytes) -> Any:
    """The parsed body; a 400 that says why for what is not JSON Python can read."""
    try:
        return json.loads(data)
    except RecursionError as error:
        raise BadRequest(
            f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
            errors={"json": ["Nested too deeply."]},
        ) from error
    except json.JSONDecodeError as error:
        raise BadRequest(
            "The body is not valid JSON.", errors={"json": [f"Not valid JSON: {error.msg}."]}
        ) from error
    except ValueError as error:  # not UTF-8, or an integer past Python's digit limit
        raise BadRequest(
            "The body is not valid JSON, or holds a number too long to read.",
            errors={"json": ["Not valid UTF-8 JSON, or a number with thousands of digits."]},
        ) from error


def check_json_value(body: Any) -> None:
    """Walk the parsed body without recursion: not deeper than MAX_JSON_DEPTH, no U+0000
    in any string (keys included)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise Unprocessable(
                    "Text may not contain NUL characters (\\u0000).",
                    errors={"json": ["A string contains \\u0000."]},
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(
                f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels).",
                errors={"json": ["Nested too deeply."]},
            )
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items)


def init_input_guard(app: Flask) -> None:
    app.before_request(check_request_body)
