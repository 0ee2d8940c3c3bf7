"""The OpenAPI document, generated from the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from marshmallow import validate

#: A marshmallow schema's `Meta.openapi`: schema-level rules (`minProperties`...) the
#: document states for it, which apispec has no field for.
SCHEMA_RULES = "openapi"


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


def exclusive_bounds(
    converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """An apispec attribute function: a Range that excludes its bound (`min_inclusive=False`)
    is documented with OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum; apispec
    writes the bound alone, which calls the bound itself valid."""
    bounds: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = True
    return bounds


class SchemaRulesPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin, adding a schema's `Meta.openapi` rules to its component."""

    # MarshmallowPlugin's signature, which apispec's BasePlugin types differently
    def schema_helper(self, name: Any, _: Any, schema: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)  # type: ignore[no-untyped-call]
        if json_schema is not None:
            rules = getattr(resolve_schema_instance(schema).Meta, SCHEMA_RULES, {})
            json_schema.update(rules)
        return json_schema
