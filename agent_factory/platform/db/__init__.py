"""Database plumbing: connection URLs and the embedded server, migrations, the pool, tenant transactions."""
