"""The shared number parsers every capability declares its settings with."""

from __future__ import annotations

import pytest

from fieldapi.settings import SettingError, at_least, more_than


def test_at_least_takes_the_minimum_and_refuses_below_it_and_nan() -> None:
    parse = at_least(1, int)
    assert parse("1") == 1 and parse("7") == 7
    with pytest.raises(SettingError, match="must be 1 or more, not '0'"):
        parse("0")
    with pytest.raises(SettingError, match="nan"):
        at_least(0, float)("nan")


def test_more_than_refuses_the_minimum_itself() -> None:
    parse = more_than(0, float)
    assert parse("0.5") == 0.5
    with pytest.raises(SettingError, match="must be more than 0, not '0'"):
        parse("0")
