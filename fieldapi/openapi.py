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
