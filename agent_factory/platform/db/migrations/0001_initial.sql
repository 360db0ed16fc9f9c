-- The platform's first schema: users, teams and their members, API keys, sessions, agents and
-- their versions, and the audit log. Every tenant table carries team_id and has row-level security
-- enabled and forced; the app role (agent_factory_app, NOBYPASSRLS) sees only the rows of the team
-- set for its transaction with set_config('app.team_id', ..., true), and none when no team is set.
-- The migrating role (CURRENT_USER here) keeps a policy of its own so that the few SECURITY DEFINER
-- functions below (authentication, which runs before a tenant is known) can read what they need.

CREATE FUNCTION app_team_id() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.team_id', true), '')::uuid
$$;

CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.user_id', true), '')::uuid
$$;

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE teams (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_team ON api_keys (team_id, created_at);

CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE agents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name text NOT NULL,
    kind text NOT NULL,
    description text NOT NULL DEFAULT '',
    latest_version integer NOT NULL,
    search tsvector GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    UNIQUE (team_id, id)
);
CREATE UNIQUE INDEX agents_team_name ON agents (team_id, name) WHERE deleted_at IS NULL;
CREATE INDEX agents_team_page ON agents (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX agents_search ON agents USING gin (search);

CREATE TABLE agent_versions (
    team_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    spec_text text NOT NULL,
    spec_sha256 text NOT NULL,
    ir jsonb NOT NULL,
    diagnostics jsonb NOT NULL,
    summary jsonb NOT NULL,
    cost_usd_max numeric(18, 6),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, version),
    FOREIGN KEY (team_id, agent_id) REFERENCES agents (team_id, id) ON DELETE CASCADE
);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    actor_user uuid,
    actor_key uuid,
    action text NOT NULL,
    target text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_team ON audit_log (team_id, id);

-- Row-level security: enabled and forced on every table, one policy for the app role's tenant,
-- one for the migrating role (the definer of the authentication functions).
ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON teams USING (id = app_team_id()) WITH CHECK (id = app_team_id());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users USING (
    id = app_user_id()
    OR id IN (SELECT m.user_id FROM team_members m WHERE m.team_id = app_team_id())
);

ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_members USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON api_keys USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sessions USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agents USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE agent_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_versions USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

CREATE POLICY definer ON teams TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON users TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON team_members TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON api_keys TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON sessions TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON agents TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON agent_versions TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY definer ON audit_log TO CURRENT_USER USING (true) WITH CHECK (true);

-- Authentication happens before the tenant is known: these functions run as the migrating role and
-- answer only for the one key, session or e-mail address asked about.
CREATE FUNCTION af_key_lookup(p_hash bytea)
RETURNS TABLE (key_id uuid, team_id uuid, user_id uuid, scopes text[], key_hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- last_used_at is kept to the minute: a write on every request would cost more than the read
    UPDATE api_keys k SET last_used_at = now()
     WHERE k.key_hash = p_hash AND k.revoked_at IS NULL
       AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
    RETURN QUERY
        SELECT k.id, k.team_id, k.user_id, k.scopes, k.key_hash
          FROM api_keys k WHERE k.key_hash = p_hash AND k.revoked_at IS NULL;
END
$$;

CREATE FUNCTION af_session_lookup(p_hash bytea)
RETURNS TABLE (session_id uuid, team_id uuid, user_id uuid, role text, token_hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT s.id, s.team_id, s.user_id, m.role, s.token_hash
      FROM sessions s JOIN team_members m ON m.team_id = s.team_id AND m.user_id = s.user_id
     WHERE s.token_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now()
$$;

CREATE FUNCTION af_login_lookup(p_email text)
RETURNS TABLE (user_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.password_hash FROM users u WHERE lower(u.email) = lower(p_email)
$$;

CREATE FUNCTION af_user_teams(p_user uuid)
RETURNS TABLE (team_id uuid, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.team_id, m.role FROM team_members m WHERE m.user_id = p_user ORDER BY m.created_at
$$;

CREATE FUNCTION af_ensure_user(p_email text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found uuid;
BEGIN
    INSERT INTO users (email) VALUES (p_email) ON CONFLICT DO NOTHING;
    SELECT u.id INTO found FROM users u WHERE lower(u.email) = lower(p_email);
    RETURN found;
END
$$;

CREATE FUNCTION af_set_password(p_email text, p_hash text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE users u SET password_hash = p_hash WHERE lower(u.email) = lower(p_email);
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION af_key_lookup(bytea), af_session_lookup(bytea), af_login_lookup(text),
    af_user_teams(uuid), af_ensure_user(text), af_set_password(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_key_lookup(bytea), af_session_lookup(bytea), af_login_lookup(text),
    af_user_teams(uuid), af_ensure_user(text), af_set_password(text, text) TO agent_factory_app;

GRANT USAGE ON SCHEMA public TO agent_factory_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON teams, team_members, api_keys, sessions, agents, agent_versions
    TO agent_factory_app;
GRANT SELECT ON users TO agent_factory_app;
GRANT SELECT, INSERT ON audit_log TO agent_factory_app;
GRANT SELECT ON _yoyo_migration TO agent_factory_app;
