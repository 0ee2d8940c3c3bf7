"""GET/POST/PATCH /v1/team: dispatchers manage their own organization's team only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, Organization, User
from fieldapi.messaging.models import Message
from tests.conftest import ApiClient, unique_phone

FIELD_URL = "https://example.com/get/dispatch-field"
MANAGER_URL = "https://example.com/get/dispatch-manager"


def user_row(db: Session, user_id: uuid.UUID | str) -> User:
    db.expire_all()
    return db.get_one(User, uuid.UUID(str(user_id)))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def manager(login_as: Callable[[User], ApiClient], dispatcher: User) -> ApiClient:
    return login_as(dispatcher)


def test_the_team_lists_the_callers_organization_only(
    manager: ApiClient,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    org: Organization,
    dispatcher: User,
    technician: User,
) -> None:
    retired = make_user(org, name="Alex Former", active=False)
    elsewhere = make_org(name="Other Co")
    make_user(elsewhere, name="Not Ours")

    response = manager.get("/v1/team")

    assert response.status_code == 200
    assert [u["id"] for u in response.json] == [
        str(retired.id),
        str(dispatcher.id),
        str(technician.id),
    ]
    assert response.json[0]["active"] is False
    assert {u["organization"]["id"] for u in response.json} == {str(org.id)}


def test_technicians_may_not_manage_the_team(
    login_as: Callable[[User], ApiClient], db: Session, dispatcher: User, technician: User
) -> None:
    tech = login_as(technician)

    listed = tech.get("/v1/team")
    added = tech.post("/v1/team", json={"name": "Pat", "phone": unique_phone(), "role": "both"})
    promoted = tech.patch(f"/v1/team/{technician.id}", json={"role": "dispatcher"})
    demoted = tech.patch(f"/v1/team/{dispatcher.id}", json={"active": False})

    assert [r.status_code for r in (listed, added, promoted, demoted)] == [403] * 4
    assert user_row(db, technician.id).role == "technician"
    assert user_row(db, dispatcher.id).active is True
    assert count(db, User) == 2


def test_the_team_needs_a_token(client: ApiClient, technician: User) -> None:
    assert client.get("/v1/team").status_code == 401
    assert client.post("/v1/team", json={}).status_code == 401
    assert client.patch(f"/v1/team/{technician.id}", json={}).status_code == 401


@pytest.mark.parametrize(
    ("role", "links", "not_links"),
    [
        ("technician", [FIELD_URL], [MANAGER_URL]),
        ("dispatcher", [MANAGER_URL], [FIELD_URL]),
        ("both", [FIELD_URL, MANAGER_URL], []),
    ],
)
def test_adding_a_member_texts_the_apps_for_their_role(
    manager: ApiClient,
    db: Session,
    org: Organization,
    role: str,
    links: list[str],
    not_links: list[str],
) -> None:
    phone = unique_phone()
    national = phone.removeprefix("+1")

    response = manager.post(
        "/v1/team",
        json={
            "name": "  Priya   Nair ",
            "phone": f"{national[:3]}.{national[3:6]}.{national[6:]}",
            "role": role,
        },
    )

    assert response.status_code == 201
    assert response.json["phone"] == phone and response.json["role"] == role
    user = user_row(db, response.json["id"])
    assert (user.organization_id, user.name, user.phone, user.role, user.active) == (
        org.id,
        "Priya Nair",
        phone,
        role,
        True,
    )
    [text] = db.scalars(select(Message).where(Message.to_phone == phone)).all()
    assert text.purpose == "invite" and text.organization_id == org.id
    assert text.body.startswith(f"Hi Priya, {org.name} added you")
    assert all(link in text.body for link in links)
    assert not any(link in text.body for link in not_links)


def test_a_phone_already_on_a_team_is_409(
    manager: ApiClient,
    db: Session,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
    technician: User,
) -> None:
    theirs = make_user(make_org(name="Other Co"))
    users, texts = count(db, User), count(db, Message)

    ours = manager.post(
        "/v1/team", json={"name": "Again", "phone": technician.phone, "role": "technician"}
    )
    other = manager.post("/v1/team", json={"name": "Taken", "phone": theirs.phone, "role": "both"})

    assert ours.status_code == other.status_code == 409
    assert "phone" in ours.json["errors"]
    assert (count(db, User), count(db, Message)) == (users, texts)
    assert user_row(db, theirs.id).organization_id == theirs.organization_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Pat", "phone": "12", "role": "technician"}, "phone"),
        ({"name": "Pat", "phone": "+44 20 7946 0958", "role": "technician"}, "phone"),
        ({"name": "Pat", "role": "technician"}, "phone"),
        ({"name": "", "phone": "+14155550123", "role": "technician"}, "name"),
        ({"name": "   ", "phone": "GOOD", "role": "technician"}, "name"),
        ({"name": "Pat", "phone": "GOOD", "role": "owner"}, "role"),
        ({"name": "Pat", "phone": "GOOD"}, "role"),
        ({"name": "Pat", "phone": "GOOD", "role": "both", "admin": True}, "admin"),
    ],
)
def test_bad_new_members_are_422_and_change_nothing(
    manager: ApiClient, db: Session, body: dict[str, Any], field: str
) -> None:
    if body.get("phone") == "GOOD":
        body = dict(body, phone=unique_phone())
    users, texts = count(db, User), count(db, Message)

    response = manager.post("/v1/team", json=body)

    assert response.status_code == 422
    assert field in response.json["errors"]
    assert (count(db, User), count(db, Message)) == (users, texts)


def test_renaming_and_changing_a_role(manager: ApiClient, db: Session, technician: User) -> None:
    response = manager.patch(
        f"/v1/team/{technician.id}", json={"name": "Samuel Ortiz", "role": "both"}
    )

    assert response.status_code == 200
    assert (response.json["name"], response.json["role"]) == ("Samuel Ortiz", "both")
    user = user_row(db, technician.id)
    assert (user.name, user.role, user.active) == ("Samuel Ortiz", "both", True)


def test_a_role_change_applies_to_live_sessions_at_once(
    manager: ApiClient, login_as: Callable[[User], ApiClient], technician: User
) -> None:
    tech = login_as(technician)
    assert tech.get("/v1/team").status_code == 403

    assert manager.patch(f"/v1/team/{technician.id}", json={"role": "both"}).status_code == 200

    assert tech.get("/v1/team").status_code == 200


@pytest.mark.parametrize("change", [{"active": False}, {"role": "technician"}])
def test_the_last_active_dispatcher_stays_one(
    manager: ApiClient,
    db: Session,
    make_user: Callable[..., User],
    org: Organization,
    dispatcher: User,
    change: dict[str, Any],
) -> None:
    make_user(org, role="dispatcher", active=False)  # an inactive dispatcher does not count

    response = manager.patch(f"/v1/team/{dispatcher.id}", json=change)

    assert response.status_code == 409
    assert "last active dispatcher" in response.json["message"]
    user = user_row(db, dispatcher.id)
    assert (user.role, user.active) == ("dispatcher", True)
    assert db.scalar(
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == dispatcher.id, AuthSession.revoked_at.is_(None))
    )


def test_with_another_dispatcher_a_dispatcher_may_step_down(
    manager: ApiClient,
    db: Session,
    make_user: Callable[..., User],
    org: Organization,
    dispatcher: User,
) -> None:
    lee = make_user(org, role="both", name="Lee Chen")

    demoted = manager.patch(f"/v1/team/{dispatcher.id}", json={"role": "technician"})

    assert demoted.status_code == 200
    assert user_row(db, dispatcher.id).role == "technician"
    # The caller is no manager any more, and Lee is now the last one.
    assert manager.patch(f"/v1/team/{lee.id}", json={"active": False}).status_code == 403
    assert user_row(db, lee.id).active is True


def test_another_organizations_member_is_404_and_unchanged(
    manager: ApiClient,
    db: Session,
    make_org: Callable[..., Organization],
    make_user: Callable[..., User],
) -> None:
    stranger = make_user(make_org(name="Other Co"), name="Their Tech")

    for change in ({"active": False}, {"name": "Mine Now"}, {"role": "dispatcher"}, {}):
        response = manager.patch(f"/v1/team/{stranger.id}", json=change)
        assert response.status_code == 404
        assert response.json["code"] == 404

    user = user_row(db, stranger.id)
    assert (user.name, user.role, user.active) == ("Their Tech", "technician", True)


def test_an_unknown_or_malformed_member_id_is_404(manager: ApiClient) -> None:
    assert manager.patch(f"/v1/team/{uuid.uuid4()}", json={"name": "X"}).status_code == 404
    assert manager.patch("/v1/team/not-a-uuid", json={"name": "X"}).status_code == 404


@pytest.mark.parametrize(
    "body", [{"role": "admin"}, {"name": ""}, {"active": "maybe"}, {"phone": "+14155550100"}]
)
def test_bad_changes_are_422_and_change_nothing(
    manager: ApiClient, db: Session, technician: User, body: dict[str, Any]
) -> None:
    response = manager.patch(f"/v1/team/{technician.id}", json=body)

    assert response.status_code == 422
    user = user_row(db, technician.id)
    assert (user.name, user.role, user.active) == ("Sam Ortiz", "technician", True)


def test_adding_a_member_twice_with_one_idempotency_key_adds_and_texts_once(
    manager: ApiClient, db: Session
) -> None:
    body = {"name": "Rita Moreno", "phone": unique_phone(), "role": "technician"}
    headers = {"Idempotency-Key": "add-rita-1"}
    users_before, texts_before = count(db, User), count(db, Message)

    first = manager.post("/v1/team", json=body, headers=headers)
    retry = manager.post("/v1/team", json=body, headers=headers)
    other = manager.post("/v1/team", json={**body, "name": "Rita M."}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert count(db, User) == users_before + 1
    assert count(db, Message) == texts_before + 1
