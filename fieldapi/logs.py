"""Logging: one format for every process (JSON lines in production, readable lines in
development and tests) and the request id that marks every line of a request.

The request id is the caller's `X-Request-Id` when it is a sensible token, else a new
one; it is echoed in the answer's `X-Request-Id` and carried by every log record made
while the request runs (`record.request_id`, `-` outside a request).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request

HEADER = "X-Request-Id"
_CALLER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _current.get()


def _install_record_factory() -> None:
    """Every record, whichever handler gets it (caplog's too), carries the request id."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current.get()
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


def init_request_ids(app: Flask) -> None:
    @app.before_request
    def take_request_id() -> None:
        sent = request.headers.get(HEADER, "")
        request_id = sent if _CALLER_ID.fullmatch(sent) else uuid.uuid4().hex
        request.environ["fieldapi.request_id"] = request_id
        request.environ["fieldapi.request_id_token"] = _current.set(request_id)

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        request_id = request.environ.get("fieldapi.request_id")
        if request_id:
            response.headers[HEADER] = request_id
        return response

    @app.teardown_request
    def forget_request_id(_error: BaseException | None) -> None:
        token = request.environ.pop("fieldapi.request_id_token", None)
        if token is not None:
            _current.reset(token)


def _request_id_of(record: logging.LogRecord) -> str:
    # gunicorn's access line is written after the request: it reads the answer's header.
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        return str(record.args.get("{x-request-id}o") or "-")
    return str(getattr(record, "request_id", "-"))


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message (and the error)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": _request_id_of(record),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    """`2026-12-01 22:27:03,051 INFO fieldapi.sms [rid] message`, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = _request_id_of(record)
        return super().format(record)


def formatter_for(environment: str) -> logging.Formatter:
    return JsonLinesFormatter() if environment == "production" else ReadableFormatter()


def configure_logging(environment: str) -> None:
    """One handler on the root logger, to stderr, in the environment's format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(environment))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("fieldapi").setLevel(logging.INFO)


def gunicorn_log_config(environment: str) -> dict[str, Any]:
    """gunicorn's own lines (and its access log) in the same format, through the root."""
    formatter = "json" if environment == "production" else "readable"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonLinesFormatter},
            "readable": {"()": ReadableFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "WARNING", "handlers": ["console"]},
        "loggers": {
            "fieldapi": {"level": "INFO", "propagate": True},
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }
