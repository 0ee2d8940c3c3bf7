"""HTTP endpoints of accounts."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from fieldapi.accounts.auth import BEARER_SECURITY, current_principal
from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.schemas import UserSchema
from fieldapi.db import session

me_blp = Blueprint("me", __name__, url_prefix="/me", description="The logged-in user")


def user_view(user: User, organization: Organization) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "phone": user.phone,
        "role": user.role,
        "active": user.active,
        "on_duty": user.on_duty,
        "organization": {"id": organization.id, "name": organization.name},
    }


@me_blp.route("")
@me_blp.doc(security=BEARER_SECURITY)
@me_blp.response(200, UserSchema)
def me() -> dict[str, Any]:
    """The logged-in user and their organization."""
    principal = current_principal()
    db = session()
    user = db.get_one(User, principal.user_id)
    return user_view(user, db.get_one(Organization, user.organization_id))


blueprints: tuple[Blueprint, ...] = (me_blp,)
