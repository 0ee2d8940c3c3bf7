"""Complete reasons: per organization, validated, replaced as a whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.jobs.models import CompleteReason, Job
from tests.conftest import ApiClient
from tests.jobs.conftest import appointments_of, load_job

NEW_LIST = [
    {"code": "done", "label": "Job done", "outcome": "complete"},
    {"code": "needs-part", "label": "Needs a part", "outcome": "pause"},
]


def stored(db: Session, organization: Organization) -> list[tuple[str, str, str, int]]:
    db.expire_all()
    return [
        (r.code, r.label, r.outcome, r.position)
        for r in db.scalars(
            select(CompleteReason)
            .where(CompleteReason.organization_id == organization.id)
            .order_by(CompleteReason.position)
        )
    ]


def test_a_new_organization_has_the_default_list(
    dispatcher_client: ApiClient, tech_client: ApiClient
) -> None:
    reasons = dispatcher_client.get("/v1/settings/complete-reasons").json
    assert reasons[0] == {
        "code": "repaired",
        "label": "Repaired (job completed)",
        "outcome": "complete",
    }
    assert {r["outcome"] for r in reasons[1:]} == {"pause"}
    assert tech_client.get("/v1/settings/complete-reasons").json == reasons


def test_a_dispatcher_replaces_the_list(
    dispatcher_client: ApiClient,
    db: Session,
    org: Organization,
    make_org: Callable[..., Organization],
) -> None:
    elsewhere = make_org(name="Other Co")
    theirs = stored(db, elsewhere)
    response = dispatcher_client.put("/v1/settings/complete-reasons", json=NEW_LIST)
    assert response.status_code == 200, response.json
    assert response.json == NEW_LIST
    assert stored(db, org) == [
        ("done", "Job done", "complete", 0),
        ("needs-part", "Needs a part", "pause", 1),
    ]
    assert stored(db, elsewhere) == theirs


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([], "1 to 50"),
        ([{"code": "wait", "label": "Wait", "outcome": "pause"}], "complete"),
        ([*NEW_LIST, {"code": "done", "label": "Again", "outcome": "pause"}], "twice"),
        ([{"code": "Done!", "label": "x", "outcome": "complete"}], ""),
        ([{"code": "done", "label": "", "outcome": "complete"}], ""),
        ([{"code": "done", "label": "x", "outcome": "finished"}], ""),
        ([{"code": "done", "label": "x"}], ""),
        ({"code": "done", "label": "x", "outcome": "complete"}, ""),
    ],
)
def test_bad_lists_are_422_and_keep_the_old_one(
    dispatcher_client: ApiClient, db: Session, org: Organization, body: Any, why: str
) -> None:
    before = stored(db, org)
    response = dispatcher_client.put("/v1/settings/complete-reasons", json=body)
    assert response.status_code == 422, response.json
    assert why in response.json["message"]
    assert stored(db, org) == before


def test_technicians_cannot_change_the_list(
    tech_client: ApiClient, db: Session, org: Organization
) -> None:
    before = stored(db, org)
    assert tech_client.put("/v1/settings/complete-reasons", json=NEW_LIST).status_code == 403
    assert stored(db, org) == before


def test_appointments_keep_a_removed_code_and_the_new_codes_work(
    make_job: Callable[..., Job],
    tech: User,
    tech_client: ApiClient,
    dispatcher_client: ApiClient,
    db: Session,
) -> None:
    old = make_job(technician=tech)
    tech_client.post(
        f"/v1/appointments/{old.appointments[0].id}/actions/complete",
        json={"reason_code": "parts_ordered"},
    )
    assert dispatcher_client.put("/v1/settings/complete-reasons", json=NEW_LIST).status_code == 200
    [row] = appointments_of(db, old.id)
    assert (row.reason_code, row.outcome) == ("parts_ordered", "pause")
    assert load_job(db, old.id).status == "paused"
    assert (
        dispatcher_client.get(f"/v1/jobs/{old.id}").json["appointments"][0]["reason_code"]
        == "parts_ordered"
    )
    new = make_job(technician=tech)
    gone = tech_client.post(
        f"/v1/appointments/{new.appointments[0].id}/actions/complete",
        json={"reason_code": "repaired"},
    )
    assert gone.status_code == 422
    done = tech_client.post(
        f"/v1/appointments/{new.appointments[0].id}/actions/complete", json={"reason_code": "done"}
    )
    assert done.status_code == 200 and done.json["status"] == "complete"
