"""A guard every JSON body passes before any view: no NUL characters in text.

PostgreSQL's text types cannot hold U+0000, so a name or a note containing one would fail
its INSERT with a 500. JSON can only carry it escaped (`\\u0000`): a byte search finds the
rare body that might, and only such a body is parsed and walked.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app, request

from fieldapi.errors import Unprocessable

_NUL_ESCAPE = b"\\u0000"


def has_nul(value: Any) -> bool:
    """Whether a string anywhere in a parsed JSON value (keys included) contains U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def reject_nul_characters() -> None:
    if not request.is_json:
        return
    length = request.content_length
    if length is None or length > current_app.config["MAX_JSON_BYTES"]:
        return  # the view answers 413 (or reads a chunked body within its own limit)
    data = request.get_data(cache=True)
    if _NUL_ESCAPE not in data:
        return
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return  # not JSON at all: the view answers 400
    if has_nul(body):
        raise Unprocessable(
            "Text may not contain NUL characters (\\u0000).",
            errors={"json": ["A string contains \\u0000."]},
        )


def init_input_guard(app: Flask) -> None:
    app.before_request(reject_nul_characters)
