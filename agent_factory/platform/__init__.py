"""The hosted platform: a FastAPI app over PostgreSQL with row-level security.

One package per domain (`tenancy`, `keys`, `agents`, `audit`, `health`), each with `endpoints`,
`service`, `repository` and `schemas` modules; `db/` holds the pool, the migrations and the tenant
transaction. Build the app with `agent_factory.platform.app.create_app(settings)`; nothing is
imported here, so `agent-factory --help` stays fast.
"""
