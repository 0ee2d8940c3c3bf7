"""Per-address rate limits on the views that ask for one (the `limits` library).

Views say which limit applies with `@rate_limited("SETTING")` (a `limits` string such as
"10 per minute; 100 per day" in that setting); `init_extensions` gives each app its own
limiter, so apps built with other settings (tests, a second process) never share counters
in one Python object. The counters live in the app's database by default (`database://`,
see `rate_limit_storage`), so a limit holds across every worker and machine; `redis://...`
and `memory://` (one process only) are the other choices.

Why `limits` itself rather than flask-limiter on top of it: flask-limiter checks every
request in a `before_request` hook, limited or not, and that hook cost the one-ping upload,
the hottest endpoint, about 0.07 ms of its 0.9 ms in-process (an eighth of the time the
ping's statement takes). Only the handful of views that name a limit pay for it here.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from fieldapi.db import database
from fieldapi.errors import error_response
from fieldapi.rate_limit_storage import SCHEME as DATABASE_SCHEME

F = TypeVar("F", bound=Callable[..., Any])

LIMIT_ATTRIBUTE = "_fieldapi_rate_limit"

log = logging.getLogger(__name__)


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


class TooManyRequests(Exception):
    """A limit is spent for this address: answered 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass
class RateLimiter:
    """One app's limiter: its storage and fixed-window counting."""

    storage: Storage
    enabled: bool

    def __post_init__(self) -> None:
        self.windows = FixedWindowRateLimiter(self.storage)

    def hit(self, limits: list[RateLimitItem], endpoint: str, address: str) -> None:
        """Count one request of `address` to `endpoint`; TooManyRequests if a limit is
        spent. Storage unreachable: the request goes through (the database's own limits,
        such as the passcode counters, still hold)."""
        try:
            for limit in limits:
                if not self.windows.hit(limit, endpoint, address):
                    reset_at = self.windows.get_window_stats(limit, endpoint, address).reset_time
                    raise TooManyRequests(max(1, math.ceil(reset_at - time.time())))
        except self.storage.base_exceptions:
            log.exception("rate limit storage unreachable; request let through")


def _storage(app: Flask) -> Storage:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or f"{DATABASE_SCHEME}://"
    options: dict[str, Any] = {}
    if uri.split(":", 1)[0] == DATABASE_SCHEME:
        options["database"] = database(app)
    storage = storage_from_string(uri, **options)
    if not isinstance(storage, Storage):
        raise ValueError(f"RATELIMIT_STORAGE_URI {uri!r} names an asyncio storage")
    return storage


def init_extensions(app: Flask) -> None:
    """A rate limiter for this app, applied to the views marked with `rate_limited`."""
    limiter = RateLimiter(_storage(app), enabled=bool(app.config.get("RATELIMIT_ENABLED", True)))
    app.extensions["fieldapi.limiter"] = limiter
    if limiter.enabled:
        for endpoint, view in list(app.view_functions.items()):
            setting = getattr(view, LIMIT_ATTRIBUTE, None)
            if setting:
                app.view_functions[endpoint] = _limited(
                    view, limiter, parse_many(app.config[setting]), endpoint
                )

    def too_many_requests(error: TooManyRequests) -> Response:
        wait = error.retry_after
        return error_response(
            429,
            f"Too many requests from your address; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )

    app.register_error_handler(TooManyRequests, too_many_requests)


def _limited(
    view: Callable[..., Any], limiter: RateLimiter, limits: list[RateLimitItem], endpoint: str
) -> Callable[..., Any]:
    @functools.wraps(view)
    def counted(*args: Any, **kwargs: Any) -> Any:
        limiter.hit(limits, endpoint, client_address())
        return view(*args, **kwargs)

    return counted
