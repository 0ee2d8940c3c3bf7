"""`fieldapi demo` seeds Acme Home Warranty: a manager one can log in as, connected to the
demo provider, with one open offer."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.demo import DEMO_MANAGER_PHONE, seed_demo
from tests.conftest import ApiClient


def test_the_demo_enterprise_has_a_manager_a_connection_and_an_open_offer(
    db: Session, login_as: Callable[[User], ApiClient]
) -> None:
    summary = seed_demo(db)
    db.commit()
    assert summary["enterprise"]["manager_phone"] == DEMO_MANAGER_PHONE
    manager = db.scalars(select(User).where(User.phone == DEMO_MANAGER_PHONE)).one()
    client = login_as(manager)
    me = client.get("/v1/me").json
    assert (me["role"], me["organization"]["name"]) == ("manager", "Acme Home Warranty")
    providers = client.get("/v1/enterprise/providers").json
    assert [p["id"] for p in providers] == [str(summary["organization_id"])]
    jobs = client.get("/v1/enterprise/jobs").json["items"]
    assert [(j["title"], j["status"], j["external_id"]) for j in jobs] == [
        ("Warranty claim: dishwasher", "offered", "ACME-1001")
    ]
    assert jobs[0]["customer"]["name"] == "Maria Lopez"
    assert len(jobs[0]["appointment_windows"]) == 1
