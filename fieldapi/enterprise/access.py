"""Who may act on the enterprise side: the checks the enterprise's services start with."""

from __future__ import annotations

from fieldapi.accounts.principal import Principal
from fieldapi.errors import Forbidden, NotFound


def require_enterprise_manager(principal: Principal) -> None:
    """A manager of an enterprise (a provider's user never sees this side: 404)."""
    if not principal.is_enterprise_manager:
        raise NotFound("Not found.")


def require_provider_dispatcher(principal: Principal, what: str) -> None:
    if principal.is_enterprise_manager:
        raise NotFound("Not found.")
    if not principal.is_dispatcher:
        raise Forbidden(f"Only dispatchers can {what}.")
