"""Who is calling: the authenticated user, as plain values services can take."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldapi.lifecycle import Actor


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    session_id: uuid.UUID
    name: str
    role: str

    @property
    def is_dispatcher(self) -> bool:
        return self.role in ("dispatcher", "both")

    @property
    def is_technician(self) -> bool:
        return self.role in ("technician", "both")

    @property
    def is_enterprise_manager(self) -> bool:
        return self.role == "manager"

    def actor(self) -> Actor:
        from fieldapi.lifecycle import Actor, ActorKind, Role

        return Actor(kind=ActorKind.USER, user_id=str(self.user_id), role=Role(self.role))
