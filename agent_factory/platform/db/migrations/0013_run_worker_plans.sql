-- The settle and event functions of 0013_run_worker in plpgsql, with the same arguments, rules and
-- results. PostgreSQL 15 plans a LANGUAGE sql function that cannot be inlined (these write) on
-- every call, while plpgsql keeps its plans for the session: called three times in each run's
-- outcome, the SQL versions cost about as much as the round trips the outcome had saved.

CREATE OR REPLACE FUNCTION af_quota_settle(p_team uuid, p_month date, p_reserved numeric, p_spent numeric,
                                           p_give_back_run boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_usage SET spend_reserved_usd = greatest(spend_reserved_usd - p_reserved, 0), spend_usd = spend_usd + p_spent,
           runs = runs - CASE WHEN p_give_back_run THEN 1 ELSE 0 END
     WHERE team_id = p_team AND month = p_month;
END
$$;

CREATE OR REPLACE FUNCTION af_thread_settle(p_team uuid, p_thread uuid, p_status text, p_values jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE threads SET updated_at = now(), values = coalesce(p_values, values),
           status = CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = p_thread AND r.status IN ('pending', 'running'))
                         THEN 'busy' ELSE p_status END
     WHERE team_id = p_team AND id = p_thread;
END
$$;

CREATE OR REPLACE FUNCTION af_run_events(p_team uuid, p_run uuid, p_attempt integer, p_events jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    INSERT INTO run_events (team_id, run_id, attempt, event, data)
    SELECT p_team, p_run, p_attempt, e.value ->> 0, e.value -> 1
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e (value, n)
     WHERE EXISTS (SELECT FROM runs WHERE id = p_run AND attempt = p_attempt FOR SHARE)
     ORDER BY e.n;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
