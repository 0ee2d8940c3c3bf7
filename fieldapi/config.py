"""Settings from the environment, with the defaults documented in the README."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from fieldapi.settings import Setting, SettingError, parse_bool


def _environment(raw: str) -> str:
    if raw not in {"development", "production", "test"}:
        raise SettingError("must be development, production or test")
    return raw


CORE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "FIELDAPI_ENV",
        "development",
        _environment,
        "`development`, `test` or `production`; production refuses to start without "
        "`SECRET_KEY`, `DATABASE_URL`, `PUBLIC_BASE_URL` and `TWILIO_AUTH_TOKEN`, or with "
        "`SMS_TRANSPORT` other than `twilio`",
    ),
    Setting(
        "DATABASE_URL",
        None,
        str,
        "PostgreSQL/PostGIS URL (`postgresql://user:pass@host:port/db` or `postgres://...` "
        "as hosting platforms give it). Unset: a project-local PostGIS under `var/postgres`",
    ),
    Setting(
        "SECRET_KEY",
        None,
        str,
        "signs and hashes tokens and passcodes. Unset in development: generated once and "
        "kept in `var/secret_key`",
    ),
    Setting(
        "FIELDAPI_VAR_DIR", None, str, "where local state lives (default `var/` in the checkout)"
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "http://127.0.0.1:8000",
        str,
        "the address clients and Twilio use to reach the API; webhook signatures are "
        "checked against it (set it to the https address behind a proxy)",
    ),
    Setting("MAX_JSON_BYTES", 1024 * 1024, int, "largest JSON body accepted (413 above)"),
    Setting("SQL_ECHO", False, parse_bool, "log every SQL statement SQLAlchemy runs"),
    Setting(
        "DATABASE_STATEMENT_TIMEOUT_MS",
        15000,
        int,
        "an API statement running (or waiting for a lock) longer is canceled and its request "
        "answered 503; 0: no limit",
    ),
)


def all_settings() -> tuple[Setting, ...]:
    from fieldapi.accounts.settings import SETTINGS as accounts
    from fieldapi.enterprise.settings import SETTINGS as enterprise
    from fieldapi.eta.settings import SETTINGS as eta
    from fieldapi.jobs.settings import SETTINGS as jobs
    from fieldapi.locations.settings import SETTINGS as locations
    from fieldapi.messaging.settings import SETTINGS as messaging
    from fieldapi.metrics import SETTINGS as metrics
    from fieldapi.public.settings import SETTINGS as public
    from fieldapi.web.settings import SETTINGS as web

    return (
        CORE_SETTINGS
        + accounts
        + messaging
        + locations
        + jobs
        + eta
        + web
        + enterprise
        + public
        + metrics
    )


def _development_secret_key(var_dir_setting: str | None) -> str:
    from pathlib import Path

    from fieldapi.paths import var_dir

    path = (Path(var_dir_setting) if var_dir_setting else var_dir()) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def check_production(config: Mapping[str, Any], env: Mapping[str, str]) -> None:
    """Refuse the defaults that only make sense on a laptop: with them the service would
    start, log passcodes instead of texting them, and refuse every Twilio webhook."""
    missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not config[name]]
    if not env.get("PUBLIC_BASE_URL", "").strip():  # the default is never Twilio's way back
        missing.append("PUBLIC_BASE_URL")
    if missing:
        raise SettingError(f"production settings need {', '.join(missing)}")
    if config["SMS_TRANSPORT"] != "twilio":
        raise SettingError(
            f"production sends texts through Twilio, not SMS_TRANSPORT={config['SMS_TRANSPORT']}"
            " (which would log login passcodes instead of texting them)"
        )
    if not config["TWILIO_AUTH_TOKEN"]:
        raise SettingError("production settings need TWILIO_AUTH_TOKEN (it signs webhooks)")


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every registered setting; apply the production guard rails."""
    env = dict(os.environ if environ is None else environ)
    config = {setting.name: setting.read(env) for setting in all_settings()}
    if config["FIELDAPI_ENV"] == "production":
        check_production(config, env)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _development_secret_key(config["FIELDAPI_VAR_DIR"])
    return config
