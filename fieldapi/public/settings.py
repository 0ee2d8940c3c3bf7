"""Configuration variables of the customer's side (documented in the README)."""

from __future__ import annotations

from limits import parse_many

from fieldapi.settings import Setting, SettingError


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise SettingError(f"must be 1 or more, not {raw!r}")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise SettingError(f"must be 0 or more, not {raw!r}")
    return value


def _positive(raw: str) -> float:
    value = float(raw)
    if not value > 0:  # also rejects NaN
        raise SettingError(f"must be a positive number, not {raw!r}")
    return value


def _hours(raw: str) -> tuple[int, int]:
    start, sep, end = raw.partition("-")
    try:
        hours = (int(start), int(end))
    except ValueError as error:
        raise SettingError(f"not hours like 21-8: {raw!r}") from error
    if not sep or not all(0 <= hour <= 23 for hour in hours):
        raise SettingError(f"not hours like 21-8: {raw!r}")
    return hours


def _rate_limit(raw: str) -> str:
    try:
        parse_many(raw)
    except ValueError as error:
        raise SettingError(f"not a rate limit: {raw!r} (like '60 per minute')") from error
    return raw


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "QUIET_HOURS",
        (21, 8),
        _hours,
        "`from-to` hours of the customer's night (their timezone) when no reminder is "
        "sent; a reminder due then goes out after it if the visit is still ahead",
    ),
    Setting(
        "TRACKING_LINK_HOURS",
        2,
        _non_negative_int,
        "hours a tracking link keeps working after its visit ended (completed, paused or "
        "canceled); then it is 404 like a link that never existed",
    ),
    Setting(
        "TRACKING_RATE_LIMIT",
        "30 per minute; 600 per hour",
        _rate_limit,
        "requests to `GET /t/<token>` and `GET /v1/tracking/<token>` from one address",
    ),
    Setting(
        "BOOKING_RATE_LIMIT",
        "5 per minute; 30 per hour",
        _rate_limit,
        "requests to `POST /v1/bookings/<slug>/passcode` and `POST /v1/bookings/<slug>` "
        "from one address (each counted apart)",
    ),
    Setting(
        "TRACKING_REFRESH_SECONDS",
        15,
        _positive_int,
        "how often the tracking page asks for a fresh status and ETA",
    ),
    Setting(
        "RUNNING_LATE_AFTER_MINUTES",
        10,
        _positive_int,
        "the ETA of an en-route visit slipping past the arrival the customer was told by "
        "more than this sends one running-late text (at most two per visit)",
    ),
    Setting(
        "ARRIVAL_RADIUS_M",
        150.0,
        _positive,
        "fixes within this distance of the site count toward an arrival",
    ),
    Setting(
        "ARRIVAL_DWELL_SECONDS",
        60,
        _positive_int,
        "an arrival is fixes inside the radius spanning this long, none outside between "
        "them (a drive-by does not count)",
    ),
    Setting(
        "ARRIVAL_MAX_ACCURACY_M",
        50.0,
        _positive,
        "only fixes at least this accurate (`accuracy_m`) count toward an arrival",
    ),
)
