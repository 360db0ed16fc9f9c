"""Migrations: versioned SQL files in `migrations/`, applied forward-only by yoyo-migrations.

Runs as the owner role (the one that owns the tables). Before applying, it makes sure the app role
exists (`NOBYPASSRLS`, not a superuser) and that no applied migration file was edited since: yoyo
identifies migrations by name, so the SHA-256 of every file is recorded beside yoyo's own table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import PlatformError
from ..worker.schema import ensure_queue_schema

MIGRATIONS = Path(__file__).parent / "migrations"
APP_ROLE = "agent_factory_app"
CHECKSUM_TABLE = "af_migration_checksums"


class MigrationError(PlatformError):
    """The database cannot be migrated: an edited migration, a misconfigured role."""

    status = 500
    code = "migration_failed"


@dataclass(frozen=True)
class Status:
    """Which migrations are applied and which are pending, by id (the file name without `.sql`)."""

    applied: tuple[str, ...]
    pending: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.pending


def migration_ids() -> list[str]:
    """Every migration shipped with the package, in order."""
    return sorted(p.stem for p in MIGRATIONS.glob("*.sql"))


def _yoyo_uri(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


def _backend(owner_url: str):
    from yoyo import get_backend

    return get_backend(_yoyo_uri(owner_url))


def status(owner_url: str) -> Status:
    """The migration status of the database at `owner_url`."""
    from yoyo import read_migrations

    backend = _backend(owner_url)
    migrations = read_migrations(str(MIGRATIONS))
    pending = {m.id for m in backend.to_apply(migrations)}
    ids = [m.id for m in migrations]
    return Status(tuple(i for i in ids if i not in pending), tuple(i for i in ids if i in pending))


def upgrade(owner_url: str) -> list[str]:
    """Apply every pending migration; returns the ids applied (empty when already current)."""
    from yoyo import read_migrations

    backend = _backend(owner_url)
    with backend.lock():
        _ensure_app_role(backend)
        _ensure_checksums(backend)
        ensure_queue_schema(owner_url)  # the runs migration grants rights on the queue's tables
        migrations = read_migrations(str(MIGRATIONS))
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        _record_checksums(backend, [m.id for m in pending])
    return [m.id for m in pending]


def _ensure_app_role(backend) -> None:
    row = backend.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :name", {"name": APP_ROLE}).fetchone()
    if row is None:
        try:
            with backend.transaction():
                # the role name is a constant, never input; CREATE ROLE takes no parameters
                backend.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        except backend.DatabaseError:
            # roles belong to the whole cluster: another database's migration may have just made it
            if backend.execute("SELECT 1 FROM pg_roles WHERE rolname = :name", {"name": APP_ROLE}).fetchone() is None:
                raise
    elif row[0] or row[1]:
        raise MigrationError(f"the app role `{APP_ROLE}` is a superuser or has BYPASSRLS; row-level security "
                             f"would not apply to it: ALTER ROLE {APP_ROLE} NOSUPERUSER NOBYPASSRLS")


def _ensure_checksums(backend) -> None:
    with backend.transaction():
        backend.execute(f"CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} (migration_id text PRIMARY KEY, sha256 text NOT NULL)")
    recorded = dict(backend.execute(f"SELECT migration_id, sha256 FROM {CHECKSUM_TABLE}").fetchall())
    for migration_id, digest in recorded.items():
        path = MIGRATIONS / f"{migration_id}.sql"
        if path.exists() and _sha256(path) != digest:
            raise MigrationError(f"migration {migration_id} was edited after it was applied; migrations are "
                                 "forward-only: restore the file and add a new migration instead")


def _record_checksums(backend, applied: list[str]) -> None:
    with backend.transaction():
        for migration_id in applied:
            backend.execute(f"INSERT INTO {CHECKSUM_TABLE} (migration_id, sha256) VALUES (:id, :sha)",
                            {"id": migration_id, "sha": _sha256(MIGRATIONS / f"{migration_id}.sql")})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
