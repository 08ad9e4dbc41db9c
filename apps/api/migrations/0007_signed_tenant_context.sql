-- 0007 defence in depth for the tenant door, and the password login's two leaks closed.
--
-- Until now a request's transaction could change its own context: app.user_id, app.role and
-- app.node_id were raw settings that any statement could overwrite with set_config(), and
-- RESET ROLE returned to the connection's login role (the schema owner, often a superuser).
-- From here on:
--   * requests connect as a login role that owns nothing and can only become accountdb_app
--     (accountdb_authenticator below, or the operator's own role; see docs/architecture.md);
--   * the context is one value, app.ctx, that the server signs and the database binds to the
--     transaction (HMAC-SHA256 with a key only the definer functions below can read); the
--     policies' helper functions verify it once per statement and treat anything else as no
--     context at all. "System" (the narrow SECURITY DEFINER functions) is now who runs the
--     statement, the schema owner, not a setting anybody could write.
-- Also: password hashes go only to the password-login path; a failed-login lockout is
-- counted per name (known or not) with the check and the count in one statement.

-- ---------------------------------------------------------------------------------------
-- The login role of request connections: LOGIN, NOINHERIT (no rights of its own; every right
-- comes from SET ROLE accountdb_app), owns nothing. Roles are cluster-wide, so another
-- database may have made it. An owner that may not create roles skips this: the operator
-- then names a login role of their own in DATABASE_URL and the owner in DATABASE_OWNER_URL.
-- The API sets its password when it provisions it (a value derived from the context key).
-- ---------------------------------------------------------------------------------------
DO $$
DECLARE
  may_create boolean := (SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'accountdb_authenticator') THEN
    IF NOT may_create THEN
      RAISE NOTICE 'role accountdb_authenticator not created: % may not create roles (set DATABASE_URL to a login role of your own and DATABASE_OWNER_URL to the owner)', current_user;
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE accountdb_authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB
        NOCREATEROLE NOREPLICATION;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by a migration of another database
    END;
  END IF;
  IF NOT pg_catalog.pg_has_role('accountdb_authenticator', 'accountdb_app', 'MEMBER') THEN
    BEGIN
      GRANT accountdb_app TO accountdb_authenticator;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'could not grant accountdb_app to accountdb_authenticator: %', SQLERRM;
    WHEN unique_violation THEN
      NULL; -- granted concurrently by a migration of another database
    END;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------------------
-- The context key: 32 random bytes (SHA-256 of four random UUIDs, 488 random bits), with its
-- HMAC pads precomputed (RFC 2104: the key zero-padded to SHA-256's 64-byte block, XOR 0x36
-- and 0x5c), so that the functions below compute HMAC-SHA256 with the core sha256() alone.
-- Nobody but the owner has any right on this table: the request roles read it only through
-- the definer functions below, which never return it. The API reads it at start as the owner
-- to sign the contexts it opens.
-- ---------------------------------------------------------------------------------------
CREATE TABLE app_context_keys (
  id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  key        bytea NOT NULL CHECK (octet_length(key) = 32),
  inner_pad  bytea NOT NULL CHECK (octet_length(inner_pad) = 64),
  outer_pad  bytea NOT NULL CHECK (octet_length(outer_pad) = 64),
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON app_context_keys FROM PUBLIC;

DO $$
DECLARE
  k bytea := pg_catalog.sha256(
    uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) ||
    uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
  block bytea := k || pg_catalog.decode(repeat('00', 32), 'hex');
  ipad bytea := block;
  opad bytea := block;
BEGIN
  FOR i IN 0..63 LOOP
    ipad := set_byte(ipad, i, get_byte(block, i) # 54);  -- 0x36
    opad := set_byte(opad, i, get_byte(block, i) # 92);  -- 0x5c
  END LOOP;
  INSERT INTO app_context_keys (id, key, inner_pad, outer_pad) VALUES (1, k, ipad, opad);
END
$$;

-- What binds a context to its transaction: the transaction's start, in microseconds. A context
-- copied out of one transaction fails in every other (they start at other instants). Parallel
-- workers see their leader's start, so a parallel plan verifies like its leader.
CREATE FUNCTION app_transaction_tag() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM pg_catalog.transaction_timestamp()) * 1000000)::bigint::text $$;

-- Turns the server's signed claims into this transaction's context, or refuses.
-- p_claims: 'v1|<user id or empty>|<role>|<node id or empty>|<issued at, ms since the epoch>'
-- p_signature: HMAC-SHA256('enter|' || p_claims) under the context key, made by the API.
-- Returns '<user id>|<role>|<node id>|<hex HMAC of the same, bound to this transaction>',
-- which withTenant() stores in app.ctx. Claims issued more than 15 minutes from this
-- database's clock are refused (so a signature seen once, say in a server log with
-- parameters, is worth nothing later).
CREATE FUNCTION app_context_seal(p_claims text, p_signature bytea) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  parts text[] := pg_catalog.string_to_array(p_claims, '|');
  k public.app_context_keys%ROWTYPE;
  skew_ms bigint;
  core text;
BEGIN
  SELECT * INTO k FROM public.app_context_keys WHERE id = 1;
  -- HMAC-SHA256 (RFC 2104) from the key's pads. Compared as hashes: the time the comparison
  -- takes says nothing about the expected MAC.
  IF p_signature IS NULL
     OR pg_catalog.sha256(p_signature) IS DISTINCT FROM pg_catalog.sha256(pg_catalog.sha256(
          k.outer_pad || pg_catalog.sha256(k.inner_pad || pg_catalog.convert_to('enter|' || p_claims, 'UTF8')))) THEN
    RAISE EXCEPTION 'tenant context refused: bad signature' USING ERRCODE = '42501';
  END IF;
  -- Signed by the API, so well formed; checked all the same.
  IF pg_catalog.array_length(parts, 1) IS DISTINCT FROM 5 OR parts[1] <> 'v1'
     OR parts[3] NOT IN ('user', 'admin', 'node', 'anonymous', 'login')
     OR pg_catalog.length(parts[2]) NOT IN (0, 36) OR pg_catalog.length(parts[4]) NOT IN (0, 36)
     OR parts[5] !~ '^[0-9]{1,15}$' THEN
    RAISE EXCEPTION 'tenant context refused: malformed claims' USING ERRCODE = '42501';
  END IF;
  skew_ms := parts[5]::bigint - (extract(epoch FROM pg_catalog.statement_timestamp()) * 1000)::bigint;
  IF skew_ms NOT BETWEEN -900000 AND 900000 THEN
    RAISE EXCEPTION 'tenant context refused: issued % s from this database''s clock', skew_ms / 1000
      USING ERRCODE = '42501',
            HINT = 'The clocks of the API host and the database host differ by more than 15 minutes; synchronise them (NTP).';
  END IF;
  core := parts[2] || '|' || parts[3] || '|' || parts[4];
  RETURN core || '|' || pg_catalog.encode(pg_catalog.sha256(k.outer_pad || pg_catalog.sha256(k.inner_pad
    || pg_catalog.convert_to('ctx|' || core || '|' || public.app_transaction_tag(), 'UTF8'))), 'hex');
END
$$;
-- Executable by every role: the request login calls it in the statement that also drops to
-- accountdb_app (a function's EXECUTE right is checked when the statement starts, before the
-- role changes), whatever the login is called. It is safe so: without the key's signature
-- it only refuses.
GRANT EXECUTE ON FUNCTION app_context_seal(text, bytea) TO PUBLIC;

-- One claim of this transaction's verified context, or NULL when app.ctx is missing, forged,
-- or copied from another transaction. p_claim:
--   'role'       the role
--   'user'       the user of a user or admin context
--   'node'       the node of a node context
--   'node_owner' the owner of the node of a node context
-- The helpers below each call it once, and the policies wrap them as (SELECT …), so the
-- check runs once per helper and statement. Everything in one plpgsql function (its plans
-- are cached for the session): a SQL function called from here would be planned again on
-- every call.
CREATE FUNCTION app_context_claim(p_claim text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  c text := pg_catalog.current_setting('app.ctx', true);
  mac text;
  core text;
  k public.app_context_keys%ROWTYPE;
  parts text[];
BEGIN
  -- '<core>|<64 hex digits>'; anything else is no context. (Cheap checks only: the MAC is what
  -- matters, and a regular expression here cost as much as the HMAC.)
  IF c IS NULL OR pg_catalog.length(c) < 67 OR pg_catalog.substr(c, pg_catalog.length(c) - 64, 1) <> '|' THEN
    RETURN NULL;
  END IF;
  mac := pg_catalog.right(c, 64);
  IF pg_catalog.ltrim(mac, '0123456789abcdef') <> '' THEN
    RETURN NULL;
  END IF;
  core := pg_catalog.left(c, -65);
  SELECT * INTO k FROM public.app_context_keys WHERE id = 1;
  IF pg_catalog.sha256(k.outer_pad || pg_catalog.sha256(k.inner_pad || pg_catalog.convert_to(
       'ctx|' || core || '|' || public.app_transaction_tag(), 'UTF8')))
     IS DISTINCT FROM pg_catalog.decode(mac, 'hex') THEN
    RETURN NULL;
  END IF;
  parts := pg_catalog.string_to_array(core, '|');
  RETURN CASE p_claim
    WHEN 'role' THEN parts[2]
    WHEN 'user' THEN CASE WHEN parts[2] IN ('user', 'admin') THEN nullif(parts[1], '') END
    WHEN 'node' THEN CASE WHEN parts[2] = 'node' THEN nullif(parts[3], '') END
    WHEN 'node_owner' THEN CASE WHEN parts[2] = 'node' THEN nullif(parts[1], '') END
  END;
END
$$;
REVOKE ALL ON FUNCTION app_context_claim(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_context_claim(text) TO accountdb_app;

-- True inside the narrow SECURITY DEFINER functions (and for the schema owner's own
-- connections: migrations, owner-only CLI functions): the statement runs as a role that may
-- read the context key, which is the owner (or a superuser) and nobody else. No setting can
-- make a request that. An inlinable expression: no query of its own.
CREATE FUNCTION app_is_system() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.has_table_privilege(current_user, 'public.app_context_keys'::pg_catalog.regclass, 'SELECT') $$;

-- Should a grant on the key ever slip in: only the owner (the definer functions) passes.
ALTER TABLE app_context_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE app_context_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY app_context_keys_owner ON app_context_keys FOR SELECT USING (pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = 'public.app_context_keys'::pg_catalog.regclass), 'MEMBER'));

-- The helpers the policies call, now on the verified context. Replacing them keeps every
-- policy, trigger and function that calls them.

-- The user a user or admin context acts for. NULL for an agent (a node context reaches its
-- owner's rows only through the node policies below), for the definer functions (system:
-- they pass through app_is_admin()) and for no or a forged context.
CREATE OR REPLACE FUNCTION app_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN public.app_is_system() THEN NULL::uuid
              ELSE public.app_context_claim('user')::uuid END
$$;

-- The node an agent context acts for, and its owner.
CREATE OR REPLACE FUNCTION app_node_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT public.app_context_claim('node')::uuid $$;

CREATE FUNCTION app_node_owner_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT public.app_context_claim('node_owner')::uuid $$;

CREATE OR REPLACE FUNCTION app_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN public.app_is_system() THEN 'system'
              ELSE public.app_context_claim('role') END
$$;

CREATE OR REPLACE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN public.app_is_system() THEN true
              ELSE coalesce(public.app_context_claim('role') = 'admin', false) END
$$;

-- The verified role of the context itself, also inside definer functions (where app_role()
-- says 'system'): what a definer function checks to know which path called it.
CREATE FUNCTION app_context_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT public.app_context_claim('role') $$;

-- ---------------------------------------------------------------------------------------
-- Agents. Their contexts carry no user: app_user_id() is NULL for them, so the tenant
-- policies show an agent nothing, and these permissive policies grant it what a sync needs:
-- its own node row, that node's VMs and sync cycles, and its owner's hardware records (to
-- link them), VM status events and audit entries. Everything else stays out of reach without
-- a restrictive policy. The restrictive policies of migrations 0002 and 0003 go: a
-- restrictive check that passes on a missing context (role IS DISTINCT FROM 'node') could be
-- evaluated after a statement had forged the context; permissive grants fail closed.
-- ---------------------------------------------------------------------------------------
DROP POLICY deny_nodes ON data_keys;
DROP POLICY deny_nodes ON accounts;
DROP POLICY deny_nodes ON account_status_events;
DROP POLICY deny_nodes ON cards;
DROP POLICY deny_nodes ON users;
DROP POLICY deny_nodes ON refresh_tokens;
DROP POLICY deny_nodes ON api_tokens;
DROP POLICY node_scope ON proxmox_nodes;
DROP POLICY node_scope ON vms;
DROP POLICY node_scope ON agent_sync_cycles;
DROP FUNCTION app_deny_nodes(regclass);

CREATE POLICY agent_select ON proxmox_nodes FOR SELECT
  USING (id = (SELECT app_node_id()));
CREATE POLICY agent_update ON proxmox_nodes FOR UPDATE
  USING (id = (SELECT app_node_id())) WITH CHECK (id = (SELECT app_node_id()));
CREATE POLICY agent_all ON vms FOR ALL
  USING (node_id = (SELECT app_node_id())) WITH CHECK (node_id = (SELECT app_node_id()));
CREATE POLICY agent_all ON agent_sync_cycles FOR ALL
  USING (node_id = (SELECT app_node_id())) WITH CHECK (node_id = (SELECT app_node_id()));
CREATE POLICY agent_select ON hardware FOR SELECT
  USING (owner_id = (SELECT app_node_owner_id()));
CREATE POLICY agent_update ON hardware FOR UPDATE
  USING (owner_id = (SELECT app_node_owner_id())) WITH CHECK (owner_id = (SELECT app_node_owner_id()));
CREATE POLICY agent_select ON vm_status_events FOR SELECT
  USING (owner_id = (SELECT app_node_owner_id()));
CREATE POLICY agent_insert ON vm_status_events FOR INSERT
  WITH CHECK (owner_id = (SELECT app_node_owner_id()));
CREATE POLICY agent_insert ON audit_log FOR INSERT
  WITH CHECK (owner_id = (SELECT app_node_owner_id()));

-- agent_adopt_vm read app.node_id as a raw setting; now the verified node.
CREATE OR REPLACE FUNCTION agent_adopt_vm(p_node_id uuid, p_vmid integer, p_smbios_uuid uuid)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  v_owner uuid;
  v_id uuid;
BEGIN
  IF p_node_id IS DISTINCT FROM public.app_node_id() THEN
    RAISE EXCEPTION 'agent_adopt_vm: not called for the current node' USING ERRCODE = '42501';
  END IF;
  SELECT owner_id INTO v_owner FROM public.proxmox_nodes WHERE id = p_node_id;
  IF v_owner IS NULL OR p_smbios_uuid IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE public.vms v
  SET node_id = p_node_id
  WHERE v.id = (
    SELECT c.id FROM public.vms c
    WHERE c.owner_id = v_owner AND c.smbios_uuid = p_smbios_uuid AND c.vmid = p_vmid
      AND c.node_id IS DISTINCT FROM p_node_id
    ORDER BY c.updated_at DESC
    LIMIT 1
    FOR UPDATE
  )
  RETURNING v.id INTO v_id;
  RETURN v_id;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Password login. auth_login_lookup handed any request the password hash of any name, and a
-- lockout was checked before the password and counted after it (ten parallel wrong logins
-- were all verified), per user for known names but per typed name for unknown ones (so a
-- name/e-mail pair could be confirmed). Now: one lockout per typed name (lower-cased) for
-- every name, known or not; each attempt is counted, and refused when the name is locked, in
-- the one statement that also returns the hash; only the login path's context gets a hash.
-- users.failed_login_count / locked_until mirror the worst of the user's two names (username
-- and e-mail) for the admin's view; an admin's unlock clears both.
-- ---------------------------------------------------------------------------------------
DROP FUNCTION auth_login_lookup(text);
DROP FUNCTION auth_record_login_failure(text, uuid, integer, integer, integer);
DROP FUNCTION auth_record_login_success(uuid);

