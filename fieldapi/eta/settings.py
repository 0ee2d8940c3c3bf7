"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from fieldapi.eta.model import parse_speed_bands
from fieldapi.settings import Setting, SettingError


def _positive(raw: str) -> float:
    value = float(raw)
    if not value > 0:  # also rejects NaN
        raise SettingError(f"must be a positive number, not {raw!r}")
    return value


def _at_least_one(raw: str) -> float:
    value = _positive(raw)
    if value < 1:
        raise SettingError(f"must be at least 1 (roads are never shorter), not {raw!r}")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise SettingError(f"must not be negative, not {raw!r}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ETA_DETOUR_FACTOR",
        1.35,
        _at_least_one,
        "road distance = straight-line distance x this factor",
    ),
    Setting(
        "ETA_SPEED_BANDS",
        parse_speed_bands("3:20,15:40,*:70"),
        parse_speed_bands,
        "`km:km/h` bands, comma separated, the last one `*`: each stretch of the trip is "
        "driven at its band's speed (default `3:20,15:40,*:70`)",
    ),
    Setting("ETA_MIN_MINUTES", 5, _non_negative_int, "an ETA is never shorter than this"),
    Setting(
        "ETA_POSITION_MAX_AGE",
        900,
        _non_negative_int,
        "seconds a technician's latest ping counts as their position when on-my-way "
        "carries no `lat`/`lon`",
    ),
    Setting(
        "ETA_CALIBRATION_MIN_TRIPS",
        20,
        _non_negative_int,
        "an organization's ETAs use speeds fitted from its own trips (on-my-way to arrival) "
        "once it has this many",
    ),
)
