-- A hosted run's worker side in two statements instead of thirteen: the claim (the run, its spec
-- text and the team's sealed secrets) and the outcome (the run's row, the quota, the thread, the
-- last events and the notification) are one statement each, whose own transaction is the one the
-- worker used to open around them. Like af_agent_read, the functions run as their caller (SECURITY
-- INVOKER, the app role), make the team the tenant of that transaction with set_config(..., true)
-- before anything else, and leave every read and write to row-level security. A plpgsql function's
-- statements run in order and fail together: the outcome is committed whole, or not at all.
--
-- Each rule is written once, here: the API's cancel paths settle the quota and the thread, and the
-- worker's event batches are written, through the same functions as the outcome.

-- Release a run's hold on the spend ceiling, record what it spent, and give its run back (`p_give_back_run`).
CREATE FUNCTION af_quota_settle(p_team uuid, p_month date, p_reserved numeric, p_spent numeric, p_give_back_run boolean)
RETURNS void LANGUAGE sql AS $$
    UPDATE team_usage SET spend_reserved_usd = greatest(spend_reserved_usd - p_reserved, 0), spend_usd = spend_usd + p_spent,
           runs = runs - CASE WHEN p_give_back_run THEN 1 ELSE 0 END
     WHERE team_id = p_team AND month = p_month
$$;

-- After a run on the thread ended: `busy` while another run is queued or running, else `p_status`.
CREATE FUNCTION af_thread_settle(p_team uuid, p_thread uuid, p_status text, p_values jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE threads SET updated_at = now(), values = coalesce(p_values, values),
           status = CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = p_thread AND r.status IN ('pending', 'running'))
                         THEN 'busy' ELSE p_status END
     WHERE team_id = p_team AND id = p_thread
$$;

-- Append events ([name, data] pairs) in their order unless another attempt holds the run; how many were written.
CREATE FUNCTION af_run_events(p_team uuid, p_run uuid, p_attempt integer, p_events jsonb)
RETURNS bigint LANGUAGE sql AS $$
    WITH written AS (
        INSERT INTO run_events (team_id, run_id, attempt, event, data)
        SELECT p_team, p_run, p_attempt, e.value ->> 0, e.value -> 1
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e (value, n)
         WHERE EXISTS (SELECT FROM runs WHERE id = p_run AND attempt = p_attempt FOR SHARE)
         ORDER BY e.n
        RETURNING 1)
    SELECT count(*) FROM written
$$;

