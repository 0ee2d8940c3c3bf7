"""Flask extensions shared across capabilities (rate limiting).

Views say which limit applies with `@rate_limited("SETTING")` (a flask-limiter string in
that setting); `init_extensions` gives each app its own limiter, so apps built with other
settings (tests, a second process) never keep counters in the same Python object. The
counters live in the app's database by default (`database://`, see `rate_limit_storage`),
so a limit holds across every worker and machine; `redis://...` and `memory://` (one
process only) are the other choices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded

from fieldapi.db import database
from fieldapi.errors import error_response
from fieldapi.rate_limit_storage import SCHEME as DATABASE_SCHEME

F = TypeVar("F", bound=Callable[..., Any])

LIMIT_ATTRIBUTE = "_fieldapi_rate_limit"


def rate_limited(setting: str) -> Callable[[F], F]:
    """Limit the requests one client address makes to this view (each view counted apart).
    Put it right under the route decorator."""

    def mark(view: F) -> F:
        setattr(view, LIMIT_ATTRIBUTE, setting)
        return view

    return mark


def client_address() -> str:
    """The caller's address: the socket's, or the one the trusted proxies recorded."""
    hops = current_app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        forwarded = request.headers.get("X-Forwarded-For", "")
        route = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(route) >= hops:
            return str(route[-hops])
    return request.remote_addr or "unknown"


def _storage(app: Flask) -> tuple[str, dict[str, Any]]:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or f"{DATABASE_SCHEME}://"
    if uri.split(":", 1)[0] == DATABASE_SCHEME:
        return uri, {"database": database(app)}
    return uri, {}


def init_extensions(app: Flask) -> None:
    """A rate limiter for this app, applied to the views marked with `rate_limited`."""
    storage_uri, storage_options = _storage(app)
    limiter = Limiter(
        key_func=client_address,
        storage_uri=storage_uri,
        storage_options=storage_options,
        strategy="fixed-window",
        headers_enabled=False,  # Retry-After is set on the 429 below
        swallow_errors=True,  # storage down: let requests through, the database limits stay
    )
    limiter.init_app(app)
    app.extensions["fieldapi.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        setting = getattr(view, LIMIT_ATTRIBUTE, None)
        if setting:
            limited: Any = limiter.limit(app.config[setting])(view)
            app.view_functions[endpoint] = limited

    def too_many_requests(_error: RateLimitExceeded) -> Response:
        breached = limiter.current_limit
        wait = max(1, math.ceil(breached.window.reset_time - time.time())) if breached else 60
        return error_response(
            429,
            f"Too many requests from your address; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )

    app.register_error_handler(RateLimitExceeded, too_many_requests)
