"""An enterprise's webhook: where it is, the secret deliveries are signed with, the guard
against addresses inside our own network, and the signature scheme.

`X-Fieldapi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed
by the secret shown once when the webhook is saved.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldapi.accounts.principal import Principal
from fieldapi.enterprise.access import require_enterprise_manager
from fieldapi.enterprise.models import EnterpriseWebhook, WebhookDelivery
from fieldapi.errors import Unprocessable
from fieldapi.pagination import DEFAULT_LIMIT, Page, paginate

SIGNATURE_HEADER = "X-Fieldapi-Signature"
MAX_URL = 2000

Resolver = Callable[[str, int], Sequence[str]]


class UnsafeAddress(ValueError):
    """The URL leads somewhere a webhook must not go."""


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """An http(s) URL with a host; unless `allow_private`, every address it resolves to is
    public (not loopback, private, link-local, multicast, reserved or unspecified)."""
    if allow_private:
        _host_and_port(url)
    else:
        checked_addresses(url, allow_private=False, resolver=resolver)
    return url


def checked_addresses(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> list[str]:
    """The addresses the URL's host resolves to now, each public unless `allow_private`:
    the ones to connect to (`pinned_http`), as a second lookup may answer otherwise."""
    host, port = _host_and_port(url)
    try:
        addresses = list(resolver(host, port))
    except (OSError, UnicodeError) as error:
        raise UnsafeAddress(f"the host {host} does not resolve") from error
    if not addresses:
        raise UnsafeAddress(f"the host {host} does not resolve")
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise UnsafeAddress(f"the host resolves to a non-public address ({ip})")
    return addresses


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeAddress("the URL must not carry a user name or password")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class SavedWebhook:
    url: str
    secret: str


def save_webhook(
    db: Session,
    principal: Principal,
    url: str,
    *,
    now: datetime,
    allow_private: bool,
    resolver: Resolver = resolve,
) -> SavedWebhook:
    """Set (or replace) the URL; a new secret each time, shown only in this answer."""
    require_enterprise_manager(principal)
    url = url.strip()
    try:
        if len(url) > MAX_URL:
            raise UnsafeAddress(f"at most {MAX_URL} characters")
        check_url(url, allow_private=allow_private, resolver=resolver)
    except UnsafeAddress as error:
        raise Unprocessable(f"Webhook URL: {error}.", errors={"url": [str(error)]}) from error
    secret = "whsec_" + secrets.token_hex(24)
    found = db.get(EnterpriseWebhook, principal.organization_id, with_for_update=True)
    if found is None:
        found = EnterpriseWebhook(organization_id=principal.organization_id, created_at=now)
        db.add(found)
    found.url, found.secret, found.updated_at = url, secret, now
    db.commit()
    return SavedWebhook(url, secret)


def remove_webhook(db: Session, principal: Principal) -> None:
    """No more deliveries; those still queued fail when their turn comes."""
    require_enterprise_manager(principal)
    db.execute(
        delete(EnterpriseWebhook).where(
            EnterpriseWebhook.organization_id == principal.organization_id
        )
    )
    db.commit()


def list_deliveries(
    db: Session, principal: Principal, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[WebhookDelivery]:
    """The latest deliveries first, with their attempts and the receiver's answers."""
    require_enterprise_manager(principal)
    return paginate(
        db,
        select(WebhookDelivery).where(WebhookDelivery.organization_id == principal.organization_id),
        keys=(WebhookDelivery.id,),
        key_of=lambda row: (row.id,),
        limit=limit,
        cursor=cursor,
        descending=True,
    )
