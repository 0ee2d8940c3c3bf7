"""PUT /v1/me/duty: off duty, a technician's pings are stored nowhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from tests.conftest import ApiClient
from tests.locations.conftest import latest, ping, post_pings, stored_pings
from tests.test_app import assert_error_shape


def test_a_user_starts_on_duty_and_can_go_off_and_back(
    tech_client: ApiClient, tech: User, db: Session
) -> None:
    assert tech.on_duty is True
    response = tech_client.put("/v1/me/duty", json={"on_duty": False})
    assert response.status_code == 200
    assert response.json == {"on_duty": False}
    db.refresh(tech)
    assert tech.on_duty is False
    assert tech_client.put("/v1/me/duty", json={"on_duty": True}).json == {"on_duty": True}
    db.refresh(tech)
    assert tech.on_duty is True


def test_off_duty_pings_are_rejected_and_stored_nowhere(
    tech_client: ApiClient, tech: User, db: Session, base_time: datetime
) -> None:
    post_pings(tech_client, [ping(base_time)])
    before = latest(db, tech.id)
    tech_client.put("/v1/me/duty", json={"on_duty": False})
    response = post_pings(
        tech_client,
        [
            ping(base_time + timedelta(minutes=1)),
            {"lat": 1},
            ping(base_time + timedelta(minutes=2)),
        ],
    )
    assert response.status_code == 200
    assert response.json["stored"] == 0
    rejected = response.json["rejected"]
    assert [r["index"] for r in rejected] == [0, 1, 2]
    assert "off duty" in rejected[0]["message"] and "off duty" in rejected[2]["message"]
    assert "required" in rejected[1]["message"]
    assert len(stored_pings(db, tech.id)) == 1
    assert latest(db, tech.id) == before

    tech_client.put("/v1/me/duty", json={"on_duty": True})
    assert post_pings(tech_client, [ping(base_time + timedelta(minutes=3))]).json["stored"] == 1


@pytest.mark.parametrize("body", [{}, {"on_duty": "false"}, {"on_duty": 0}, {"on_duty": None}])
def test_duty_needs_a_boolean(tech_client: ApiClient, tech: User, db: Session, body: Any) -> None:
    response = tech_client.put("/v1/me/duty", json=body)
    assert response.status_code == 422
    assert_error_shape(response.json, 422)
    db.refresh(tech)
    assert tech.on_duty is True


def test_duty_needs_a_token(client: ApiClient) -> None:
    assert client.put("/v1/me/duty", json={"on_duty": False}).status_code == 401
    assert client.put("/v1/me/duty", json={"on_duty": "nonsense"}).status_code == 401
