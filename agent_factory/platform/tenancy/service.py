"""Teams, members, passwords and sessions.

Creating a team happens outside any request (the `admin create-team` command, the first `serve`):
it runs in a tenant transaction for the new team's id, so the same policies apply as to requests.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from functools import lru_cache
from datetime import datetime, timezone
from uuid import UUID

import asyncpg

from ..audit import service as audit
from ..audit import repository as audit_log
from ..auth import ROLE_SCOPES, SESSION_PREFIX, Context, token_hash
from ..db.tenant import set_tenant, tenant_transaction
from ..errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from ..keys import repository as keys_repository
from ..keys import service as keys
from ..settings import Settings
from . import repository


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


async def create_team(pool: asyncpg.Pool, name: str, owner_email: str, plan: str = "free") -> dict:
    """A new team owned by `owner_email` (created when new) and an owner key with every scope.
    Returns `{"team": row, "owner": {user_id, email}, "key": created key}`."""
    team_id = uuid.uuid4()
    async with tenant_transaction(pool, team_id) as conn:
        team = await repository.insert_team(conn, team_id, name, plan)
        user_id = await repository.ensure_user(conn, owner_email)
        await repository.add_member(conn, team_id, user_id, "owner")
        key = await keys.issue(conn, team_id, user_id, "owner key", sorted(ROLE_SCOPES["owner"]))
        await audit_log.record(conn, team_id, user_id, None, "team.create", f"team:{team_id}", {"name": name, "plan": plan})
    return {"team": dict(team), "owner": {"user_id": user_id, "email": owner_email}, "key": key}


async def set_password(pool: asyncpg.Pool, email: str, password: str) -> None:
    """Set a user's password (argon2id); NotFound when no user has that e-mail."""
    hashed = await asyncio.to_thread(_hasher().hash, password)
    async with pool.acquire() as conn:
        if not await repository.set_password(conn, email, hashed):
            raise NotFound(f"no user with the e-mail {email}")


async def team(ctx: Context) -> dict:
    row = await repository.get_team(ctx.conn, ctx.principal.team_id)
    if row is None:  # the credential outlived its team
        raise Unauthorized("the team of this credential no longer exists")
    return dict(row)


async def members(ctx: Context) -> list[dict]:
    return [dict(r) for r in await repository.list_members(ctx.conn, ctx.principal.team_id)]


async def invite(ctx: Context, email: str, role: str) -> dict:
    """Invite a user (created when new) to the caller's team with `role`: they become a member
    when they log in naming the team (`login`), not before."""
    await _may_manage(ctx, role)
    team_id = ctx.principal.team_id
    user_id = await repository.ensure_user(ctx.conn, email)
    if not await repository.add_member(ctx.conn, team_id, user_id, role, accepted=False):
        raise Conflict(f"{email} is already a member or invited; change their role with PATCH /v1/members/{user_id}")
    await audit.record(ctx, "member.invite", f"user:{user_id}", {"role": role})
    return dict(await repository.get_member(ctx.conn, team_id, user_id))


async def change_role(ctx: Context, user_id: UUID, role: str) -> dict:
    """Give a member another role; the last owner cannot stop being one."""
    current = await _member(ctx, user_id)
    await _may_manage(ctx, role, current["role"])
    if _an_owner(current) and role != "owner":
        await _keep_an_owner(ctx)
    await repository.set_role(ctx.conn, ctx.principal.team_id, user_id, role)
    await audit.record(ctx, "member.role", f"user:{user_id}", {"from": current["role"], "to": role})
    return {**current, "role": role}


async def remove(ctx: Context, user_id: UUID) -> None:
    """Remove a member and revoke the keys they created for this team."""
    current = await _member(ctx, user_id)
    await _may_manage(ctx, current["role"])
    if _an_owner(current):
        await _keep_an_owner(ctx)
    await repository.remove_member(ctx.conn, ctx.principal.team_id, user_id)
    await keys_repository.revoke_for_user(ctx.conn, ctx.principal.team_id, user_id)
    await audit.record(ctx, "member.remove", f"user:{user_id}")


async def _member(ctx: Context, user_id: UUID) -> dict:
    row = await repository.get_member(ctx.conn, ctx.principal.team_id, user_id)
    if row is None:
        raise NotFound("no such member")
    return dict(row)


async def _may_manage(ctx: Context, *roles: str) -> None:
    """Only an owner grants, changes or removes the owner role."""
    if "owner" not in roles:
        return
    caller = ctx.principal.user_id and await repository.get_member(ctx.conn, ctx.principal.team_id, ctx.principal.user_id)
    if not caller or caller["role"] != "owner":
        raise Forbidden("only an owner can grant, change or remove the owner role")


def _an_owner(member: dict) -> bool:
    """An owner who accepted: one the team counts on (an invited owner is not one yet)."""
    return member["role"] == "owner" and member["accepted_at"] is not None


async def _keep_an_owner(ctx: Context) -> None:
    if await repository.count_owners(ctx.conn, ctx.principal.team_id) <= 1:
        raise Conflict("a team needs at least one owner; make someone else owner first")


async def login(pool: asyncpg.Pool, settings: Settings, email: str, password: str, team_id: UUID | None) -> dict:
    """Check e-mail and password and open a session for one of the user's teams."""
    async with pool.acquire() as conn, conn.transaction():
        found = await repository.login_lookup(conn, email)
        if not await _password_ok(found["password_hash"] if found else None, password):
            raise Unauthorized("wrong e-mail or password")
        chosen, invited = _choose_team(await repository.user_teams(conn, found["user_id"]), team_id)
        await set_tenant(conn, chosen, found["user_id"])
        if invited:  # logging in naming the team is how its invitation is accepted
            await repository.accept(conn, chosen, found["user_id"])
            await audit_log.record(conn, chosen, found["user_id"], None, "member.accept", f"user:{found['user_id']}", {})
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        expires = datetime.now(timezone.utc) + settings.session_ttl
        await repository.insert_session(conn, chosen, found["user_id"], token_hash(token), expires)
    return {"token": token, "team_id": chosen, "expires_at": expires}


async def logout(ctx: Context) -> None:
    if ctx.principal.session_id is None:
        raise InvalidRequest("this request was not made with a session token")
    await repository.revoke_session(ctx.conn, ctx.principal.team_id, ctx.principal.session_id)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown or has no password, so both answers take as long."""
    return _hasher().hash(secrets.token_hex(16))


async def _password_ok(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    def verify() -> bool:
        try:
            return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def _choose_team(teams: list[asyncpg.Record], wanted: UUID | None) -> tuple[UUID, bool]:
    """The team a login opens a session for, and whether it accepts an invitation to it: the one
    named, else the user's only team; invitations only when named."""
    if wanted is not None:
        row = next((row for row in teams if row["team_id"] == wanted), None)
        if row is None:
            raise Unauthorized("wrong e-mail or password")  # the same answer: team membership is not revealed
        return wanted, not row["accepted"]
    accepted = [row["team_id"] for row in teams if row["accepted"]]
    if len(accepted) == 1:
        return accepted[0], False
    if accepted:
        raise InvalidRequest("this user belongs to several teams: give `team_id`")
    invited = [f"{row['team_name']} ({row['team_id']})" for row in teams]
    if not invited:
        raise Unauthorized("wrong e-mail or password")
    raise InvalidRequest(f"this user is in no team yet and is invited to {', '.join(invited)}: "
                         "give the `team_id` of the invitation to accept")
