-- Hosted runs: threads, runs and their events, monthly usage, and LangGraph's checkpoint tables,
-- every one carrying team_id under the same row-level security as the rest.
-- The job queue's own tables (procrastinate_*) are created before this migration by the queue
-- library's schema manager (agent_factory.platform.worker.schema); they hold only ids, no tenant data.

CREATE TABLE threads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id uuid,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    status text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'busy', 'interrupted', 'error')),
    values jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, id)
);
CREATE INDEX threads_team_page ON threads (team_id, created_at, id);

CREATE TABLE runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL,
    version integer NOT NULL,
    spec_sha256 text NOT NULL,
    thread_id uuid,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'success', 'error', 'timeout', 'interrupted')),
    input jsonb NOT NULL,
    output jsonb,
    state jsonb,
    error text,
    error_type text,
    guards jsonb NOT NULL DEFAULT '[]'::jsonb,
    ledger jsonb NOT NULL DEFAULT '[]'::jsonb,
    cost_usd numeric(18, 6),
    reserved_usd numeric(18, 6) NOT NULL DEFAULT 0,
    options jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempt integer NOT NULL DEFAULT 0,
    job_id bigint,
    base_checkpoint text,
    heartbeat_at timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, id),
    FOREIGN KEY (team_id, agent_id) REFERENCES agents (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, thread_id) REFERENCES threads (team_id, id) ON DELETE CASCADE
);
CREATE INDEX runs_team_page ON runs (team_id, created_at, id);
CREATE INDEX runs_thread ON runs (thread_id, created_at) WHERE thread_id IS NOT NULL;
CREATE INDEX runs_stalled ON runs (heartbeat_at) WHERE status = 'running';

-- every event a run emitted, in order; `seq` is the SSE event id a client resumes after
CREATE TABLE run_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id uuid NOT NULL,
    run_id uuid NOT NULL,
    attempt integer NOT NULL,
    event text NOT NULL,
    data jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (team_id, run_id) REFERENCES runs (team_id, id) ON DELETE CASCADE
);
CREATE INDEX run_events_run ON run_events (run_id, seq);

-- a team's use of its monthly run quota and spend ceiling; limits override the plan's defaults
CREATE TABLE team_usage (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    month date NOT NULL,
    runs integer NOT NULL DEFAULT 0 CHECK (runs >= 0),
    spend_reserved_usd numeric(18, 6) NOT NULL DEFAULT 0,
    spend_usd numeric(18, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, month)
);

CREATE TABLE team_limits (
    team_id uuid PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    runs_per_month integer CHECK (runs_per_month >= 0),
    spend_ceiling_usd numeric(18, 6) CHECK (spend_ceiling_usd >= 0)
);

-- LangGraph's Postgres checkpointer tables (langgraph-checkpoint-postgres 3.2, its migrations 0-9),
-- created here so the app role never runs DDL, plus team_id filled from the connection's tenant:
-- with no tenant set the insert fails, and the policies hide other teams' checkpoints.
CREATE TABLE checkpoint_migrations (v integer PRIMARY KEY);
INSERT INTO checkpoint_migrations (v) SELECT generate_series(0, 9);

CREATE TABLE checkpoints (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    parent_checkpoint_id text,
    type text,
    checkpoint jsonb NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    team_id uuid NOT NULL DEFAULT app_team_id() REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE TABLE checkpoint_blobs (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    channel text NOT NULL,
    version text NOT NULL,
    type text NOT NULL,
    blob bytea,
    team_id uuid NOT NULL DEFAULT app_team_id() REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);
CREATE TABLE checkpoint_writes (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    task_id text NOT NULL,
    idx integer NOT NULL,
    channel text NOT NULL,
    type text,
    blob bytea NOT NULL,
    task_path text NOT NULL DEFAULT '',
    team_id uuid NOT NULL DEFAULT app_team_id() REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
CREATE INDEX checkpoints_team_thread ON checkpoints (team_id, thread_id);
CREATE INDEX checkpoint_blobs_team_thread ON checkpoint_blobs (team_id, thread_id);
CREATE INDEX checkpoint_writes_team_thread ON checkpoint_writes (team_id, thread_id);

ALTER TABLE threads ENABLE ROW LEVEL SECURITY;
ALTER TABLE threads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON threads USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON runs USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON run_events USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE team_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_usage USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE team_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_limits USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON checkpoints USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE checkpoint_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_blobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON checkpoint_blobs USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

ALTER TABLE checkpoint_writes ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_writes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON checkpoint_writes USING (team_id = app_team_id()) WITH CHECK (team_id = app_team_id());

-- the sweeper looks for runs whose worker stopped heartbeating before it knows their team: it
-- sees the id, team and attempt of such runs and nothing else
CREATE FUNCTION af_stalled_runs(p_seconds double precision)
RETURNS TABLE (run_id uuid, team_id uuid, attempt integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT r.id, r.team_id, r.attempt FROM runs r
     WHERE r.status = 'running' AND r.heartbeat_at < now() - make_interval(secs => p_seconds)
$$;
CREATE POLICY definer ON runs TO CURRENT_USER USING (true) WITH CHECK (true);
REVOKE ALL ON FUNCTION af_stalled_runs(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_stalled_runs(double precision) TO agent_factory_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON threads, runs, checkpoints, checkpoint_blobs, checkpoint_writes
    TO agent_factory_app;
GRANT SELECT, INSERT, DELETE ON run_events TO agent_factory_app;
GRANT SELECT, INSERT, UPDATE ON team_usage TO agent_factory_app;
GRANT SELECT ON team_limits, checkpoint_migrations TO agent_factory_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON procrastinate_jobs, procrastinate_workers, procrastinate_events,
    procrastinate_periodic_defers TO agent_factory_app;
GRANT USAGE, SELECT ON SEQUENCE procrastinate_jobs_id_seq, procrastinate_events_id_seq,
    procrastinate_periodic_defers_id_seq TO agent_factory_app;
