-- Per-team provider keys, encrypted by the server (Fernet, key from AGENT_FACTORY_SECRETS_KEY)
-- before they reach the database: the table holds only ciphertext bound to its team and name.
CREATE TABLE team_secrets (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
    ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, name)
);

ALTER TABLE team_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_secrets USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON team_secrets TO agent_factory_app;