CREATE INDEX login_lockouts_updated_idx ON login_lockouts (updated_at);

-- Copies the lockout state of a user's names onto the user's row (what admins see).
CREATE FUNCTION auth_mirror_lockout(p_user_id uuid) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  UPDATE public.users u
  SET failed_login_count = coalesce(s.n, 0), locked_until = s.until
  FROM (
    SELECT max(l.failed_login_count) AS n, max(l.locked_until) AS until
    FROM public.login_lockouts l, public.users x
    WHERE x.id = p_user_id AND l.login_key IN (lower(x.username), lower(x.email))
  ) s
  WHERE u.id = p_user_id
    AND (u.failed_login_count, u.locked_until) IS DISTINCT FROM (coalesce(s.n, 0), s.until)
$$;
REVOKE ALL ON FUNCTION auth_mirror_lockout(uuid) FROM PUBLIC;

-- Starts a password login for p_login: counts the attempt and, unless the name is locked,
-- returns what the check needs. refused_until is set (and nothing else) when the name is
-- locked: the password is not checked. The attempt that reaches p_threshold locks the name for
-- p_base_seconds * 2^(attempts - p_threshold), at most p_max_seconds; a successful login
-- (auth_login_succeeded) clears the count. Concurrent attempts on one name wait for each other
-- on the lockout row, so at most p_threshold of them are ever checked.
CREATE FUNCTION auth_login_begin(p_login text, p_threshold integer, p_base_seconds integer,
                                 p_max_seconds integer)
