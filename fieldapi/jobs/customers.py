"""Customers: the people and companies work is done for (plain values and a Session in)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, ScalarSelect, cast, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from fieldapi.accounts.organizations import check_timezone
from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import NotFound, Unprocessable
from fieldapi.jobs.models import Customer
from fieldapi.jobs.visibility import visible_customers
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate
from fieldapi.phones import InvalidPhone, to_e164


def site_point(lat: float, lon: float) -> Any:
    return from_shape(Point(lon, lat), srid=4326)


def geography_point(lat: Any, lon: Any) -> ColumnElement[Any]:
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), Geography)


def distance_to_site_m(db: Session, customer_id: uuid.UUID, lat: float, lon: float) -> float | None:
    """Metres from (lat, lon) to the customer's site on the spheroid (PostGIS geography);
    None when the site is unknown."""
    here = geography_point(lat, lon)
    metres = db.scalar(
        select(func.ST_Distance(Customer.site, here)).where(Customer.id == customer_id)
    )
    return None if metres is None else float(metres)


def site_distance_m(customer_id: Any, here: ColumnElement[Any]) -> ScalarSelect[Any]:
    """`distance_to_site_m` from `here` (a geography: `geography_point`, a stored position)
    as a scalar subquery, to read beside other values in one statement (NULL: the site or
    `here` unknown)."""
    return (
        select(func.ST_Distance(Customer.site, here))
        .where(Customer.id == customer_id)
        .scalar_subquery()
    )


def _phone(raw: str, region: str) -> str:
    try:
        return to_e164(raw, region)
    except InvalidPhone as error:
        raise Unprocessable(f"Phone: {error}", errors={"phone": [str(error)]}) from error


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise Unprocessable(f"The {field} cannot be blank.", errors={field: ["Cannot be blank."]})
    return value


def create_customer(
    db: Session,
    principal: Principal,
    *,
    name: str,
    phone: str,
    address: str,
    lat: float,
    lon: float,
    timezone: str,
    email: str | None = None,
    now: datetime,
    phone_region: str = "US",
) -> Customer:
    """`phone_region`: where a number typed without a country code is (PHONE_DEFAULT_REGION)."""
    require_manager(principal, "add customers")
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        name=_text(name, "name"),
        phone=_phone(phone, phone_region),
        email=email,
        address=_text(address, "address"),
        site=site_point(lat, lon),
        timezone=check_timezone(timezone),
        created_at=now,
        updated_at=now,
    )
    db.add(customer)
    db.commit()
    return customer


def find_or_add_customer(
    db: Session,
    organization_id: uuid.UUID,
    *,
    name: str,
    phone: str,
    address: str,
    lat: float,
    lon: float,
    timezone: str,
    email: str | None = None,
    now: datetime,
    phone_region: str = "US",
) -> Customer:
    """The organization's customer with this phone number, else a new one (for an offer
    from an enterprise; flushed, not committed: the offer commits once)."""
    e164 = _phone(phone, phone_region)
    clean = {"name": _text(name, "name"), "address": _text(address, "address")}
    check_timezone(timezone)
    found = db.scalar(
        select(Customer)
        .where(Customer.organization_id == organization_id, Customer.phone == e164)
        .order_by(Customer.created_at, Customer.id)
        .limit(1)
    )
    if found is not None:
        return found
    customer = Customer(
        id=uuid.uuid4(),
        organization_id=organization_id,
        phone=e164,
        email=email,
        site=site_point(lat, lon),
        timezone=timezone,
        created_at=now,
        updated_at=now,
        **clean,
    )
    db.add(customer)
    db.flush()
    return customer


def get_customer(db: Session, principal: Principal, customer_id: uuid.UUID) -> Customer:
    customer = db.scalar(
        select(Customer).where(Customer.id == customer_id, visible_customers(principal))
    )
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def update_customer(
    db: Session,
    principal: Principal,
    customer_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    now: datetime,
    phone_region: str = "US",
) -> Customer:
    require_manager(principal, "edit customers")
    customer = get_customer(db, principal, customer_id)
    if ("lat" in changes) != ("lon" in changes):
        raise Unprocessable(
            "Send lat and lon together.", errors={"lat": ["lat and lon go together."]}
        )
    if "name" in changes:
        customer.name = _text(changes["name"], "name")
    if "address" in changes:
        customer.address = _text(changes["address"], "address")
    if "phone" in changes:
        customer.phone = _phone(changes["phone"], phone_region)
    if "email" in changes:
        customer.email = changes["email"]
    if "timezone" in changes:
        customer.timezone = check_timezone(changes["timezone"])
    if "lat" in changes:
        customer.site = site_point(changes["lat"], changes["lon"])
    customer.updated_at = now
    db.commit()
    return customer


def list_customers(
    db: Session,
    principal: Principal,
    *,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Customer]:
    """Customers by name; `q` matches a part of the name, the phone or the address."""
    statement = select(Customer).where(visible_customers(principal))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                Customer.name.ilike(pattern),
                Customer.phone.ilike(pattern),
                Customer.address.ilike(pattern),
            )
        )
    return paginate(
        db,
        statement,
        keys=(Customer.name, Customer.id),
        key_of=lambda c: (c.name, c.id),
        limit=limit,
        cursor=cursor,
    )


def customers_by_phone(
    db: Session, organization_id: uuid.UUID, phones: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The organization's customer for each of `phones` (E.164, as customers are stored), in
    one query. When several customers share a number, the oldest one is taken."""
    if not phones:
        return {}
    rows = db.execute(
        select(Customer.phone, Customer.id, Customer.name)
        .where(Customer.organization_id == organization_id, Customer.phone.in_(phones))
        .ext(distinct_on(Customer.phone))
        .order_by(Customer.phone, Customer.created_at, Customer.id)
    )
    return {phone: {"id": id_, "name": name} for phone, id_, name in rows if phone}
