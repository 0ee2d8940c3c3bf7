"""Bearer-token authentication for views."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import ACCESS_REFUSED, authenticate
from fieldapi.db import session, utcnow
from fieldapi.errors import Forbidden, NotFound, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])

# What an enterprise's manager reaches besides /v1/enterprise: login, themself, their team.
MANAGER_PATHS = re.compile(r"/v1/(auth/.*|me|team|team/[0-9a-fA-F-]{36})")
ENTERPRISE_PATHS = re.compile(r"/v1/enterprise(/.*)?")


def check_reach(principal: Principal, path: str) -> None:
    """Managers stay on the enterprise side (403 elsewhere); providers' users do not see it
    at all (404)."""
    enterprise_path = ENTERPRISE_PATHS.fullmatch(path) is not None
    if principal.is_enterprise_manager:
        if not enterprise_path and MANAGER_PATHS.fullmatch(path) is None:
            raise Forbidden("Enterprise managers use the /v1/enterprise endpoints.")
    elif enterprise_path:
        raise NotFound("Not found.")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal() -> Principal:
    """The authenticated caller; 401 when the token is missing, wrong, expired or revoked."""
    if "principal" in g:
        principal: Principal = g.principal
        return principal
    token = bearer_token()
    if token is None:
        raise Unauthorized("An access token is required (Authorization: Bearer <token>).")
    found = authenticate(
        session(), token, secret_key=current_app.config["SECRET_KEY"], now=utcnow()
    )
    if found is None:
        raise Unauthorized(ACCESS_REFUSED)
    check_reach(found, request.path)
    g.principal = found
    return found


def login_required(view: F) -> F:
    """Authenticate before the view runs (the view reads `current_principal()`)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_principal()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
