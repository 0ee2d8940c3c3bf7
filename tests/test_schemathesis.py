"""Schemathesis over every operation of openapi/openapi.json, against the app on real PostGIS.

Each operation is called with requests drawn from its documented schema, once without a
token and once with a dispatcher's: no answer may be a server error, every answer must match
the document, and a request the document calls valid must not be refused as malformed
(a 401/403/404/409/429 is still fine: the request was well formed), unless it breaks a rule
the operation documents as its own refusal (DOCUMENTED_REFUSALS). Few examples, a fixed seed
and no shrinking keep it under two minutes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, Response
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig, SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
)

from fieldapi.accounts.models import Organization, User

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


# Where the API is right to refuse a request its document calls valid, for a rule an OpenAPI
# 3.0 schema cannot state (a value only we issue, a number libphonenumber calls unreal, a rule
# across two fields), the refusal is documented on the operation and accepted here: that status
# with an answer whose message or one of its errors holds one of the listed sentences, and
# nothing else. Any other refusal of a schema-valid request still fails. Keep it small; say why.
@dataclass(frozen=True)
class DocumentedRefusal:
    status: int
    messages: tuple[str, ...]  # the answer's message or one of its errors holds one of them
    why: str


CURSOR = "The cursor is not valid"
NOT_A_PHONE = ("This is not a phone number.", "This phone number is not valid.")
OPAQUE_CURSOR = "an opaque cursor: only one this API gave is a cursor"
NOT_A_REAL_PHONE = "a phone in any common form; libphonenumber decides which numbers exist"
KEY_REUSED = "This Idempotency-Key was already used"
DRAWN_KEY_AGAIN = "the same Idempotency-Key drawn again for another body"

DOCUMENTED_REFUSALS: dict[str, DocumentedRefusal] = {
    "GET /v1/appointments": DocumentedRefusal(
        422,
        (CURSOR, "`to` must be after `from`"),
        f"{OPAQUE_CURSOR}; `to` within 62 days after `from`",
    ),
    "GET /v1/customers": DocumentedRefusal(422, (CURSOR,), OPAQUE_CURSOR),
    "GET /v1/jobs": DocumentedRefusal(422, (CURSOR,), OPAQUE_CURSOR),
    "GET /v1/messages": DocumentedRefusal(422, (CURSOR,), OPAQUE_CURSOR),
    "GET /v1/messages/inbound": DocumentedRefusal(
        422, (CURSOR, *NOT_A_PHONE), f"{OPAQUE_CURSOR}; {NOT_A_REAL_PHONE}"
    ),
    "GET /v1/users/{user_id}/track": DocumentedRefusal(
        422,
        ("A track covers at most 7 days", "until must be after since"),
        "until after since, at most 7 days later (two fields)",
    ),
    "GET /v1/dispatch/nearest": DocumentedRefusal(
        422,
        ("Give lat and lon, or appointment_id.",),
        "lat and lon, or appointment_id (two fields)",
    ),
    "POST /v1/appointments/{appointment_id}/actions/on-my-way": DocumentedRefusal(
        422, ("Send lat and lon together.",), "lat with lon (two fields)"
    ),
    "PATCH /v1/settings/organization": DocumentedRefusal(
        422,
        ("Unknown timezone", "Unknown currency", "Pick a booking_slug before turning booking on."),
        "an IANA timezone, an ISO 4217 currency; booking needs a slug (two fields)",
    ),
    "POST /v1/auth/passcode": DocumentedRefusal(422, NOT_A_PHONE, NOT_A_REAL_PHONE),
    "POST /v1/auth/session": DocumentedRefusal(422, NOT_A_PHONE, NOT_A_REAL_PHONE),
    "POST /v1/customers": DocumentedRefusal(
        422, (*NOT_A_PHONE, "Unknown timezone"), f"{NOT_A_REAL_PHONE}; an IANA timezone"
    ),
    "POST /v1/team": DocumentedRefusal(
        422,
        (*NOT_A_PHONE, "The role must be one of dispatcher, technician, both."),
        f"{NOT_A_REAL_PHONE}; a provider has no managers",
    ),
    "POST /v1/locations": DocumentedRefusal(422, (KEY_REUSED,), DRAWN_KEY_AGAIN),
    "GET /ingest/osmand": DocumentedRefusal(
        400, ("Unknown or revoked device id.",), "the device id is a token only we issue"
    ),
    "POST /ingest/osmand": DocumentedRefusal(
        400, ("Unknown or revoked device id.",), "the device id is a token only we issue"
    ),
    "PUT /ingest/osmand": DocumentedRefusal(
        400, ("Unknown or revoked device id.",), "the device id is a token only we issue"
    ),
    "PUT /v1/settings/working-hours": DocumentedRefusal(
        422,
        ("One span per weekday.", "A span starts before it ends"),
        "one span per weekday, starts before ends (across items and fields)",
    ),
    "PUT /v1/settings/complete-reasons": DocumentedRefusal(
        422,
        ("At least one reason must complete the job", "Give 1 to", "appears twice"),
        "1 to 50 reasons, codes unique, one with outcome complete (across items)",
    ),
    "GET /v1/team/locations": DocumentedRefusal(
        422, ("min before max",), "the south edge not above the north one (two numbers)"
    ),
}


def _expected_statuses(refusal: DocumentedRefusal) -> list[str]:
    return [*PositiveDataAcceptanceConfig().expected_statuses, str(refusal.status)]


CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-name": label,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": _expected_statuses(refusal)}
                },
            }
            for label, refusal in DOCUMENTED_REFUSALS.items()
        ]
    }
)


def _sentences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [sentence for item in value for sentence in _sentences(item)]
    return []


def refusal_is_the_documented_one(ctx: CheckContext, response: Response, case: Case) -> None:
    """A schema-valid request answered with the operation's documented refusal status must be
    refused for a documented rule (its message or one of its errors says so), not another."""
    refusal = DOCUMENTED_REFUSALS.get(case.operation.label)
    if refusal is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != refusal.status:
        return  # positive_data_acceptance judges every other status
    answer = response.json()
    said = _sentences([answer.get("message"), answer.get("errors")])
    if not any(rule in sentence for rule in refusal.messages for sentence in said):
        raise AssertionError(f"A schema-valid request was refused for another rule: {answer}")


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    positive_data_acceptance,
    refusal_is_the_documented_one,
]

# Every operation, the signed Twilio webhooks included: unsigned, they are refused with a 403,
# which is an answer the document gives.
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)


@pytest.fixture(params=["anonymous", "dispatcher"])
def auth_headers(
    request: pytest.FixtureRequest,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], Any],
) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    dispatcher = make_user(make_org(), role="dispatcher")
    return {"Authorization": f"Bearer {login_as(dispatcher).token}"}


@schema.parametrize()
@settings(
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_operation_keeps_to_the_document(
    case: Any, app: Flask, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        app=app, base_url="http://localhost", headers=auth_headers, checks=CHECKS
    )


def test_each_documented_refusal_is_in_the_document() -> None:
    document = json.loads(SPEC_PATH.read_text())
    for label, refusal in DOCUMENTED_REFUSALS.items():
        method, path = label.split(" ", 1)
        answer = document["paths"][path][method.lower()]["responses"][str(refusal.status)]
        described = answer.get("description", "")
        assert described and described != "Unprocessable Entity", label


def _a_schema_valid_list_request() -> Case:
    drawn: list[Case] = []

    @given(schema["/v1/jobs"]["GET"].as_strategy())
    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    def draw(case: Case) -> None:
        drawn.append(case)

    draw()
    return drawn[0]


def test_a_documented_refusal_passes_and_another_refusal_fails(
    client: Any,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], Any],
) -> None:
    case = _a_schema_valid_list_request()
    headers = {
        "Authorization": f"Bearer {login_as(make_user(make_org(), role='dispatcher')).token}"
    }
    not_a_cursor = Response.from_any(client.get("/v1/jobs?cursor=bm90LW91cnM", headers=headers))
    limit_refused = Response.from_any(client.get("/v1/jobs?limit=0", headers=headers))
    assert not_a_cursor.status_code == limit_refused.status_code == 422

    refusal_is_the_documented_one(None, not_a_cursor, case)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="refused for another rule"):
        refusal_is_the_documented_one(None, limit_refused, case)  # type: ignore[arg-type]
