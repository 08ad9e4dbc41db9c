-- 0014 credential cache invalidation (issue 15, part 1).
--
-- Each API process keeps the answers of its per-request credential checks (session state,
-- personal access token lookup, node key lookup) in a small cache, so that a request needs
-- no separate transaction for them (docs/architecture.md, "Credential cache"). A change that
-- must take effect at once is announced here, on the channel accountdb_auth, by triggers, so
-- that every writer is covered (the API, the CLI's reset-password and migrate-legacy, psql):
-- each API process LISTENs and drops the entries of that user.
--
-- The payload is JSON with ids and a kind only, never a secret, a hash or a prefix:
-- {"kind": "user"|"session"|"token"|"node", "user_id", "id"}. Any login may LISTEN on any
-- channel; ids are all it learns. PostgreSQL folds identical notifications of one transaction
-- into one, so revoking a session family of many rows sends one.
--
-- What is announced:
--   users: role, is_active, password_hash or username changed; a user deleted;
--   refresh_tokens: a token revoked (or un-revoked), its expiry or family changed, deleted
--     (logout, password change, deactivation, reuse detection, cascade of a user deletion);
--   api_tokens: its hash, prefix, scopes, expiry or owner changed, deleted (last_used_at,
--     written once a minute by use, is not announced);
--   proxmox_nodes: its key (hash or prefix) or owner changed, deleted.
-- New rows are not announced: the cache never holds a negative answer.

CREATE FUNCTION app_notify_auth() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  v_kind text := TG_ARGV[0];
  v_row jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
  v_old jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
  v_user text := CASE v_kind WHEN 'user' THEN v_row->>'id' ELSE v_row->>'owner_id' END;
  v_id text := CASE v_kind WHEN 'session' THEN v_row->>'family_id' ELSE v_row->>'id' END;
BEGIN
  PERFORM pg_notify('accountdb_auth',
    json_build_object('kind', v_kind, 'user_id', v_user, 'id', v_id)::text);
  -- A row moved to another owner: the former owner's entries go too.
  IF v_kind <> 'user' AND v_old IS NOT NULL AND v_old->>'owner_id' IS DISTINCT FROM v_user THEN
    PERFORM pg_notify('accountdb_auth',
      json_build_object('kind', v_kind, 'user_id', v_old->>'owner_id', 'id', v_id)::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER users_notify_auth
  AFTER UPDATE ON users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
        OR OLD.username IS DISTINCT FROM NEW.username)
  EXECUTE FUNCTION app_notify_auth('user');
CREATE TRIGGER users_notify_auth_delete
  AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION app_notify_auth('user');

CREATE TRIGGER refresh_tokens_notify_auth
  AFTER UPDATE ON refresh_tokens FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.family_id IS DISTINCT FROM NEW.family_id
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
  EXECUTE FUNCTION app_notify_auth('session');
CREATE TRIGGER refresh_tokens_notify_auth_delete
  AFTER DELETE ON refresh_tokens FOR EACH ROW EXECUTE FUNCTION app_notify_auth('session');

CREATE TRIGGER api_tokens_notify_auth
  AFTER UPDATE ON api_tokens FOR EACH ROW
  WHEN (OLD.token_hash IS DISTINCT FROM NEW.token_hash
        OR OLD.prefix IS DISTINCT FROM NEW.prefix
        OR OLD.scopes IS DISTINCT FROM NEW.scopes
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
  EXECUTE FUNCTION app_notify_auth('token');
CREATE TRIGGER api_tokens_notify_auth_delete
  AFTER DELETE ON api_tokens FOR EACH ROW EXECUTE FUNCTION app_notify_auth('token');

CREATE TRIGGER proxmox_nodes_notify_auth
  AFTER UPDATE ON proxmox_nodes FOR EACH ROW
  WHEN (OLD.api_key_hash IS DISTINCT FROM NEW.api_key_hash
        OR OLD.api_key_prefix IS DISTINCT FROM NEW.api_key_prefix
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
  EXECUTE FUNCTION app_notify_auth('node');
CREATE TRIGGER proxmox_nodes_notify_auth_delete
  AFTER DELETE ON proxmox_nodes FOR EACH ROW EXECUTE FUNCTION app_notify_auth('node');

REVOKE ALL ON FUNCTION app_notify_auth() FROM PUBLIC;
