"""The registry of configuration variables.

Each capability declares its settings as `Setting`s in its own `settings.py`; the
README's table of environment variables is checked against this registry by a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

Number = TypeVar("Number", int, float)


class SettingError(ValueError):
    pass


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"not a boolean: {raw!r}")


def parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def at_least(minimum: float, kind: Callable[[str], Number]) -> Callable[[str], Number]:
    """A parser of `kind` (int or float) refusing values below `minimum` (and NaN)."""

    def parse(raw: str) -> Number:
        value = kind(raw)
        if not value >= minimum:
            raise SettingError(f"must be {minimum} or more, not {raw!r}")
        return value

    return parse


def more_than(minimum: float, kind: Callable[[str], Number]) -> Callable[[str], Number]:
    """A parser of `kind` (int or float) refusing `minimum`, values below it and NaN."""

    def parse(raw: str) -> Number:
        value = kind(raw)
        if not value > minimum:
            raise SettingError(f"must be more than {minimum}, not {raw!r}")
        return value

    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str

    def read(self, environ: dict[str, str]) -> Any:
        raw = environ.get(self.name)
        if raw is None or raw == "":
            return self.default
        try:
            return self.parse(raw)
        except (ValueError, SettingError) as error:
            raise SettingError(f"{self.name}: {error}") from error
