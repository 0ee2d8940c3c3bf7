"""/v1/me/devices: a token per tracker app, stored hashed, that dies with revocation or
deactivation; dispatchers list and revoke the team's."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import Organization, User
from fieldapi.db import utcnow
from fieldapi.locations.models import TrackerDevice
from tests.conftest import ApiClient
from tests.locations.conftest import stored_pings


def osmand_ping(client: ApiClient, token: str, lat: float = 41.88) -> int:
    moment = int(utcnow().timestamp()) - 60
    response = client.client.get(
        f"/ingest/osmand?id={token}&lat={lat}&lon=-87.63&timestamp={moment}"
    )
    return response.status_code


def test_adding_a_device_answers_its_token_once_and_the_urls_to_paste(
    tech_client: ApiClient, tech: User, db: Session
) -> None:
    response = tech_client.post("/v1/me/devices", json={"name": "  Sam's   Pixel "})
    assert response.status_code == 201, response.json
    body = response.json
    token = body["token"]
    assert body["name"] == "Sam's Pixel" and body["user_id"] == str(tech.id)
    assert body["urls"] == {
        "osmand": f"https://api.example.test/ingest/osmand?id={token}",
        "owntracks": "https://api.example.test/ingest/owntracks",
        "overland": "https://api.example.test/ingest/overland",
    }
    stored = db.scalars(select(TrackerDevice).where(TrackerDevice.user_id == tech.id)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    listed = tech_client.get("/v1/me/devices").json
    assert [d["id"] for d in listed] == [body["id"]]
    assert "token" not in listed[0]


def test_a_device_name_is_required_and_bounded(tech_client: ApiClient) -> None:
    for name in ("", "   ", "x" * 101):
        response = tech_client.post("/v1/me/devices", json={"name": name})
        assert response.status_code == 422, name
    assert tech_client.post("/v1/me/devices", json={}).status_code == 422
    assert tech_client.get("/v1/me/devices").json == []


def test_a_revoked_device_token_stores_nothing(
    tech_client: ApiClient, tech: User, db: Session, device_token: str
) -> None:
    assert osmand_ping(tech_client, device_token) == 200
    assert len(stored_pings(db, tech.id)) == 1
    device_id = tech_client.get("/v1/me/devices").json[0]["id"]
    assert tech_client.delete(f"/v1/me/devices/{device_id}").status_code == 204
    assert osmand_ping(tech_client, device_token, lat=41.89) == 400
    assert len(stored_pings(db, tech.id)) == 1
    assert tech_client.get("/v1/me/devices").json == []
    assert tech_client.delete(f"/v1/me/devices/{device_id}").status_code == 404


def test_a_deactivated_user_s_device_tokens_die_with_them(
    tech_client: ApiClient,
    tech: User,
    dispatcher_client: ApiClient,
    db: Session,
    device_token: str,
) -> None:
    response = dispatcher_client.patch(f"/v1/team/{tech.id}", json={"active": False})
    assert response.status_code == 200, response.json
    assert osmand_ping(tech_client, device_token) == 400
    assert stored_pings(db, tech.id) == []


def test_dispatchers_list_and_revoke_the_team_s_devices_technicians_cannot(
    tech_client: ApiClient,
    tech: User,
    dispatcher_client: ApiClient,
    db: Session,
    device_token: str,
) -> None:
    team = dispatcher_client.get("/v1/team/devices")
    assert team.status_code == 200
    assert [(d["user_id"], d["name"]) for d in team.json] == [(str(tech.id), "Sam's phone")]
    device_id = team.json[0]["id"]
    assert tech_client.get("/v1/team/devices").status_code == 403
    # A dispatcher cannot revoke someone else's device through their own /me path.
    assert dispatcher_client.delete(f"/v1/me/devices/{device_id}").status_code == 404
    assert dispatcher_client.delete(f"/v1/team/devices/{device_id}").status_code == 204
    assert osmand_ping(tech_client, device_token) == 400
    assert stored_pings(db, tech.id) == []


def test_another_organization_s_devices_are_invisible(
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    login_as: Callable[[User], ApiClient],
    dispatcher_client: ApiClient,
    device_token: str,
) -> None:
    other_org = make_org(name="Elsewhere Plumbing")
    other = login_as(make_user(other_org, role="dispatcher"))
    assert other.get("/v1/team/devices").json == []
    device_id = dispatcher_client.get("/v1/team/devices").json[0]["id"]
    assert other.delete(f"/v1/team/devices/{device_id}").status_code == 404
    assert dispatcher_client.get("/v1/team/devices").json[0]["id"] == device_id


def test_devices_need_a_login(client: ApiClient) -> None:
    assert client.get("/v1/me/devices").status_code == 401
    assert client.post("/v1/me/devices", json={"name": "x"}).status_code == 401
