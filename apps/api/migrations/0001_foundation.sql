-- 0001 foundation: the request role, tenancy helpers, users and sessions, personal tokens,
-- audit log, and the narrow SECURITY DEFINER functions used before a user is known.
--
-- Runs as the schema owner (DATABASE_URL). Never edit this file once it has landed: a change
-- is a new migration file.

-- ---------------------------------------------------------------------------------------
-- The role every request runs as. NOLOGIN, no BYPASSRLS, not a superuser, owns nothing.
-- Roles are cluster-wide, so another database of the same cluster may have created it.
-- ---------------------------------------------------------------------------------------
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'accountdb_app') THEN
    BEGIN
      CREATE ROLE accountdb_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by a migration of another database
    END;
  END IF;
  -- The schema owner must be able to SET ROLE to it (superusers always can).
  IF NOT pg_catalog.pg_has_role(current_user, 'accountdb_app', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT accountdb_app TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'the schema owner % must be a member of role accountdb_app', current_user
        USING HINT = format('As a superuser run: GRANT accountdb_app TO %I; GRANT SET ON PARAMETER app.role TO %I;', current_user, current_user);
    END;
  END IF;
  -- The SECURITY DEFINER functions below pin app.role with a SET clause, which a schema
  -- owner that is not a superuser may only write when granted (PostgreSQL 15+).
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
     AND NOT pg_catalog.has_parameter_privilege(current_user, 'app.role', 'SET') THEN
    RAISE EXCEPTION 'the schema owner % may not set parameter app.role', current_user
      USING HINT = format('As a superuser run: GRANT SET ON PARAMETER app.role TO %I;', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- UUIDv7 (time-ordered, for index locality). PostgreSQL 15 has no built-in one.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE
AS $$
  SELECT encode(
    set_bit(
      set_bit(
        overlay(uuid_send(gen_random_uuid())
                placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6),
        52, 1),
      53, 1),
    'hex')::uuid
$$;

-- ---------------------------------------------------------------------------------------
-- Tenant context. Set per transaction by withTenant() with set_config(…, true); after
-- commit a setting reads '' (not NULL), hence nullif. A missing context matches nothing.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION app_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

CREATE FUNCTION app_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.role', true), '') $$;

-- True for an admin user, and inside the narrow SECURITY DEFINER functions below, which
-- pin app.role to 'system' for their own duration only (a function-level SET clause is
-- restored when the function returns).
CREATE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(nullif(current_setting('app.role', true), '') IN ('admin', 'system'), false) $$;

-- The one way a tenant table gets its row-level security: ENABLE + FORCE, and one policy
-- per command with USING and WITH CHECK. Every table with an owner_id column calls it.
CREATE FUNCTION app_enable_tenant_rls(tbl regclass) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  cond text := 'owner_id = (SELECT public.app_user_id()) OR (SELECT public.app_is_admin())';
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_select ON %s FOR SELECT USING (%s)', tbl, cond);
  EXECUTE format('CREATE POLICY tenant_insert ON %s FOR INSERT WITH CHECK (%s)', tbl, cond);
  EXECUTE format('CREATE POLICY tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, cond, cond);
  EXECUTE format('CREATE POLICY tenant_delete ON %s FOR DELETE USING (%s)', tbl, cond);
END
$$;
REVOKE ALL ON FUNCTION app_enable_tenant_rls(regclass) FROM PUBLIC;

-- Keeps updated_at current on every UPDATE.
CREATE FUNCTION app_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------
-- users: not owned by anyone; a user sees and edits their own row, an admin every row.
-- ---------------------------------------------------------------------------------------
CREATE TABLE users (
  id                  uuid PRIMARY KEY DEFAULT uuid_v7(),
  username            text NOT NULL CHECK (char_length(username) BETWEEN 3 AND 64),
  email               text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  password_hash       text NOT NULL,
  role                text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  is_active           boolean NOT NULL DEFAULT true,
  failed_login_count  integer NOT NULL DEFAULT 0,
  locked_until        timestamptz,
  last_login_at       timestamptz,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_select ON users FOR SELECT
  USING (id = (SELECT app_user_id()) OR (SELECT app_is_admin()));
CREATE POLICY users_insert ON users FOR INSERT
  WITH CHECK ((SELECT app_is_admin()));
CREATE POLICY users_update ON users FOR UPDATE
  USING (id = (SELECT app_user_id()) OR (SELECT app_is_admin()))
  WITH CHECK (id = (SELECT app_user_id()) OR (SELECT app_is_admin()));
CREATE POLICY users_delete ON users FOR DELETE
  USING ((SELECT app_is_admin()));

-- A user may edit their own row (email, password), never their own role, active flag or
-- lockout counters: RLS cannot restrict columns, so a trigger does.
CREATE FUNCTION app_users_guard() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT public.app_is_admin() AND (
       NEW.role IS DISTINCT FROM OLD.role
    OR NEW.is_active IS DISTINCT FROM OLD.is_active
    OR NEW.failed_login_count IS DISTINCT FROM OLD.failed_login_count
    OR NEW.locked_until IS DISTINCT FROM OLD.locked_until
    OR NEW.last_login_at IS DISTINCT FROM OLD.last_login_at) THEN
    RAISE EXCEPTION 'only an admin may change role, is_active or lockout state'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER users_guard BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION app_users_guard();

GRANT SELECT, INSERT, UPDATE, DELETE ON users TO accountdb_app;

-- Failed-login state for names that match no user, so an unknown name is throttled and
-- locked exactly like a real one (no existence leak). Reached only through the functions
-- below; the request role has no grant on it.
CREATE TABLE login_lockouts (
  login_key          text PRIMARY KEY,
  failed_login_count integer NOT NULL DEFAULT 0,
  locked_until       timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE login_lockouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_lockouts FORCE ROW LEVEL SECURITY;
CREATE POLICY login_lockouts_system ON login_lockouts FOR ALL
  USING ((SELECT app_role()) = 'system') WITH CHECK ((SELECT app_role()) = 'system');

-- ---------------------------------------------------------------------------------------
-- refresh_tokens: opaque tokens stored as SHA-256, rotated on every use, grouped in a
-- family (one login session) so that reuse of a rotated token revokes the whole family.
-- ---------------------------------------------------------------------------------------
CREATE TABLE refresh_tokens (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id      uuid NOT NULL,
  token_hash     bytea NOT NULL UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz,
  replaced_by    uuid,
  revoked_at     timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse', 'password_change', 'admin', 'deactivated', 'grace_reissue')),
  user_agent     text,
  ip             text
);
CREATE INDEX refresh_tokens_owner_idx ON refresh_tokens (owner_id, family_id);
SELECT app_enable_tenant_rls('refresh_tokens');
GRANT SELECT, INSERT, UPDATE, DELETE ON refresh_tokens TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- api_tokens: personal access tokens (adb_pat_…), stored as SHA-256, found by prefix.
-- ---------------------------------------------------------------------------------------
CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  prefix       text NOT NULL UNIQUE,
  token_hash   bytea NOT NULL,
  scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0),
  expires_at   timestamptz,
  last_used_at timestamptz,
  last_used_ip text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_tokens_owner_name_key ON api_tokens (owner_id, lower(name));
SELECT app_enable_tenant_rls('api_tokens');
GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- audit_log: append-only (the request role may insert and read, never change or delete).
-- owner_id is the user whose data or account the event concerns; NULL for events about no
-- known user (a failed login with an unknown name), which only admins see.
-- ---------------------------------------------------------------------------------------
CREATE TABLE audit_log (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id    uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_type  text NOT NULL CHECK (actor_type IN ('user', 'token', 'node', 'system', 'anonymous')),
  actor_id    uuid,
  actor_name  text,
  action      text NOT NULL,
  entity_type text,
  entity_id   text,
  at          timestamptz NOT NULL DEFAULT now(),
  ip          text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_owner_at_idx ON audit_log (owner_id, at DESC, id DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
SELECT app_enable_tenant_rls('audit_log');
GRANT SELECT, INSERT ON audit_log TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- SECURITY DEFINER functions for the moments before a user is known. Each one: fixed empty
-- search_path, schema-qualified names, app.role pinned to 'system' for its own duration,
-- returns only what its caller needs, executable by the request role only.
-- ---------------------------------------------------------------------------------------

-- Is first-admin setup still needed (no user at all)?
CREATE FUNCTION auth_setup_needed() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$ SELECT NOT EXISTS (SELECT 1 FROM public.users) $$;

-- Creates the first admin; returns NULL when any user already exists. The table lock makes
-- two concurrent setups create one admin, not two.
CREATE FUNCTION auth_create_first_admin(p_username text, p_email text, p_password_hash text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  new_id uuid;
BEGIN
  LOCK TABLE public.users IN SHARE ROW EXCLUSIVE MODE;
  IF EXISTS (SELECT 1 FROM public.users) THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.users (username, email, password_hash, role)
  VALUES (p_username, p_email, p_password_hash, 'admin')
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- Open registration: always creates a plain user (the caller checks that registration is on).
-- Returns NULL while no user exists: the first user is the admin, made by setup.
CREATE FUNCTION auth_register_user(p_username text, p_email text, p_password_hash text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  new_id uuid;
BEGIN
  LOCK TABLE public.users IN SHARE ROW EXCLUSIVE MODE;
  IF NOT EXISTS (SELECT 1 FROM public.users) THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.users (username, email, password_hash, role)
  VALUES (p_username, p_email, p_password_hash, 'user')
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

-- Login lookup by username or email (case-insensitive). Always returns exactly one row:
-- for an unknown name, user_id is NULL and the lockout state is that of the name itself.
CREATE FUNCTION auth_login_lookup(p_login text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, locked_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
BEGIN
  RETURN QUERY
    SELECT u.id, u.password_hash, u.is_active, u.locked_until
    FROM public.users u
    WHERE lower(u.username) = lower(p_login) OR lower(u.email) = lower(p_login)
    ORDER BY (lower(u.username) = lower(p_login)) DESC
    LIMIT 1;
  IF NOT FOUND THEN
    RETURN QUERY
      SELECT NULL::uuid, NULL::text, NULL::boolean,
             (SELECT l.locked_until FROM public.login_lockouts l WHERE l.login_key = lower(p_login));
  END IF;
END
$$;

-- Records a failed login for a user or for an unknown name, with the same arithmetic for
-- both: after p_threshold consecutive failures the name is locked for
-- p_base_seconds * 2^(failures - p_threshold), at most p_max_seconds.
CREATE FUNCTION auth_record_login_failure(p_login text, p_user_id uuid, p_threshold integer,
                                          p_base_seconds integer, p_max_seconds integer)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  n integer;
  lock_until timestamptz;
BEGIN
  IF p_user_id IS NOT NULL THEN
    UPDATE public.users SET failed_login_count = failed_login_count + 1
    WHERE id = p_user_id RETURNING failed_login_count INTO n;
  ELSE
    DELETE FROM public.login_lockouts WHERE updated_at < now() - interval '1 day';
    INSERT INTO public.login_lockouts AS l (login_key, failed_login_count)
    VALUES (lower(p_login), 1)
    ON CONFLICT (login_key) DO UPDATE
      SET failed_login_count = l.failed_login_count + 1, updated_at = now()
    RETURNING l.failed_login_count INTO n;
  END IF;
  IF n IS NULL OR n < p_threshold THEN
    RETURN NULL;
  END IF;
  lock_until := now() + make_interval(secs => least(
    p_max_seconds::double precision,
    p_base_seconds * power(2::double precision, least(n - p_threshold, 30))));
  IF p_user_id IS NOT NULL THEN
    UPDATE public.users SET locked_until = lock_until WHERE id = p_user_id;
  ELSE
    UPDATE public.login_lockouts SET locked_until = lock_until WHERE login_key = lower(p_login);
  END IF;
  RETURN lock_until;
END
$$;

-- A successful login resets the failure count and records the time.
CREATE FUNCTION auth_record_login_success(p_user_id uuid) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  UPDATE public.users
  SET failed_login_count = 0, locked_until = NULL, last_login_at = now()
  WHERE id = p_user_id
$$;

-- Per-request check of an access token's subject: current role and active flag, and
-- whether the login session (refresh-token family) it belongs to is still open.
CREATE FUNCTION auth_session_state(p_user_id uuid, p_family_id uuid)
RETURNS TABLE (username text, role text, is_active boolean, session_open boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT u.username, u.role, u.is_active,
         EXISTS (SELECT 1 FROM public.refresh_tokens r
                 WHERE r.owner_id = u.id AND r.family_id = p_family_id
                   AND r.revoked_at IS NULL AND r.expires_at > now())
  FROM public.users u
  WHERE u.id = p_user_id
$$;

-- Refresh-token lookup by hash: who owns it and its state, nothing else.
CREATE FUNCTION auth_refresh_lookup(p_token_hash bytea)
RETURNS TABLE (id uuid, owner_id uuid, family_id uuid, expires_at timestamptz,
               used_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT r.id, r.owner_id, r.family_id, r.expires_at, r.used_at, r.revoked_at
  FROM public.refresh_tokens r
  WHERE r.token_hash = p_token_hash
$$;

-- Personal-access-token lookup by prefix, with its owner's current role and active flag.
CREATE FUNCTION auth_api_token_lookup(p_prefix text)
RETURNS TABLE (id uuid, owner_id uuid, token_hash bytea, scopes text[], expires_at timestamptz,
               last_used_at timestamptz, username text, role text, is_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT t.id, t.owner_id, t.token_hash, t.scopes, t.expires_at, t.last_used_at, u.username, u.role, u.is_active
  FROM public.api_tokens t
  JOIN public.users u ON u.id = t.owner_id
  WHERE t.prefix = p_prefix
$$;

-- Audit entries written before a user is known (failed logins, setup, registration).
CREATE FUNCTION audit_write_system(p_owner_id uuid, p_actor_type text, p_actor_id uuid,
                                   p_actor_name text, p_action text, p_entity_type text,
                                   p_entity_id text, p_ip text, p_request_id text, p_details jsonb)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  INSERT INTO public.audit_log (owner_id, actor_type, actor_id, actor_name, action, entity_type,
                                entity_id, ip, request_id, details)
  VALUES (p_owner_id, p_actor_type, p_actor_id, p_actor_name, p_action, p_entity_type,
          p_entity_id, p_ip, p_request_id, coalesce(p_details, '{}'::jsonb))
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'auth_setup_needed()',
    'auth_create_first_admin(text, text, text)',
    'auth_register_user(text, text, text)',
    'auth_login_lookup(text)',
    'auth_record_login_failure(text, uuid, integer, integer, integer)',
    'auth_record_login_success(uuid)',
    'auth_session_state(uuid, uuid)',
    'auth_refresh_lookup(bytea)',
    'auth_api_token_lookup(text)',
    'audit_write_system(uuid, text, uuid, text, text, text, text, text, text, jsonb)'
  ] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO accountdb_app', f);
  END LOOP;
END
$$;
