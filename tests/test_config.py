"""Configuration from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapi.config import load_config
from fieldapi.db import normalize_database_url
from fieldapi.settings import SettingError


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(SettingError, match="SECRET_KEY"):
        load_config({"FIELDAPI_ENV": "production", "DATABASE_URL": "postgresql://x@y/z"})


PRODUCTION = {
    "FIELDAPI_ENV": "production",
    "SECRET_KEY": "k",
    "DATABASE_URL": "postgresql://x@y/z",
    "PUBLIC_BASE_URL": "https://api.example.com",
    "SMS_TRANSPORT": "twilio",
    "TWILIO_AUTH_TOKEN": "t",
}


def test_production_starts_with_its_settings() -> None:
    assert load_config(PRODUCTION)["PUBLIC_BASE_URL"] == "https://api.example.com"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": " "}, "PUBLIC_BASE_URL"),
        ({"SMS_TRANSPORT": None}, "SMS_TRANSPORT=console"),
        ({"SMS_TRANSPORT": "console"}, "SMS_TRANSPORT=console"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
    ],
)
def test_production_refuses_laptop_defaults(change: dict[str, str | None], named: str) -> None:
    env = {**PRODUCTION, **change}
    with pytest.raises(SettingError, match=named):
        load_config({name: value for name, value in env.items() if value is not None})


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path: Path) -> None:
    first = load_config({"FIELDAPI_VAR_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_config({"FIELDAPI_VAR_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 40
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_an_explicit_secret_key_wins(tmp_path: Path) -> None:
    config = load_config({"FIELDAPI_VAR_DIR": str(tmp_path), "SECRET_KEY": "explicit"})
    assert config["SECRET_KEY"] == "explicit"
    assert not (tmp_path / "secret_key").exists()


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingError, match="FIELDAPI_ENV"):
        load_config({"FIELDAPI_ENV": "staging-ish"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_hosting_platform_urls_work_as_given(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_every_setting_is_documented_in_the_readme() -> None:
    from fieldapi.config import all_settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [s.name for s in all_settings() if f"`{s.name}`" not in readme]
    assert missing == []
