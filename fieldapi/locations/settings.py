"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from collections.abc import Callable

from fieldapi.settings import Setting, SettingError


def _positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def parse(raw: str) -> float | int:
        value = kind(raw)
        if not value > 0:  # also rejects NaN
            raise SettingError(f"must be a positive number, not {raw!r}")
        return value

    return parse


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LOCATION_MAX_ACCURACY_M",
        200.0,
        _positive(float),
        "pings less accurate than this many metres go to the history only, never to the "
        "latest position or a track",
    ),
    Setting(
        "LOCATION_MAX_SPEED_MPS",
        70.0,
        _positive(float),
        "a ping implying a faster move (m/s) from the previous good fix is kept but flagged",
    ),
    Setting(
        "LOCATION_STALE_AFTER",
        600,
        _positive(int),
        "seconds after which a position is shown as `stale` on the team map",
    ),
    Setting(
        "LOCATION_RETENTION_DAYS",
        60,
        _positive(int),
        "days of ping history kept; older pings are refused and their partitions dropped",
    ),
)
