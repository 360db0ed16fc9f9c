"""Request and response bodies of teams, members and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..fields import Email, Text

Role = Literal["owner", "admin", "member", "viewer"]
Plan = Literal["free", "pro", "enterprise"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamOut(BaseModel):
    """A team: `id`, `name`, `plan` (free, pro, enterprise), `created_at`."""

    id: UUID
    name: str
    plan: Plan
    created_at: datetime


class MemberIn(Strict):
    """Invite someone by e-mail with a `role` (the user is created if it does not exist yet); they
    become a member when they log in naming the team."""

    email: Email
    role: Role = "member"


class RoleIn(Strict):
    """A member's new role."""

    role: Role


class MemberOut(BaseModel):
    """A member of the team: `user_id`, `email`, `role`, `created_at` (when they were added) and
    `accepted_at` (when they accepted, by logging in naming the team; null while only invited)."""

    user_id: UUID
    email: str
    role: Role
    created_at: datetime
    accepted_at: datetime | None


class SessionIn(Strict):
    """Log in with e-mail and password; `team_id` picks the team when the user is in several, and
    accepts the team's invitation when they are only invited to it."""

    email: Email
    password: Text = Field(min_length=1, max_length=1024)
    team_id: UUID | None = None


class SessionOut(BaseModel):
    """A session token (`afs_…`, shown once) for one team, and when it expires."""

    token: str
    team_id: UUID
    expires_at: datetime
