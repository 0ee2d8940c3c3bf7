"""Gunicorn in production form, started from `fieldapi serve`."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


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


def run_gunicorn(host: str, port: int, *, workers: int | None, threads: int | None) -> None:
    cores = os.cpu_count() or 1
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers or int(os.environ.get("WEB_CONCURRENCY", 2 * cores)),
            "threads": threads or 1,
            "worker_class": "gthread" if (threads or 1) > 1 else "sync",
            "accesslog": os.environ.get("ACCESS_LOG") or None,
            "errorlog": "-",
            "loglevel": "info",
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            # No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is one per
            # user, so a second server would take it over from the first.
            "control_socket_disable": True,
        }
    ).run()
