-- GET /v1/agents/{id} in one statement, one round trip instead of four (BEGIN, the credential's
-- lookup, the read, COMMIT): the statement's own transaction is the request's. The function runs as
-- its caller (SECURITY INVOKER, the app role), authenticates the credential through the SECURITY
-- DEFINER lookups, makes its team the tenant of that transaction with set_config(..., true), and
-- then reads the agent, where row-level security decides as for every other read. Statements of a
-- plpgsql function run in order, so the tenant is set before the read starts. Returns no row for an
-- unknown, revoked or expired credential; the credential's columns and nulls for the agent when the
-- team has no such agent (p_agent NULL: authenticate only).

CREATE FUNCTION af_agent_read(p_hash bytea, p_session boolean, p_agent uuid)
RETURNS TABLE (credential_id uuid, team_id uuid, user_id uuid, scopes text[], role text, credential_hash bytea,
               id uuid, name text, kind text, description text, version integer, created_at timestamptz,
               updated_at timestamptz, spec_sha256 text, summary jsonb, diagnostics jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF p_session THEN
        SELECT s.session_id AS id, s.team_id, s.user_id, NULL::text[] AS scopes, s.role, s.token_hash AS hash
          INTO c FROM af_session_lookup(p_hash) s;
    ELSE
        SELECT k.key_id AS id, k.team_id, k.user_id, k.scopes, NULL::text AS role, k.key_hash AS hash
          INTO c FROM af_key_lookup(p_hash) k;
    END IF;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('app.team_id', c.team_id::text, true), set_config('app.user_id', coalesce(c.user_id::text, ''), true);
    RETURN QUERY
        SELECT c.id, c.team_id, c.user_id, c.scopes, c.role, c.hash,
               a.id, a.name, a.kind, a.description, a.latest_version, a.created_at, a.updated_at,
               v.spec_sha256, v.summary, v.diagnostics
          FROM (VALUES (1)) AS one (n)
          LEFT JOIN (agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version)
            ON a.team_id = c.team_id AND a.id = p_agent AND a.deleted_at IS NULL;
END
$$;

REVOKE ALL ON FUNCTION af_agent_read(bytea, boolean, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_agent_read(bytea, boolean, uuid) TO agent_factory_app;
