"""The ETA model: straight line x detour, driven band by band, at least a minimum."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldapi.config import load_config
from fieldapi.eta.model import (
    DEFAULT_BANDS,
    EtaModel,
    arrive_by,
    clock_text,
    estimate_minutes,
    parse_speed_bands,
    travel_hours,
)
from fieldapi.eta.settings import EtaSettings
from fieldapi.settings import SettingError


@pytest.mark.parametrize(
    ("metres", "minutes"),
    [
        (0, 5),  # the minimum
        (1_000, 5),  # 1.35 km at 20 km/h = 4.05 min, under the minimum
        (2_000, 9),  # 2.7 km at 20 km/h = 8.1 min
        (10_000, 25),  # 3 km at 20 (9 min) + 10.5 km at 40 (15.75 min)
        (50_000, 72),  # 67.5 road km: 9 + 18 + 52.5 km at 70 km/h (45 min)
    ],
)
def test_worked_examples(metres: float, minutes: int) -> None:
    assert estimate_minutes(metres, EtaModel()) == minutes


def test_every_part_is_configurable() -> None:
    model = EtaModel(detour_factor=1.0, bands=((math.inf, 60.0),), min_minutes=0)
    assert estimate_minutes(30_000, model) == 30
    assert estimate_minutes(30_001, model) == 31  # whole minutes, rounded up
    assert estimate_minutes(0, model) == 0


@given(
    st.floats(0, 500_000, allow_nan=False),
    st.floats(0, 500_000, allow_nan=False),
)
def test_farther_is_never_earlier(a: float, b: float) -> None:
    near, far = sorted((a, b))
    assert estimate_minutes(near, EtaModel()) <= estimate_minutes(far, EtaModel())


@given(st.floats(0, 1_000, allow_nan=False))
def test_the_bands_are_continuous(km: float) -> None:
    # no jump at a band's edge: a little farther is a little longer
    step = 1e-6
    assert 0 <= travel_hours(km + step, DEFAULT_BANDS) - travel_hours(km, DEFAULT_BANDS) < 1e-6


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_not_a_distance(bad: float) -> None:
    with pytest.raises(ValueError):
        estimate_minutes(bad, EtaModel())


def test_bands_are_read_from_text() -> None:
    assert parse_speed_bands("3:20,15:40,*:70") == DEFAULT_BANDS
    assert parse_speed_bands(" *:50 ") == ((math.inf, 50.0),)


@pytest.mark.parametrize(
    "raw", ["", "3:20", "3:20,2:30,*:50", "3-20,*:40", "3:0,*:40", "x:20,*:40", "*:40,5:30"]
)
def test_bad_bands_are_refused(raw: str) -> None:
    with pytest.raises(SettingError):
        parse_speed_bands(raw)


def test_settings_come_from_the_environment() -> None:
    config = load_config(
        {
            "SECRET_KEY": "x",
            "ETA_DETOUR_FACTOR": "1.5",
            "ETA_SPEED_BANDS": "10:30,*:90",
            "ETA_MIN_MINUTES": "3",
            "ETA_POSITION_MAX_AGE": "60",
        }
    )
    settings = EtaSettings.from_config(config)
    assert settings.model == EtaModel(1.5, ((10.0, 30.0), (math.inf, 90.0)), 3)
    assert settings.position_max_age.total_seconds() == 60
    defaults = EtaSettings.from_config(load_config({"SECRET_KEY": "x"}))
    assert defaults == EtaSettings()
    for name, value in [
        ("ETA_DETOUR_FACTOR", "0.5"),
        ("ETA_MIN_MINUTES", "-1"),
        ("ETA_SPEED_BANDS", "fast"),
    ]:
        with pytest.raises(SettingError, match=name):
            load_config({"SECRET_KEY": "x", name: value})


NOON_CHICAGO = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 12:00 PM CST


@pytest.mark.parametrize(
    ("arrival", "expected"),
    [
        (datetime(2026, 11, 24, 20, 40, tzinfo=UTC), "2:40 PM"),
        (datetime(2026, 11, 24, 20, 38, tzinfo=UTC), "2:40 PM"),  # rounded to 5 minutes
        (datetime(2026, 11, 24, 20, 42, 20, tzinfo=UTC), "2:40 PM"),
        (datetime(2026, 11, 24, 18, 5, tzinfo=UTC), "12:05 PM"),
        (datetime(2026, 11, 25, 5, 55, tzinfo=UTC), "11:55 PM"),
        (datetime(2026, 11, 25, 6, 10, tzinfo=UTC), "Wed 12:10 AM"),  # tomorrow, locally
    ],
)
def test_the_clock_in_the_customers_timezone(arrival: datetime, expected: str) -> None:
    assert clock_text(arrival, "America/Chicago", now=NOON_CHICAGO) == expected


def test_the_same_moment_elsewhere() -> None:
    arrival = datetime(2026, 11, 24, 20, 40, tzinfo=UTC)
    assert clock_text(arrival, "America/New_York", now=NOON_CHICAGO) == "3:40 PM"
    assert clock_text(arrival, "Pacific/Honolulu", now=NOON_CHICAGO) == "10:40 AM"


def test_arrive_by_is_to_the_second() -> None:
    now = datetime(2026, 11, 24, 18, 0, 12, 345678, tzinfo=UTC)
    assert arrive_by(now, 25) == datetime(2026, 11, 24, 18, 25, 12, tzinfo=UTC)
