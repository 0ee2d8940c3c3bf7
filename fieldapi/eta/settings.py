"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fieldapi.eta.model import EtaModel, parse_speed_bands
from fieldapi.settings import Setting, at_least


@dataclass(frozen=True)
class EtaSettings:
    model: EtaModel = field(default_factory=EtaModel)
    position_max_age: timedelta = timedelta(minutes=15)
    calibration_min_trips: int = 20
    calibration_max_age: timedelta = timedelta(minutes=10)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EtaSettings:
        return cls(
            model=EtaModel(
                detour_factor=config["ETA_DETOUR_FACTOR"],
                bands=config["ETA_SPEED_BANDS"],
                min_minutes=config["ETA_MIN_MINUTES"],
            ),
            position_max_age=timedelta(seconds=config["ETA_POSITION_MAX_AGE"]),
            calibration_min_trips=config["ETA_CALIBRATION_MIN_TRIPS"],
            calibration_max_age=timedelta(seconds=config["ETA_CALIBRATION_MAX_AGE"]),
        )


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
    Setting(
        "ETA_CALIBRATION_MAX_AGE",
        600,
        at_least(0, int),
        "seconds an organization's fitted speeds are used before the next ETA fits them "
        "again from its trips",
    ),
)
