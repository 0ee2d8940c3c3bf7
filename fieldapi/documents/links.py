"""The customer's link to a document: `PUBLIC_BASE_URL/d/<token>`, with the tracking
link's token rules (fieldapi.public.links: 128 random bits, stored only as a hash)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapi.documents.models import Document
from fieldapi.errors import NotFound
from fieldapi.public.links import TOKEN_BYTES, looks_like_token, token_hash

NO_SUCH_LINK = "This document link does not exist or no longer works."


def new_link(document: Document) -> str:
    """A fresh token for the document (the only copy: the caller texts it)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    document.link_token_hash = token_hash(token)
    return token


def document_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/d/{token}"


def live_document(db: Session, token: str, *, for_update: bool = False) -> Document:
    """The document of a live link; NotFound once voided or replaced (or never issued)."""
    if not looks_like_token(token):
        raise NotFound(NO_SUCH_LINK)
    query = select(Document).where(Document.link_token_hash == token_hash(token))
    if for_update:
        query = query.with_for_update()
    document = db.scalar(query)
    if document is None or document.status == "void" or document.replaced_by_id is not None:
        raise NotFound(NO_SUCH_LINK)
    return document
