"""Liveness and readiness probes, no authentication."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from fieldapi.db import database
from fieldapi.errors import error_response

blp = Blueprint("health", __name__, description="Probes for load balancers and supervisors")


class ProbeSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


@blp.route("/healthz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, ProbeSchema)
def healthz() -> dict[str, Any]:
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, ProbeSchema)
@blp.alt_response(503, description="The database is not reachable.")
def readyz() -> dict[str, Any] | Response:
    """The database answers."""
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return error_response(503, "The database is not reachable.")
    return {"status": "ready"}
