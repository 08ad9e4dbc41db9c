-- 0018 a second factor for AccountDB's own login (issue 16, part 1): TOTP factors, one-time
-- recovery codes, the challenges of a two-step login, and the admin setting that requires a
-- second factor for everyone. Passkeys (WebAuthn) come later as another kind of factor.

-- One row per second factor of a user. kind 'totp': secret_enc is the encrypted seed
-- (envelope encryption, bound to mfa_factors|secret|id|owner_id), last_used_step the last
-- accepted 30-second step: a code of that step or an older one is refused (replay). A factor
-- counts only once confirmed_at is set (the user entered a current code).
CREATE TABLE mfa_factors (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('totp')),
  name           text NOT NULL DEFAULT 'Authenticator app' CHECK (char_length(name) BETWEEN 1 AND 100),
  secret_enc     text,
  last_used_step bigint,
  confirmed_at   timestamptz,
  last_used_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'totp' OR secret_enc IS NOT NULL)
);
-- One authenticator app per user (a new enrolment replaces an unconfirmed one).
CREATE UNIQUE INDEX mfa_factors_one_totp_key ON mfa_factors (owner_id) WHERE kind = 'totp';
SELECT app_enable_tenant_rls('mfa_factors');
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_factors TO accountdb_app;

-- Ten one-time recovery codes per user, stored as SHA-256 (the codes carry 80 random bits).
CREATE TABLE mfa_recovery_codes (
  id         uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_recovery_codes_owner_idx ON mfa_recovery_codes (owner_id);
SELECT app_enable_tenant_rls('mfa_recovery_codes');
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_recovery_codes TO accountdb_app;

-- The second step of a login: made when the password passed, named by the signed challenge
-- token the client gets, used once. purpose 'mfa': prove a factor; 'enroll': the second
-- factor is required and the user has none, so the challenge only lets them enrol one.
CREATE TABLE login_challenges (
  id         uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('mfa', 'enroll')),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_challenges_owner_idx ON login_challenges (owner_id, expires_at);
SELECT app_enable_tenant_rls('login_challenges');
GRANT SELECT, INSERT, UPDATE, DELETE ON login_challenges TO accountdb_app;

-- Instance-wide settings: one row. Everyone may read them (they are no secret; the login path
-- reads mfa_required as the user who just typed their password); only admins change them.
CREATE TABLE app_settings (
  id           smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  mfa_required boolean NOT NULL DEFAULT false,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  updated_by   uuid REFERENCES users (id) ON DELETE SET NULL
);
INSERT INTO app_settings (id) VALUES (1);
CREATE TRIGGER app_settings_touch BEFORE UPDATE ON app_settings
  FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
ALTER TABLE app_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE app_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY app_settings_select ON app_settings FOR SELECT USING (true);
CREATE POLICY app_settings_update ON app_settings FOR UPDATE
  USING ((SELECT app_is_admin())) WITH CHECK ((SELECT app_is_admin()));
GRANT SELECT, UPDATE ON app_settings TO accountdb_app;

-- `accountdb reset-mfa`: removes a user's second factors and recovery codes from the command
-- line, for the admin who lost their authenticator. Ends pending login challenges and clears
-- the lockout of the user's names; audited on the user. Owner-only, like auth_reset_password
-- (migration 0004): not granted to accountdb_app, so no API request can reach it.
CREATE FUNCTION auth_reset_mfa(p_login text)
RETURNS TABLE (user_id uuid, factors integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  target public.users%ROWTYPE;
  removed integer;
BEGIN
  SELECT * INTO target FROM public.users
  WHERE lower(username) = lower(p_login) OR lower(email) = lower(p_login)
  ORDER BY (lower(username) = lower(p_login)) DESC
  LIMIT 1
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  DELETE FROM public.mfa_factors WHERE owner_id = target.id;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM public.mfa_recovery_codes WHERE owner_id = target.id;
  UPDATE public.login_challenges SET used_at = now()
  WHERE owner_id = target.id AND used_at IS NULL;
  DELETE FROM public.login_lockouts
  WHERE login_key IN (lower(target.username), lower(target.email));
  UPDATE public.users SET failed_login_count = 0, locked_until = NULL
  WHERE id = target.id AND (failed_login_count <> 0 OR locked_until IS NOT NULL);
  INSERT INTO public.audit_log (owner_id, actor_type, actor_name, action, entity_type, entity_id, details)
  VALUES (target.id, 'system', 'accountdb reset-mfa', 'auth.mfa_reset', 'user', target.id::text,
          jsonb_build_object('via', 'cli', 'factors', removed));
  RETURN QUERY SELECT target.id, removed;
END
$$;
REVOKE ALL ON FUNCTION public.auth_reset_mfa(text) FROM PUBLIC;
