"""What dispatchers see of the texts customers send back (those that were not keywords)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.accounts.policy import require_manager
from fieldapi.accounts.principal import Principal
from fieldapi.errors import Unprocessable
from fieldapi.jobs.customers import customers_by_phone
from fieldapi.messaging.models import InboundMessage
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate
from fieldapi.phones import InvalidPhone, to_e164


@dataclass(frozen=True)
class ReceivedText:
    """A text a customer sent, with the organization's customer of that number, if any."""

    message: InboundMessage
    customer: dict[str, Any] | None


def list_inbound(
    db: Session,
    principal: Principal,
    *,
    from_phone: str | None = None,
    default_region: str = "US",
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ReceivedText]:
    """The texts the organization received, newest first; a page of `limit` after `cursor`."""
    require_manager(principal, "read the texts customers send")
    query = select(InboundMessage).where(
        InboundMessage.organization_id == principal.organization_id
    )
    if from_phone is not None:
        try:
            phone = to_e164(from_phone, default_region)
        except InvalidPhone as error:
            raise Unprocessable(str(error), errors={"from_phone": [str(error)]}) from error
        query = query.where(InboundMessage.from_phone == phone)
    page = paginate(
        db,
        query,
        keys=(InboundMessage.received_at, InboundMessage.id),
        key_of=lambda message: (message.received_at, message.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    customers = customers_by_phone(
        db, principal.organization_id, {message.from_phone for message in page.items}
    )
    return Page(
        [ReceivedText(message, customers.get(message.from_phone)) for message in page.items],
        page.next_cursor,
    )
