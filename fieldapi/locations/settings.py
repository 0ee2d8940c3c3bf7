"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from fieldapi.settings import Setting, more_than

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "LOCATION_MAX_ACCURACY_M",
        200.0,
        more_than(0, float),
        "pings less accurate than this many metres go to the history only, never to the "
        "latest position or a track",
    ),
    Setting(
        "LOCATION_MAX_SPEED_MPS",
        70.0,
        more_than(0, float),
        "a ping implying a faster move (m/s) from the previous good fix is kept but flagged",
    ),
    Setting(
        "LOCATION_STALE_AFTER",
        600,
        more_than(0, int),
        "seconds after which a position is shown as `stale` on the team map",
    ),
    Setting(
        "LOCATION_RETENTION_DAYS",
        60,
        more_than(0, int),
        "days of ping history kept; older pings are refused and their partitions dropped",
    ),
)