-- What follows the end of a run (`p_run`, as its end left it): its quota settled at its cost, its
-- thread settled by its status (with `p_values`), its last events written (none when NULL), and
-- its waiters told.
CREATE FUNCTION af_run_ended(p_run runs, p_give_back_run boolean, p_values jsonb, p_events jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM af_quota_settle(p_run.team_id, (p_run.options ->> 'quota_month')::date, p_run.reserved_usd,
                            coalesce(p_run.cost_usd, 0), p_give_back_run);
    IF p_run.thread_id IS NOT NULL THEN
        PERFORM af_thread_settle(p_run.team_id, p_run.thread_id,
                                 CASE p_run.status WHEN 'success' THEN 'idle' WHEN 'interrupted' THEN 'interrupted'
                                                   ELSE 'error' END, p_values);
    END IF;
    IF p_events IS NOT NULL THEN
        PERFORM af_run_events(p_run.team_id, p_run.id, p_run.attempt, p_events);
    END IF;
    PERFORM pg_notify('af_run_done', p_run.id::text);
END
$$;

-- Take the run for a new attempt: bumps `attempt`, the fence of every later write. A run without a
-- thread checkpoints on a thread of its own, empty before its first attempt: its base checkpoint is
-- none ('') from the start. Returns the claimed run with its version's spec text and, when
-- `p_secrets`, the team's sealed secrets (names and ciphertexts, in the same order); no row when
-- the run cannot be claimed. Such a run, when still pending or running (its attempts used up, or
-- cancelled while no worker held it), ends here as an error, `p_give_up_error`.
CREATE FUNCTION af_run_claim(p_team uuid, p_run uuid, p_max_attempts integer, p_give_up_error text, p_secrets boolean)
RETURNS TABLE (run runs, spec_text text, secret_names text[], sealed_secrets bytea[])
LANGUAGE plpgsql AS $$
DECLARE
    r runs;
BEGIN
    PERFORM set_config('app.team_id', p_team::text, true), set_config('app.user_id', '', true);
    UPDATE runs SET attempt = attempt + 1, status = 'running', heartbeat_at = now(), updated_at = now(),
           started_at = coalesce(started_at, now()),
           base_checkpoint = CASE WHEN thread_id IS NULL THEN coalesce(base_checkpoint, '') ELSE base_checkpoint END
     WHERE id = p_run AND status IN ('pending', 'running') AND NOT cancel_requested AND attempt < p_max_attempts
    RETURNING * INTO r;
    IF NOT FOUND THEN
        UPDATE runs SET status = 'error', error = p_give_up_error, error_type = 'WorkerLost', finished_at = now(),
               updated_at = now()
         WHERE id = p_run AND status IN ('pending', 'running')
        RETURNING * INTO r;
        IF FOUND THEN
            PERFORM af_run_ended(r, false, NULL, NULL);
        END IF;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT r, (SELECT v.spec_text FROM agent_versions v
                    WHERE v.team_id = p_team AND v.agent_id = r.agent_id AND v.version = r.version),
               s.names, s.sealed
          FROM (SELECT array_agg(t.name ORDER BY t.name), array_agg(t.ciphertext ORDER BY t.name)
                  FROM team_secrets t WHERE p_secrets AND t.team_id = p_team) AS s (names, sealed);
END
$$;

-- The run's outcome, written only by the attempt holding it, with what follows it (af_run_ended):
-- the run as it ended, or no row (and nothing written) when another attempt holds the run.
CREATE FUNCTION af_run_finish(p_team uuid, p_run uuid, p_attempt integer, p_status text, p_output jsonb, p_state jsonb,
                              p_error text, p_error_type text, p_guards jsonb, p_ledger jsonb, p_cost numeric,
                              p_give_back_run boolean, p_events jsonb)
RETURNS SETOF runs LANGUAGE plpgsql AS $$
DECLARE
    r runs;
BEGIN
    PERFORM set_config('app.team_id', p_team::text, true), set_config('app.user_id', '', true);
    UPDATE runs SET status = p_status, output = p_output, state = p_state, error = p_error, error_type = p_error_type,
           guards = p_guards, ledger = p_ledger, cost_usd = p_cost, finished_at = now(), updated_at = now()
     WHERE id = p_run AND attempt = p_attempt AND status = 'running'
    RETURNING * INTO r;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM af_run_ended(r, p_give_back_run, p_state, p_events);
    RETURN NEXT r;
END
$$;

REVOKE ALL ON FUNCTION af_quota_settle(uuid, date, numeric, numeric, boolean), af_thread_settle(uuid, uuid, text, jsonb),
    af_run_events(uuid, uuid, integer, jsonb), af_run_ended(runs, boolean, jsonb, jsonb),
    af_run_claim(uuid, uuid, integer, text, boolean),
    af_run_finish(uuid, uuid, integer, text, jsonb, jsonb, text, text, jsonb, jsonb, numeric, boolean, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_quota_settle(uuid, date, numeric, numeric, boolean), af_thread_settle(uuid, uuid, text, jsonb),
    af_run_events(uuid, uuid, integer, jsonb), af_run_ended(runs, boolean, jsonb, jsonb),
    af_run_claim(uuid, uuid, integer, text, boolean),
    af_run_finish(uuid, uuid, integer, text, jsonb, jsonb, text, text, jsonb, jsonb, numeric, boolean, jsonb)
    TO agent_factory_app;
