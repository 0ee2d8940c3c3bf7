"""The limiter only works on the endpoints that have a limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.accounts.test_rate_limits import from_address
from tests.conftest import unique_phone


def test_endpoints_without_a_limit_are_never_limited_and_limited_ones_still_are(
    make_app: Callable[..., Flask], count_queries: Callable[[], Any]
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    client = from_address(app, "198.51.100.7")

    # An endpoint without a limit never reads or writes a counter.
    with count_queries() as statements:
        assert [client.get("/v1/me").status_code for _ in range(5)] == [401] * 5
    assert not [s for s in statements if "rate_limit_counters" in s]

    body = {"phone": unique_phone(), "passcode": "123456"}
    answers = [client.post("/v1/auth/session", json=body).status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    assert client.get("/v1/me").status_code == 401  # still not limited
