"""HTTP endpoints: customers."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from fieldapi.accounts.auth import current_principal, login_required
from fieldapi.db import session, utcnow
from fieldapi.errors import refusal
from fieldapi.idempotency import idempotent
from fieldapi.jobs import customers
from fieldapi.jobs.models import Customer
from fieldapi.jobs.schemas import (
    CustomerCreateSchema,
    CustomerPageSchema,
    CustomerQuerySchema,
    CustomerSchema,
    CustomerUpdateSchema,
)
from fieldapi.pagination import Page

blp = Blueprint("customers", __name__, url_prefix="/customers", description="Customers")


def phone_region() -> str:
    region: str = current_app.config["PHONE_DEFAULT_REGION"]
    return region


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(CustomerCreateSchema)
@blp.response(201, CustomerSchema)
@blp.alt_response(
    422,
    **refusal("a `phone` libphonenumber calls no real number; a `timezone` that is no IANA name"),
)
def create_customer(body: dict[str, Any]) -> Customer:
    """Add a customer (dispatchers)."""
    return customers.create_customer(
        session(), current_principal(), now=utcnow(), phone_region=phone_region(), **body
    )


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(CustomerQuerySchema, location="query")
@blp.response(200, CustomerPageSchema)
@blp.alt_response(422, **refusal("a `cursor` that is not a `next_cursor` of this list"))
def list_customers(query: dict[str, Any]) -> Page[Customer]:
    """Customers by name (technicians: those of their jobs); paginated."""
    return customers.list_customers(session(), current_principal(), **query)


@blp.route("/<uuid:customer_id>", methods=["GET"])
@login_required
@blp.response(200, CustomerSchema)
def get_customer(customer_id: uuid.UUID) -> Customer:
    """One customer."""
    return customers.get_customer(session(), current_principal(), customer_id)


@blp.route("/<uuid:customer_id>", methods=["PATCH"])
@login_required
@blp.arguments(CustomerUpdateSchema)
@blp.response(200, CustomerSchema)
def update_customer(body: dict[str, Any], customer_id: uuid.UUID) -> Customer:
    """Edit a customer (dispatchers); `lat` and `lon` go together."""
    return customers.update_customer(
        session(), current_principal(), customer_id, body, now=utcnow(), phone_region=phone_region()
    )
