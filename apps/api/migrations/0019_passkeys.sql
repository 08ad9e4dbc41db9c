-- 0019 WebAuthn passkeys for AccountDB's own login (issue 16, part 1): several named passkeys
-- per user, usable as the second step of a login or alone (passwordless, discoverable
-- credentials), and the single-use challenges their ceremonies answer.

-- One row per registered passkey. credential_id is the authenticator's credential id in
-- base64url (unique across the instance: the passwordless login finds the user by it);
-- public_key the COSE key from the attestation; sign_count the last signature counter the
-- authenticator reported (a later assertion must report more, unless both are 0: a regression
-- means a cloned authenticator and is refused); device_type/backed_up as the library reads
-- the authenticator data's BE/BS flags (multiDevice = a synced passkey).
CREATE TABLE mfa_passkeys (
  id            uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id text NOT NULL CHECK (char_length(credential_id) BETWEEN 1 AND 1400),
  public_key    bytea NOT NULL CHECK (octet_length(public_key) BETWEEN 1 AND 2048),
  sign_count    bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports    text[] NOT NULL DEFAULT '{}',
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up     boolean NOT NULL DEFAULT false,
  last_used_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mfa_passkeys_credential_key ON mfa_passkeys (credential_id);
CREATE INDEX mfa_passkeys_owner_idx ON mfa_passkeys (owner_id, created_at);
SELECT app_enable_tenant_rls('mfa_passkeys');
GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_passkeys TO accountdb_app;

-- The challenge of one WebAuthn ceremony, stored server-side and used once: the answer must
-- sign exactly this value, and taking it (used_at) happens before the answer is checked, so
-- a failed or replayed answer cannot try again. purpose 'register' (Settings: a new passkey),
-- 'verify' (a fresh second factor before a change), 'login' (the second step of a login),
-- 'passwordless' (a login with no name yet: owner_id is NULL, reachable only through the
-- definer functions below).
CREATE TABLE passkey_challenges (
  id         uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id   uuid REFERENCES users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('register', 'verify', 'login', 'passwordless')),
  challenge  text NOT NULL CHECK (char_length(challenge) BETWEEN 16 AND 128),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((purpose = 'passwordless') = (owner_id IS NULL))
);
CREATE INDEX passkey_challenges_owner_idx ON passkey_challenges (owner_id, expires_at);
CREATE INDEX passkey_challenges_expires_idx ON passkey_challenges (expires_at);
SELECT app_enable_tenant_rls('passkey_challenges');
GRANT SELECT, INSERT, UPDATE, DELETE ON passkey_challenges TO accountdb_app;

-- Passwordless login, step 1: a challenge for a user not known yet. Expired challenges of this
-- kind go first, so unanswered ones do not pile up. Only before a user is known.
CREATE FUNCTION auth_passkey_challenge_open(p_challenge text, p_ttl_seconds integer)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  new_id uuid;
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' AND public.app_context_role() IS DISTINCT FROM 'anonymous' THEN
    RAISE EXCEPTION 'auth_passkey_challenge_open: only before a user is known' USING ERRCODE = '42501';
  END IF;
  DELETE FROM public.passkey_challenges
  WHERE purpose = 'passwordless' AND expires_at < now() - interval '1 minute';
  INSERT INTO public.passkey_challenges (purpose, challenge, expires_at)
  VALUES ('passwordless', p_challenge, now() + make_interval(secs => p_ttl_seconds))
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- Passwordless login, step 2: takes the challenge (once: used, expired or unknown answer no
-- row) and returns the value the assertion must have signed.
CREATE FUNCTION auth_passkey_challenge_take(p_id uuid)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  value text;
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' THEN
    RAISE EXCEPTION 'auth_passkey_challenge_take: only the login path' USING ERRCODE = '42501';
  END IF;
  UPDATE public.passkey_challenges SET used_at = now()
  WHERE id = p_id AND purpose = 'passwordless' AND used_at IS NULL AND expires_at > now()
  RETURNING challenge INTO value;
  RETURN value;
END
$$;

-- Passwordless login: the passkey an assertion names and what checking it needs (its key and
-- counter, and its user's name for the lockout), nothing else.
CREATE FUNCTION auth_passkey_lookup(p_credential_id text)
RETURNS TABLE (passkey_id uuid, user_id uuid, username text, is_active boolean,
               public_key bytea, sign_count bigint, transports text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' THEN
    RAISE EXCEPTION 'auth_passkey_lookup: only the login path' USING ERRCODE = '42501';
  END IF;
  RETURN QUERY
  SELECT p.id, u.id, u.username, u.is_active, p.public_key, p.sign_count, p.transports
  FROM public.mfa_passkeys p JOIN public.users u ON u.id = p.owner_id
  WHERE p.credential_id = p_credential_id;
END
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'auth_passkey_challenge_open(text, integer)',
    'auth_passkey_challenge_take(uuid)',
    'auth_passkey_lookup(text)'
  ] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO accountdb_app', f);
  END LOOP;
END
$$;

-- `accountdb reset-mfa` now also removes the user's passkeys and their open passkey
-- challenges; `factors` counts confirmed authenticator apps and passkeys.
CREATE OR REPLACE FUNCTION auth_reset_mfa(p_login text)
RETURNS TABLE (user_id uuid, factors integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  target public.users%ROWTYPE;
  removed integer;
  removed_passkeys integer;
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
  DELETE FROM public.mfa_passkeys WHERE owner_id = target.id;
  GET DIAGNOSTICS removed_passkeys = ROW_COUNT;
  DELETE FROM public.passkey_challenges WHERE owner_id = target.id;
  DELETE FROM public.mfa_recovery_codes WHERE owner_id = target.id;
  UPDATE public.login_challenges SET used_at = now()
  WHERE owner_id = target.id AND used_at IS NULL;
  DELETE FROM public.login_lockouts
  WHERE login_key IN (lower(target.username), lower(target.email));
  UPDATE public.users SET failed_login_count = 0, locked_until = NULL
  WHERE id = target.id AND (failed_login_count <> 0 OR locked_until IS NOT NULL);
  INSERT INTO public.audit_log (owner_id, actor_type, actor_name, action, entity_type, entity_id, details)
  VALUES (target.id, 'system', 'accountdb reset-mfa', 'auth.mfa_reset', 'user', target.id::text,
          jsonb_build_object('via', 'cli', 'factors', removed + removed_passkeys,
                             'passkeys', removed_passkeys));
  RETURN QUERY SELECT target.id, removed + removed_passkeys;
END
$$;
REVOKE ALL ON FUNCTION public.auth_reset_mfa(text) FROM PUBLIC;
