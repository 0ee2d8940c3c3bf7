"""Role rules of accounts: who counts as a manager, and whose details a caller may see.

Dispatchers and users with role `both` manage their organization; which jobs and
appointments a caller sees is `fieldapi.jobs.visibility`.
"""

from __future__ import annotations

import uuid

from fieldapi.accounts.principal import Principal
from fieldapi.errors import Forbidden


def is_manager(principal: Principal) -> bool:
    return principal.is_dispatcher


def require_manager(principal: Principal, what: str = "do this") -> None:
    if not is_manager(principal):
        raise Forbidden(f"Only dispatchers can {what}.")


def require_team_admin(principal: Principal, what: str = "do this") -> None:
    """Team management: a provider's dispatchers, or an enterprise's managers."""
    if not (principal.is_dispatcher or principal.is_enterprise_manager):
        raise Forbidden(f"Only dispatchers can {what}.")


def may_see_user(principal: Principal, user_id: uuid.UUID) -> bool:
    """A user's track and details: managers, or the user themself."""
    return is_manager(principal) or principal.user_id == user_id