RETURNS TABLE (refused_until timestamptz, locked_until timestamptz, user_id uuid,
               password_hash text, is_active boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  k text := lower(p_login);
  st public.login_lockouts%ROWTYPE;
  u public.users%ROWTYPE;
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' THEN
    RAISE EXCEPTION 'auth_login_begin: only the login path may start a login' USING ERRCODE = '42501';
  END IF;
  DELETE FROM public.login_lockouts l
  WHERE l.updated_at < now() - interval '1 day' AND (l.locked_until IS NULL OR l.locked_until < now());
  INSERT INTO public.login_lockouts AS l (login_key, failed_login_count)
  VALUES (k, 0)
  ON CONFLICT (login_key) DO UPDATE SET updated_at = now()
  RETURNING l.* INTO st;
  IF st.locked_until IS NOT NULL AND st.locked_until > now() THEN
    RETURN QUERY SELECT st.locked_until, st.locked_until, NULL::uuid, NULL::text, NULL::boolean;
    RETURN;
  END IF;
  st.failed_login_count := st.failed_login_count + 1;
  IF st.failed_login_count >= p_threshold THEN
    st.locked_until := now() + make_interval(secs => least(
      p_max_seconds::double precision,
      p_base_seconds * power(2::double precision, least(st.failed_login_count - p_threshold, 30))));
  ELSE
    st.locked_until := NULL;
  END IF;
  UPDATE public.login_lockouts l
  SET failed_login_count = st.failed_login_count, locked_until = st.locked_until, updated_at = now()
  WHERE l.login_key = k;

  SELECT * INTO u FROM public.users x
  WHERE lower(x.username) = k OR lower(x.email) = k
  ORDER BY (lower(x.username) = k) DESC
  LIMIT 1;
  IF FOUND THEN
    PERFORM public.auth_mirror_lockout(u.id);
  END IF;
  RETURN QUERY SELECT NULL::timestamptz, st.locked_until, u.id, u.password_hash, u.is_active;
END
$$;

-- A login that passed: the name's count starts again, the user's last login is recorded.
CREATE FUNCTION auth_login_succeeded(p_login text, p_user_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' THEN
    RAISE EXCEPTION 'auth_login_succeeded: only the login path may end a login' USING ERRCODE = '42501';
  END IF;
  DELETE FROM public.login_lockouts WHERE login_key = lower(p_login);
  UPDATE public.users SET last_login_at = now() WHERE id = p_user_id;
  PERFORM public.auth_mirror_lockout(p_user_id);
END
$$;

-- An admin's unlock (failed_login_count and locked_until cleared on the user's row) or a new
-- password clears the lockouts of both of the user's names.
CREATE FUNCTION app_users_clear_lockouts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
BEGIN
  IF (NEW.failed_login_count = 0 AND NEW.locked_until IS NULL
      AND (OLD.failed_login_count <> 0 OR OLD.locked_until IS NOT NULL))
     OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
    DELETE FROM public.login_lockouts
    WHERE login_key IN (lower(OLD.username), lower(OLD.email), lower(NEW.username), lower(NEW.email));
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app_users_clear_lockouts() FROM PUBLIC;
CREATE TRIGGER users_clear_lockouts AFTER UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION app_users_clear_lockouts();

-- The state of earlier lockouts of known users moves to their names.
INSERT INTO login_lockouts (login_key, failed_login_count, locked_until)
SELECT lower(u.username), u.failed_login_count, u.locked_until
FROM users u
WHERE u.failed_login_count > 0 OR u.locked_until IS NOT NULL
ON CONFLICT (login_key) DO UPDATE
  SET failed_login_count = greatest(login_lockouts.failed_login_count, EXCLUDED.failed_login_count),
      locked_until = greatest(login_lockouts.locked_until, EXCLUDED.locked_until);

-- `accountdb import|export --user <login>`: the CLI finds the user it then logs in as. It
-- used auth_login_lookup; now an owner-only function (the CLI holds the owner's URL; no request
-- can call it, so no request learns which names exist).
CREATE FUNCTION cli_user_by_login(p_login text)
RETURNS TABLE (user_id uuid, is_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT u.id, u.is_active FROM public.users u
  WHERE lower(u.username) = lower(p_login) OR lower(u.email) = lower(p_login)
  ORDER BY (lower(u.username) = lower(p_login)) DESC
  LIMIT 1
$$;
REVOKE ALL ON FUNCTION cli_user_by_login(text) FROM PUBLIC;

-- The other functions used before a user is known stay callable by the request role; the
-- audit writer and the login functions only from the contexts that need them.
CREATE OR REPLACE FUNCTION audit_write_system(p_owner_id uuid, p_actor_type text, p_actor_id uuid,
                                              p_actor_name text, p_action text, p_entity_type text,
                                              p_entity_id text, p_ip text, p_request_id text, p_details jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' AND public.app_context_role() IS DISTINCT FROM 'anonymous' THEN
    RAISE EXCEPTION 'audit_write_system: only before a user is known' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.audit_log (owner_id, actor_type, actor_id, actor_name, action, entity_type,
                                entity_id, ip, request_id, details)
  VALUES (p_owner_id, p_actor_type, p_actor_id, p_actor_name, p_action, p_entity_type,
          p_entity_id, p_ip, p_request_id, coalesce(p_details, '{}'::jsonb));
END
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'auth_login_begin(text, integer, integer, integer)',
    'auth_login_succeeded(text, uuid)'
  ] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO accountdb_app', f);
  END LOOP;
END
$$;
