"""openapi/openapi.json is generated from the code and kept current."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

from fieldapi.openapi import render_spec
from tests.conftest import ApiClient

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_spec_matches_the_code() -> None:
    assert SPEC_PATH.read_text() == render_spec(), (
        "openapi/openapi.json is stale: run scripts/openapi"
    )


def _filled(path: str, parameters: list[dict[str, Any]]) -> str:
    """The path with each parameter given a value its documented schema accepts."""
    schemas = {p["name"]: p["schema"] for p in parameters if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        schema = schemas[match.group(1)]
        if "enum" in schema:
            return str(schema["enum"][0])
        return str(uuid.uuid4()) if schema.get("format") == "uuid" else "x"

    return re.sub(r"\{(\w+)\}", value, path)


def test_each_operation_the_document_calls_bearer_refuses_a_call_without_a_token(
    client: ApiClient,
) -> None:
    """The document's default is the bearer token: an operation that forgot its
    `security=[]` would be documented as needing a token it does not need."""
    spec = json.loads(render_spec())
    default = spec["security"]
    answered = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if operation.get("security", default) != [{"bearerAuth": []}]:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in body:
                kwargs: dict[str, Any] = {"data": {}, "content_type": "multipart/form-data"}
            else:
                kwargs = {"json": {}} if body else {}
            url = _filled(path, item.get("parameters", []))
            response = client.open(method.upper(), url, **kwargs)
            answered[f"{method.upper()} {path}"] = response.status_code
    assert len(answered) > 80
    assert {op: status for op, status in answered.items() if status != 401} == {}
