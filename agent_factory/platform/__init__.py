"""The hosted platform: a FastAPI app over PostgreSQL with row-level security.

One package per domain (`tenancy`, `keys`, `agents`, `audit`, `health`), each with `endpoints`,
`service`, `repository` and `schemas` modules; `db/` holds the pool, the migrations and the tenant
transaction. Build the app with `agent_factory.platform.app.create_app(settings)`; nothing is
imported here, so `agent-factory --help` stays fast.

Adding a domain (runs, billing, …): a package with the same four modules, its tables in a new
migration under `db/migrations/` (with `team_id`, RLS enabled and forced, the `tenant` policy and
grants to `agent_factory_app`), endpoints taking `ctx: Context = tenant("<scope>")`, and its router
added to `app.ROUTERS`; the cross-tenant matrix in `tests/platform` covers it from the OpenAPI
document (teach it the new path parameters). Code outside a request — a worker, an admin command —
uses `db.tenant.tenant_transaction(pool, team_id)` for the same isolation.
"""
