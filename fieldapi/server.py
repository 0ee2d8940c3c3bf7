"""Gunicorn in production form, started from `fieldapi serve`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import BaseApplication

from fieldapi.logs import gunicorn_log_config

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from fieldapi.app import create_app

        return create_app()


def access_log_target(environ: Mapping[str, str]) -> str | None:
    """ACCESS_LOG: `-` the server's log, a path a file of its own, `off` none; unset: the
    server's log in development, none in production (the proxy in front keeps one)."""
    configured = environ.get("ACCESS_LOG", "").strip()
    if configured.lower() in {"off", "none", "0", "false"}:
        return None
    if configured:
        return configured
    return None if environ.get("FIELDAPI_ENV") == "production" else "-"


def log_config(environ: Mapping[str, str]) -> dict[str, Any]:
    config = gunicorn_log_config(environ.get("FIELDAPI_ENV") or "development")
    access = config["loggers"]["gunicorn.access"]
    target = access_log_target(environ)
    if target is None:
        access["level"] = "WARNING"  # gunicorn writes access lines at INFO
    elif target != "-":
        config["handlers"]["access_file"] = dict(
            config["handlers"]["console"], **{"class": "logging.FileHandler", "filename": target}
        )
        del config["handlers"]["access_file"]["stream"]
        access.update(handlers=["access_file"], propagate=False)
    return config


def gunicorn_options(
    host: str, port: int, *, workers: int | None, threads: int | None, environ: Mapping[str, str]
) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    return {
        "bind": f"{host}:{port}",
        "workers": workers or int(environ.get("WEB_CONCURRENCY", 2 * cores)),
        "threads": threads or 1,
        "worker_class": "gthread" if (threads or 1) > 1 else "sync",
        "logconfig_dict": log_config(environ),
        "access_log_format": ACCESS_LOG_FORMAT,
        "loglevel": "info",
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        # No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is one per
        # user, so a second server would take it over from the first.
        "control_socket_disable": True,
    }


def run_gunicorn(host: str, port: int, *, workers: int | None, threads: int | None) -> None:
    _Gunicorn(
        gunicorn_options(host, port, workers=workers, threads=threads, environ=os.environ)
    ).run()
