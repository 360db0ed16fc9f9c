"""The job queue's tables: procrastinate's own schema, applied once by `db upgrade` before our
migrations (which grant the app role its rights on them).

The schema is the one shipped with the pinned procrastinate version (`SchemaManager.get_schema()`);
a version bump that changes it adds its migration files here (see docs/decisions.md).
"""

from __future__ import annotations


def ensure_queue_schema(owner_url: str) -> bool:
    """Create procrastinate's tables and functions unless they exist; True when it created them."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(owner_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None:
            return False
        with conn.transaction():
            # no parameters: the text goes to the server as it is (its `%` signs stay)
            conn.execute(SchemaManager.get_schema())
    return True
