"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from fieldapi.eta.model import parse_speed_bands
from fieldapi.settings import Setting, at_least

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ETA_DETOUR_FACTOR",
        1.35,
        at_least(1, float),  # roads are never shorter
        "road distance = straight-line distance x this factor",
    ),
    Setting(
        "ETA_SPEED_BANDS",
        parse_speed_bands("3:20,15:40,*:70"),
        parse_speed_bands,
        "`km:km/h` bands, comma separated, the last one `*`: each stretch of the trip is "
        "driven at its band's speed (default `3:20,15:40,*:70`)",
    ),
    Setting("ETA_MIN_MINUTES", 5, at_least(0, int), "an ETA is never shorter than this"),
    Setting(
        "ETA_POSITION_MAX_AGE",
        900,
        at_least(0, int),
        "seconds a technician's latest ping counts as their position when on-my-way "
        "carries no `lat`/`lon`",
    ),
    Setting(
        "ETA_CALIBRATION_MIN_TRIPS",
        20,
        at_least(0, int),
        "an organization's ETAs use speeds fitted from its own trips (on-my-way to arrival) "
        "once it has this many",
    ),
)
