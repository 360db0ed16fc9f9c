-- A team invites; it does not enrol. Adding someone to a team by e-mail makes an invitation (a
-- membership with accepted_at NULL) that counts for nothing until the user logs in naming that
-- team: it opens no session, makes no owner, and a login that names no team does not consider it
-- (another team could otherwise put itself in front of a user's own team, or make their login
-- ambiguous). Memberships made before this migration, and a new team's owner, are accepted.

ALTER TABLE team_members ADD COLUMN accepted_at timestamptz DEFAULT now();
UPDATE team_members SET accepted_at = created_at;

-- a session is only ever opened for an accepted membership; checked again at each request
CREATE OR REPLACE FUNCTION af_session_lookup(p_hash bytea)
RETURNS TABLE (session_id uuid, team_id uuid, user_id uuid, role text, token_hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT s.id, s.team_id, s.user_id, m.role, s.token_hash
      FROM sessions s JOIN team_members m ON m.team_id = s.team_id AND m.user_id = s.user_id
     WHERE s.token_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now() AND m.accepted_at IS NOT NULL
$$;

-- the user's teams for a login (after the password was checked): whether each membership is
-- accepted, and the team's name, which the user is told when only invitations wait for them
DROP FUNCTION af_user_teams(uuid);
CREATE FUNCTION af_user_teams(p_user uuid)
RETURNS TABLE (team_id uuid, role text, accepted boolean, team_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.team_id, m.role, m.accepted_at IS NOT NULL, t.name
      FROM team_members m JOIN teams t ON t.id = m.team_id
     WHERE m.user_id = p_user ORDER BY m.created_at
$$;
REVOKE ALL ON FUNCTION af_user_teams(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION af_user_teams(uuid) TO agent_factory_app;
