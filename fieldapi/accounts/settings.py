"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

import phonenumbers
from limits import parse_many

from fieldapi.settings import Setting, SettingError, parse_bool


def _region(raw: str) -> str:
    region = raw.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingError(f"not a phone region: {raw!r} (use an ISO code like US)")
    return region


def _rate_limit(raw: str) -> str:
    try:
        parse_many(raw)
    except ValueError as error:
        raise SettingError(
            f"not a rate limit: {raw!r} (like '10 per minute; 50 per hour')"
        ) from error
    return raw


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise SettingError("must be 1 or more")
    return value


def _non_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise SettingError("must be 0 or more")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PHONE_DEFAULT_REGION",
        "US",
        _region,
        "region assumed for phone numbers typed without a country code",
    ),
    Setting(
        "PASSCODE_SENDS_PER_HOUR",
        5,
        _positive,
        "passcode requests one phone number may make in an hour (429 with `Retry-After` above)",
    ),
    Setting(
        "PASSCODE_LOCK_AFTER",
        100,
        _positive,
        "consecutive wrong passcodes for a number, from any addresses, that lock it (NIST SP "
        "800-63B's cap); each further run of as many failures locks it again for twice as long",
    ),
    Setting(
        "PASSCODE_LOCK_MINUTES",
        1440,
        _positive,
        "how long a number's first lock lasts (doubling per further lock, at most 30 days)",
    ),
    Setting(
        "PASSCODE_SOURCE_SLOW_AFTER",
        10,
        _positive,
        "wrong passcodes from one address (any numbers) after which it must wait before each "
        "further try: 1 s, doubling per failure, at most 15 min (429 with `Retry-After`)",
    ),
    Setting(
        "PASSCODE_SOURCE_STOP_AFTER",
        20,
        _positive,
        "wrong passcodes from one address that stop its logins for a day; an address's count "
        "is forgotten a day after its last failure",
    ),
    Setting(
        "PASSCODE_TEXTS_PER_HOUR",
        1000,
        _positive,
        "global budget of passcode texts per hour, all numbers together (stops SMS pumping); "
        "past it the API still answers 202 but sends nothing and logs a warning",
    ),
    Setting(
        "PASSCODE_ANSWER_FLOOR_MS",
        100,
        _non_negative,
        "an accepted passcode request is answered no sooner than this many ms after it "
        "arrived, so that the text queued only for a registered number does not show in "
        "the timing (0: off)",
    ),
    Setting("ACCESS_TOKEN_MINUTES", 15, _positive, "lifetime of an access token"),
    Setting(
        "REFRESH_TOKEN_DAYS",
        30,
        _positive,
        "lifetime of a refresh token; each refresh issues a new one with a fresh lifetime",
    ),
    Setting(
        "REFRESH_RETRY_SECONDS",
        30,
        _non_negative,
        "a refresh token sent again this soon after its use, before a newer one is used, is "
        "a retry of a lost answer and gets a new pair; later, or 0, it ends the session",
    ),
    Setting(
        "FIELD_APP_URL",
        "https://example.com/get/dispatch-field",
        str,
        "download link of Dispatch Field, texted to new technicians",
    ),
    Setting(
        "MANAGER_APP_URL",
        "https://example.com/get/dispatch-manager",
        str,
        "download link of Dispatch Manager, texted to new dispatchers",
    ),
    Setting(
        "RATELIMIT_ENABLED", True, parse_bool, "per-address rate limits on the login endpoints"
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "database://",
        str,
        "where rate-limit counters live: `database://` in the app's PostgreSQL, shared by "
        "every process and machine; `redis://host:6379/0` in Redis; `memory://` per process",
    ),
    Setting(
        "PASSCODE_RATE_LIMIT",
        "10 per minute; 100 per hour",
        _rate_limit,
        "requests to `POST /v1/auth/passcode` from one address",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "20 per minute; 200 per hour",
        _rate_limit,
        "requests to `POST /v1/auth/session` and to `POST /v1/auth/refresh` from one address "
        "(each endpoint counted apart)",
    ),
    Setting(
        "TRUSTED_PROXY_HOPS",
        0,
        _non_negative,
        "proxies in front of the API that append to `X-Forwarded-For`; the client address "
        "for rate limits is taken that many entries from the end (0: the socket's address)",
    ),
)
