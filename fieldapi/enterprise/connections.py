"""Connections: an enterprise asks with a provider's connection code, a provider dispatcher
accepts or declines, either side ends it. Offers need an `active` one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from fieldapi.accounts.directory import (
    OrganizationRef,
    lock_organization,
    organizations_among,
    provider_with_code,
)
from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager, require_provider_dispatcher
from fieldapi.enterprise.models import Connection
from fieldapi.errors import Conflict, NotFound

OPEN_STATES = ("pending", "active")


def request_connection(
    db: Session, principal: Principal, connection_code: str, *, now: datetime
) -> Connection:
    """Ask the provider with this code to connect (pending until a dispatcher answers). An
    open request or connection to the same provider is answered as it is."""
    require_enterprise_manager(principal)
    provider_id = provider_with_code(db, connection_code.strip().upper())
    if provider_id is None:
        raise NotFound(
            "No provider has this connection code.",
            errors={"connection_code": ["Unknown code."]},
        )
    # Two requests at once take turns on the enterprise's row, not on the unique index.
    lock_organization(db, principal.organization_id)
    existing = db.scalar(
        select(Connection).where(
            Connection.organization_id == provider_id,
            Connection.enterprise_id == principal.organization_id,
            Connection.state.in_(OPEN_STATES),
        )
    )
    if existing is not None:
        return existing
    connection = Connection(
        id=uuid.uuid4(),
        organization_id=provider_id,
        enterprise_id=principal.organization_id,
        state="pending",
        requested_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(connection)
    db.commit()
    return connection


def enterprise_connections(db: Session, principal: Principal) -> Sequence[Connection]:
    require_enterprise_manager(principal)
    return db.scalars(
        select(Connection)
        .where(Connection.enterprise_id == principal.organization_id)
        .order_by(Connection.created_at.desc(), Connection.id)
    ).all()


def provider_connections(db: Session, principal: Principal) -> Sequence[Connection]:
    require_provider_dispatcher(principal, "see the connections")
    return db.scalars(
        select(Connection)
        .where(Connection.organization_id == principal.organization_id)
        .order_by(Connection.created_at.desc(), Connection.id)
    ).all()


def _locked(db: Session, *where: ColumnElement[bool]) -> Connection:
    found = db.scalar(
        select(Connection).where(*where).with_for_update().execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound("No such connection.")
    return found


def answer_request(
    db: Session, principal: Principal, connection_id: uuid.UUID, *, accept: bool, now: datetime
) -> Connection:
    """A provider dispatcher accepts (`active`) or declines a pending request."""
    require_provider_dispatcher(principal, "answer connection requests")
    connection = _locked(
        db,
        Connection.id == connection_id,
        Connection.organization_id == principal.organization_id,
    )
    if connection.state != "pending":
        raise Conflict(
            f"The connection is {connection.state}; only a pending one can be answered.",
            errors={"state": [connection.state]},
        )
    connection.state = "active" if accept else "declined"
    connection.updated_at = now
    db.commit()
    return connection


def end_connection(
    db: Session, principal: Principal, connection_id: uuid.UUID, *, now: datetime
) -> None:
    """Either side ends a connection: no new offers; the jobs already offered stay."""
    if principal.is_enterprise_manager:
        side, column = "enterprise", Connection.enterprise_id
    else:
        require_provider_dispatcher(principal, "end connections")
        side, column = "provider", Connection.organization_id
    connection = _locked(db, Connection.id == connection_id, column == principal.organization_id)
    if connection.state in OPEN_STATES:
        connection.state = "ended"
        connection.ended_by = side
        connection.ended_at = connection.updated_at = now
    db.commit()


def active_connection(
    db: Session, enterprise_id: uuid.UUID, provider_id: uuid.UUID
) -> Connection | None:
    """The active connection, locked for share: it cannot end while an offer is made."""
    return db.scalar(
        select(Connection)
        .where(
            Connection.enterprise_id == enterprise_id,
            Connection.organization_id == provider_id,
            Connection.state == "active",
        )
        .with_for_update(read=True)
    )


def connected_providers(db: Session, principal: Principal) -> list[OrganizationRef]:
    """The providers of the enterprise's active connections, by name."""
    require_enterprise_manager(principal)
    return organizations_among(
        db,
        select(Connection.organization_id).where(
            Connection.enterprise_id == principal.organization_id, Connection.state == "active"
        ),
    )
