"""API key bodies. The key itself appears once, in the response that creates it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..fields import Name

Scope = Literal["agents:read", "agents:write", "runs:write", "admin"]


class KeyIn(BaseModel):
    """A new key: a `name` to recognise it by and its `scopes` (at most the creator's own)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=4, examples=[["agents:read"]])


class KeyOut(BaseModel):
    """A key as listed: never the key itself, only its first characters (`prefix`)."""

    id: UUID
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    """The new key; `key` is shown this once and stored only as its SHA-256."""

    key: str
