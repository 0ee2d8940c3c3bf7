"""The OpenAPI document, generated from the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def generate_spec() -> dict[str, Any]:
    from fieldapi.app import create_app

    app = create_app({"DATABASE_URL": "postgresql://openapi@localhost/unused"})
    with app.app_context():
        spec: dict[str, Any] = app.extensions["fieldapi.api"].spec.to_dict()
    return spec


def render_spec() -> str:
    return json.dumps(generate_spec(), indent=2, sort_keys=True) + "\n"


def write_spec(path: str | Path) -> None:
    Path(path).write_text(render_spec())


def null_or_the_nested_schema(
    converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """An apispec attribute function: apispec documents a nullable Nested field (OpenAPI 3.0)
    as anyOf [any object or null, the schema], which calls every object valid; the API takes
    null or the schema, so the first branch is narrowed to null alone."""
    for branch in ret.get("anyOf", []):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}
