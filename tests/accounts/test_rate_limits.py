"""Per-address rate limits on the login endpoints (the `limits` library), with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import AuthSession, PasscodeRequest
from tests.conftest import ApiClient, unique_phone


def requests_stored(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(PasscodeRequest)) or 0


def from_address(app: Flask, address: str) -> ApiClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return ApiClient(client)


def test_passcode_requests_are_limited_per_address(
    make_app: Callable[..., Flask], db: Session
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, PASSCODE_RATE_LIMIT="2 per minute")
    one, other = from_address(app, "198.51.100.7"), from_address(app, "203.0.113.9")

    answers = [one.post("/v1/auth/passcode", json={"phone": unique_phone()}) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    refused = answers[2]
    assert refused.is_json and refused.json["code"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert requests_stored(db) == 2
    assert other.post("/v1/auth/passcode", json={"phone": unique_phone()}).status_code == 202
    assert requests_stored(db) == 3


def test_login_attempts_are_limited_per_address(
    make_app: Callable[..., Flask], db: Session
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = from_address(app, "198.51.100.7")
    body = {"phone": unique_phone(), "passcode": "123456"}

    answers = [client.post("/v1/auth/session", json=body) for _ in range(4)]
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": "x"})

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert refresh.status_code == 401  # the refresh endpoint keeps its own count
    assert db.scalar(select(func.count()).select_from(AuthSession)) == 0


def test_behind_trusted_proxies_the_forwarded_address_is_counted(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, PASSCODE_RATE_LIMIT="1 per minute", TRUSTED_PROXY_HOPS=1)
    proxy = from_address(app, "10.0.0.2")

    def ask(forwarded: str) -> int:
        return proxy.post(
            "/v1/auth/passcode",
            json={"phone": unique_phone()},
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    assert ask("198.51.100.7") == 202
    assert ask("203.0.113.9") == 202  # another client behind the same proxy
    assert ask("6.6.6.6, 198.51.100.7") == 429  # a forged first entry changes nothing


def test_without_trusted_proxies_forwarded_headers_are_ignored(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, PASSCODE_RATE_LIMIT="1 per minute")
    client = from_address(app, "198.51.100.7")

    first = client.post("/v1/auth/passcode", json={"phone": unique_phone()})
    forged = client.post(
        "/v1/auth/passcode", json={"phone": unique_phone()}, headers={"X-Forwarded-For": "1.2.3.4"}
    )

    assert (first.status_code, forged.status_code) == (202, 429)


def test_each_app_has_its_own_limiter(make_app: Callable[..., Flask], app: Flask) -> None:
    limited = make_app(RATELIMIT_ENABLED=True, PASSCODE_RATE_LIMIT="1 per minute")
    ApiClient(limited.test_client()).post("/v1/auth/passcode", json={"phone": unique_phone()})

    # The test suite's app has rate limits off, whatever other apps do.
    plain = ApiClient(app.test_client())
    answers = [plain.post("/v1/auth/passcode", json={"phone": unique_phone()}) for _ in range(3)]
    assert [a.status_code for a in answers] == [202] * 3
    assert limited.extensions["fieldapi.limiter"] is not app.extensions["fieldapi.limiter"]


def test_redis_storage_is_used_when_configured(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6399/3")

    storage = app.extensions["fieldapi.limiter"].storage

    assert type(storage).__name__ == "RedisStorage"


def test_limits_in_an_unreachable_storage_let_requests_through(
    make_app: Callable[..., Flask], db: Session
) -> None:
    # Nothing listens on this port: every count fails, and the login must not fail with it
    # (the passcode's own counters in the database still hold).
    app = make_app(
        RATELIMIT_ENABLED=True,
        PASSCODE_RATE_LIMIT="1 per minute",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6399/3",
    )
    client = from_address(app, "198.51.100.8")

    answers = [client.post("/v1/auth/passcode", json={"phone": unique_phone()}) for _ in range(2)]

    assert [a.status_code for a in answers] == [202, 202]
    assert requests_stored(db) == 2
