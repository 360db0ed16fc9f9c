-- Starting a run in two statements instead of thirteen (docs/performance.md), each its own
-- transaction when sent outside one. Both run as their caller (SECURITY INVOKER, the app role) and
-- make a team the tenant of their transaction with set_config(..., true) before anything else, so
-- row-level security decides every read and write as for any other statement. Statements of a
-- plpgsql function run in order.

-- The first: authenticate the credential through the SECURITY DEFINER lookups (as af_agent_read),
-- make its team the tenant, and read what admitting a run needs: the team's plan and limits and the
-- agent's latest version. No row for an unknown, revoked or expired credential; nulls for the agent
-- when the team has no such agent (p_agent NULL: authenticate and read the plan only).
CREATE FUNCTION af_run_start(p_hash bytea, p_session boolean, p_agent uuid)
RETURNS TABLE (credential_id uuid, team_id uuid, user_id uuid, scopes text[], role text, credential_hash bytea,
               plan text, runs_per_month integer, spend_ceiling_usd numeric,
               agent_id uuid, version integer, spec_sha256 text, cost_usd_max numeric)
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
               t.plan, l.runs_per_month, l.spend_ceiling_usd,
               a.id, v.version, v.spec_sha256, v.cost_usd_max
          FROM teams t
          LEFT JOIN team_limits l ON l.team_id = t.id
          LEFT JOIN (agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version)
            ON a.team_id = t.id AND a.id = p_agent AND a.deleted_at IS NULL
         WHERE t.id = c.team_id;
END
$$;

-- The second: take one run of the month within p_quota, hold p_worst of the spend ceiling, insert
-- the run and queue its job (procrastinate 3.10's defer function: pinned), all or nothing. The two
-- refusals are errors of their own SQLSTATE (QR001: the month's runs are used, QR002: the spend
-- ceiling would be passed), so nothing of the statement stays: no run, no job, no usage.
CREATE FUNCTION af_run_queue(p_team uuid, p_user uuid, p_month date, p_quota integer, p_ceiling numeric,
                             p_worst numeric, p_agent uuid, p_version integer, p_spec_sha256 text, p_thread uuid,
                             p_input jsonb, p_options jsonb, p_metadata jsonb, p_lock text, p_queue text)
RETURNS SETOF runs
LANGUAGE plpgsql AS $$
DECLARE
    v_run uuid := gen_random_uuid();
    v_job bigint;
BEGIN
    PERFORM set_config('app.team_id', p_team::text, true), set_config('app.user_id', coalesce(p_user::text, ''), true);
    INSERT INTO team_usage (team_id, month) VALUES (p_team, p_month) ON CONFLICT DO NOTHING;
    -- the row lock orders concurrent callers; each sees the count its predecessor left
    UPDATE team_usage u SET runs = u.runs + 1
     WHERE u.team_id = p_team AND u.month = p_month AND (p_quota IS NULL OR u.runs + 1 <= p_quota);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the month''s runs are used' USING ERRCODE = 'QR001';
    END IF;
    UPDATE team_usage u SET spend_reserved_usd = u.spend_reserved_usd + p_worst
     WHERE u.team_id = p_team AND u.month = p_month
       AND (p_ceiling IS NULL OR u.spend_usd + u.spend_reserved_usd + p_worst <= p_ceiling);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the spend ceiling would be passed' USING ERRCODE = 'QR002';
    END IF;
    v_job := (procrastinate_defer_jobs_v1(ARRAY[
        ROW(p_queue, 'agent_factory.run', 0, p_lock, NULL,
            jsonb_build_object('run_id', v_run::text, 'team_id', p_team::text), NULL)::procrastinate_job_to_defer_v1]))[1];
    RETURN QUERY
        INSERT INTO runs (id, team_id, agent_id, version, spec_sha256, thread_id, input, reserved_usd, options, metadata,
                          job_id)
        VALUES (v_run, p_team, p_agent, p_version, p_spec_sha256, p_thread, p_input, p_worst, p_options, p_metadata, v_job)
        RETURNING *;
END
$$;

REVOKE ALL ON FUNCTION af_run_start(bytea, boolean, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION af_run_queue(uuid, uuid, date, integer, numeric, numeric, uuid, integer, text, uuid, jsonb, jsonb,
                                    jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_run_start(bytea, boolean, uuid) TO agent_factory_app;
GRANT EXECUTE ON FUNCTION af_run_queue(uuid, uuid, date, integer, numeric, numeric, uuid, integer, text, uuid, jsonb,
                                       jsonb, jsonb, text, text) TO agent_factory_app;
