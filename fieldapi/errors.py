"""The one JSON error shape, and domain errors mapped to HTTP statuses in one table."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
import sqlalchemy.exc
from flask import Flask, Response, jsonify
from flask_smorest.error_handler import ErrorSchema
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An error a service raises; the table below turns it into an HTTP answer."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class Unprocessable(DomainError):
    status = 422


class TooManyRequests(DomainError):
    status = 429


class ServiceUnavailable(DomainError):
    status = 503


def refusal(rule: str) -> dict[str, Any]:
    """`alt_response(422, **refusal(...))`: the 422 of an operation that also refuses, for a
    rule its schema cannot state (a value only the API issues, one across two fields),
    requests the schema calls valid; `rule` names it."""
    return {"schema": ErrorSchema, "description": f"The input is not valid: {rule}"}


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
    }
    if errors:
        body["errors"] = errors
    return body


def error_response(
    status: int,
    message: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = jsonify(error_body(status, message, errors))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


_DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
    415: "Unsupported content type.",
    422: "The input is not valid.",
    429: "Too many requests; try again later.",
    500: "Something went wrong on our side.",
}


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    locations = {"json", "query", "form", "files", "headers"}
    if (
        isinstance(errors, dict)
        and len(errors) == 1
        and set(errors) <= locations
        and isinstance(next(iter(errors.values())), dict)
    ):
        # webargs nests errors by location; flatten the single-location case, unless the
        # location holds a list (invalid JSON): `errors` is an object, as documented.
        errors = next(iter(errors.values()))
    message = str(data.get("message") or _DEFAULT_MESSAGES.get(status) or error.description)
    if status == 422 and errors and "message" not in data:
        message = "The input is not valid: " + ", ".join(sorted(map(str, errors)))
    headers = dict(data.get("headers") or {})
    if status == 429 and getattr(error, "retry_after", None):
        headers["Retry-After"] = str(error.retry_after)  # type: ignore[attr-defined]
    response = error_response(status, message, errors, headers)
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


def handle_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.message, error.errors, error.headers)


# A database that is down, failing over, or canceled a statement at its timeout: the
# request may succeed later, so clients (the apps' offline queues) are told to retry.
_DATABASE_BUSY = frozenset({"57014", "55P03", "40001", "40P01"})  # canceled, lock, retry


def handle_database_unavailable(error: Exception) -> Response:
    orig = getattr(error, "orig", error)
    first_line = next(iter(str(orig).strip().splitlines()), "")
    log.warning("database unavailable for a request: %s", first_line)
    if getattr(orig, "sqlstate", None) in _DATABASE_BUSY:
        message = "The database is busy; try again shortly."
    else:
        message = "The database is not reachable; try again shortly."
    return error_response(503, message, headers={"Retry-After": "5"})


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return error_response(500, _DEFAULT_MESSAGES[500])


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(sqlalchemy.exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(psycopg.OperationalError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
