"""Audit log entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


class AuditEntry(BaseModel):
    """One entry: the acting user and key, the `action` (e.g. `agent.create`), its `target`, `detail`."""

    id: int
    actor_user: UUID | None
    actor_key: UUID | None
    action: str
    target: str
    detail: dict[str, Any]
    at: datetime


class AuditPage(BaseModel):
    """A page of entries, newest first; pass `next_cursor` as `before` for the next page."""

    items: list[AuditEntry]
    next_cursor: int | None
