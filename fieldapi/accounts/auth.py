"""Bearer-token authentication for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from fieldapi.accounts.principal import Principal
from fieldapi.accounts.sessions import ACCESS_REFUSED, authenticate
from fieldapi.db import session, utcnow
from fieldapi.errors import Unauthorized

F = TypeVar("F", bound=Callable[..., Any])

BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


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
    g.principal = found
    return found


def login_required(view: F) -> F:
    """Authenticate before the view runs (the view reads `current_principal()`)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_principal()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
