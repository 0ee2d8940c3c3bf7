"""openapi/openapi.json is generated from the code and kept current."""

from pathlib import Path

from fieldapi.openapi import render_spec

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_spec_matches_the_code() -> None:
    assert SPEC_PATH.read_text() == render_spec(), (
        "openapi/openapi.json is stale: run scripts/openapi"
    )
