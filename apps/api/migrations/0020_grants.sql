-- 0020 sharing with other users (issue 16, part 2), enforced by row-level security.
--
-- An owner shares a Proxmox node (with its VMs), a single VM or an account with another user,
-- read or read-write; for an account, optionally with its secrets. A grant is one row of
-- `grants`; the inventory tables get permissive policies that consult it through small
-- SECURITY DEFINER functions (search_path = '': the policies never recurse into the grants'
-- own policies). Nothing caches a grant: a revoked grant stops working at the next statement.
--
-- What a grantee may do, in the database:
--   read   SELECT the object (a node grant: the node and every VM on it), its status history
--          and (node grant) its VMs' liveness row; never the node's agent key (a column the
--          API never shows; a grantee cannot change it either).
--   write  also UPDATE it (never its owner_id, never a node's agent key, never an account's
--          secrets without `secrets`), and append its status events.
--   never  DELETE it, share it again (grants are inserted by their owner only) or read the
--          owner's data key, unless an account grant says `secrets` (then the data key row,
--          which is what decrypts the owner's secrets; the API opens only the shared account).
-- Audit: a grantee's write or reveal of a shared object goes to the owner's log with the
-- grantee as actor, and grant changes go to both users' logs (audit_log insert policy below).

-- ---------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------
CREATE TABLE grants (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  grantee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  object_type text NOT NULL CHECK (object_type IN ('proxmox_node', 'vm', 'account')),
  object_id   uuid NOT NULL,
  permission  text NOT NULL DEFAULT 'read' CHECK (permission IN ('read', 'write')),
  secrets     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (object_type, object_id, grantee_id),
  CHECK (grantee_id <> owner_id),
  CHECK (NOT secrets OR object_type = 'account')
);
CREATE INDEX grants_grantee_idx ON grants (grantee_id, object_type, object_id);
CREATE INDEX grants_owner_idx ON grants (owner_id, created_at, id);
CREATE TRIGGER grants_touch BEFORE UPDATE ON grants FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
-- The owner (and an admin) manage their grants; the grantee reads the grants made to them and
-- may leave a share (delete it), never change one.
SELECT app_enable_tenant_rls('grants');
CREATE POLICY grantee_select ON grants FOR SELECT
  USING (grantee_id = (SELECT app_user_id()));
CREATE POLICY grantee_delete ON grants FOR DELETE
  USING (grantee_id = (SELECT app_user_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON grants TO accountdb_app;

-- At most this many grants name one object (hostile input: a clear refusal, not 10,000 rows
-- every policy check of that object walks). The API checks first and answers 422.
CREATE FUNCTION app_grants_max_per_object() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 100 $$;

-- A grant names an object of its owner, and only its permission and secrets flag change.
-- SECURITY DEFINER: the object is looked up as it is, whoever inserts (the owner_id check
-- is explicit); the tenant policy already requires owner_id to be the caller's.
CREATE FUNCTION app_grants_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  ok boolean;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF (NEW.owner_id, NEW.grantee_id, NEW.object_type, NEW.object_id)
       IS DISTINCT FROM (OLD.owner_id, OLD.grantee_id, OLD.object_type, OLD.object_id) THEN
      RAISE EXCEPTION 'a grant changes only its permission and secrets flag' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
  END IF;
  ok := CASE NEW.object_type
    WHEN 'proxmox_node' THEN EXISTS (SELECT 1 FROM public.proxmox_nodes o WHERE o.id = NEW.object_id AND o.owner_id = NEW.owner_id)
    WHEN 'vm' THEN EXISTS (SELECT 1 FROM public.vms o WHERE o.id = NEW.object_id AND o.owner_id = NEW.owner_id)
    WHEN 'account' THEN EXISTS (SELECT 1 FROM public.accounts o WHERE o.id = NEW.object_id AND o.owner_id = NEW.owner_id)
    ELSE false END;
  IF NOT ok THEN
    RAISE EXCEPTION 'a grant may only name an object of its owner' USING ERRCODE = '42501';
  END IF;
  -- One object's grants are counted under a lock on them, so concurrent inserts cannot pass
  -- the cap together.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(NEW.object_type || NEW.object_id::text));
  IF (SELECT count(*) FROM public.grants g WHERE g.object_type = NEW.object_type AND g.object_id = NEW.object_id)
     >= public.app_grants_max_per_object() THEN
    RAISE EXCEPTION 'too many grants on one object (at most %)', public.app_grants_max_per_object()
      USING ERRCODE = '54000';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION app_grants_check() FROM PUBLIC;
CREATE TRIGGER grants_check BEFORE INSERT OR UPDATE ON grants
  FOR EACH ROW EXECUTE FUNCTION app_grants_check();

-- Deleting an object deletes its grants (whoever may delete the object: its owner or an
-- admin, and the cascade of a deleted user).
CREATE FUNCTION app_grants_forget_object() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  DELETE FROM public.grants g
  WHERE g.object_type = TG_ARGV[0] AND g.object_id = OLD.id;
  RETURN OLD;
END
$$;
REVOKE ALL ON FUNCTION app_grants_forget_object() FROM PUBLIC;
CREATE TRIGGER proxmox_nodes_forget_grants AFTER DELETE ON proxmox_nodes
  FOR EACH ROW EXECUTE FUNCTION app_grants_forget_object('proxmox_node');
CREATE TRIGGER vms_forget_grants AFTER DELETE ON vms
  FOR EACH ROW EXECUTE FUNCTION app_grants_forget_object('vm');
CREATE TRIGGER accounts_forget_grants AFTER DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION app_grants_forget_object('account');

-- ---------------------------------------------------------------------------------------
-- What the policies consult, PARALLEL SAFE like app_context_claim (a parallel worker verifies
-- its leader's context), so a policy that calls them keeps a plan parallel. The grantee is the
-- user of the verified context
-- (app_context_claim, migration 0007: app_user_id() reads NULL inside a definer function);
-- agents, logins and anonymous requests have none and are granted nothing. The grant must
-- be the object's current owner's.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION app_granted(p_type text, p_id uuid, p_owner uuid, p_write boolean) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT p_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM public.grants g
    WHERE g.grantee_id = public.app_context_claim('user')::uuid
      AND g.object_type = p_type AND g.object_id = p_id AND g.owner_id = p_owner
      AND (NOT p_write OR g.permission = 'write'))
$$;

-- A VM is shared by a grant on it or on its node.
CREATE FUNCTION app_vm_granted(p_vm_id uuid, p_owner uuid, p_write boolean) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT public.app_granted('vm', p_vm_id, p_owner, p_write)
      OR public.app_granted('proxmox_node', (SELECT v.node_id FROM public.vms v WHERE v.id = p_vm_id), p_owner, p_write)
$$;

-- An account shared with its secrets.
CREATE FUNCTION app_secrets_granted(p_account_id uuid, p_owner uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.grants g
    WHERE g.grantee_id = public.app_context_claim('user')::uuid
      AND g.object_type = 'account' AND g.object_id = p_account_id AND g.owner_id = p_owner
      AND g.secrets)
$$;

-- Does p_owner share some account with its secrets with the caller (their data key row)?
CREATE FUNCTION app_data_key_granted(p_owner uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.grants g
    WHERE g.grantee_id = public.app_context_claim('user')::uuid
      AND g.owner_id = p_owner AND g.object_type = 'account' AND g.secrets)
$$;

-- Is there a grant between the caller and p_user, either way (who may write to whose log)?
CREATE FUNCTION app_shares_with(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.grants g
    WHERE (g.owner_id = p_user AND g.grantee_id = public.app_context_claim('user')::uuid)
       OR (g.grantee_id = p_user AND g.owner_id = public.app_context_claim('user')::uuid))
$$;

-- The usernames of the users the caller shares with or who share with the caller (for
-- "shared by <username>" and the grants lists), without opening users to them.
CREATE FUNCTION app_share_usernames(p_ids uuid[])
RETURNS TABLE (id uuid, username text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT u.id, u.username FROM public.users u
  WHERE u.id = ANY (p_ids)
    AND (u.id = public.app_context_claim('user')::uuid
         OR EXISTS (SELECT 1 FROM public.grants g
                    WHERE (g.owner_id = u.id AND g.grantee_id = public.app_context_claim('user')::uuid)
                       OR (g.grantee_id = u.id AND g.owner_id = public.app_context_claim('user')::uuid)))
$$;

-- The active user a share names by username (case-insensitive), for a signed-in user.
-- Tells a user whether a username exists, which sharing by username cannot avoid.
CREATE FUNCTION app_share_grantee(p_username text)
RETURNS TABLE (id uuid, username text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT u.id, u.username FROM public.users u
  WHERE public.app_context_claim('user') IS NOT NULL
    AND lower(u.username) = lower(p_username) AND u.is_active
$$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'app_granted(text, uuid, uuid, boolean)',
    'app_vm_granted(uuid, uuid, boolean)',
    'app_secrets_granted(uuid, uuid)',
    'app_data_key_granted(uuid)',
    'app_shares_with(uuid)',
    'app_share_usernames(uuid[])',
    'app_share_grantee(text)'
  ] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO accountdb_app', f);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------
-- The policies. Named tenant_share_* so that they sort after tenant_* (PostgreSQL ORs the
-- permissive policies in name order and stops at the first true one: the caller's own rows
-- never call the grant functions).
-- ---------------------------------------------------------------------------------------
CREATE POLICY tenant_share_select ON proxmox_nodes FOR SELECT
  USING (public.app_granted('proxmox_node', id, owner_id, false));
CREATE POLICY tenant_share_update ON proxmox_nodes FOR UPDATE
  USING (public.app_granted('proxmox_node', id, owner_id, true))
  WITH CHECK (public.app_granted('proxmox_node', id, owner_id, true));

CREATE POLICY tenant_share_select ON vms FOR SELECT
  USING (public.app_granted('vm', id, owner_id, false)
         OR public.app_granted('proxmox_node', node_id, owner_id, false));
CREATE POLICY tenant_share_update ON vms FOR UPDATE
  USING (public.app_granted('vm', id, owner_id, true)
         OR public.app_granted('proxmox_node', node_id, owner_id, true))
  WITH CHECK (public.app_granted('vm', id, owner_id, true)
              OR public.app_granted('proxmox_node', node_id, owner_id, true));

CREATE POLICY tenant_share_select ON accounts FOR SELECT
  USING (public.app_granted('account', id, owner_id, false));
CREATE POLICY tenant_share_update ON accounts FOR UPDATE
  USING (public.app_granted('account', id, owner_id, true))
  WITH CHECK (public.app_granted('account', id, owner_id, true));

CREATE POLICY tenant_share_select ON account_status_events FOR SELECT
  USING (public.app_granted('account', account_id, owner_id, false));
CREATE POLICY tenant_share_insert ON account_status_events FOR INSERT
  WITH CHECK (public.app_granted('account', account_id, owner_id, true));

CREATE POLICY tenant_share_select ON vm_status_events FOR SELECT
  USING (public.app_vm_granted(vm_id, owner_id, false));
CREATE POLICY tenant_share_insert ON vm_status_events FOR INSERT
  WITH CHECK (public.app_vm_granted(vm_id, owner_id, true));

-- A node's liveness row holds the usage of every guest of the node: a node grant only. A VM
-- shared alone shows the usage stored on its own row.
CREATE POLICY tenant_share_select ON vm_liveness FOR SELECT
  USING (public.app_granted('proxmox_node', node_id, owner_id, false));

-- The owner's data key, only through an account grant with secrets.
CREATE POLICY tenant_share_select ON data_keys FOR SELECT
  USING (public.app_data_key_granted(owner_id));

-- Audit entries between the two users of a grant: the grantee's writes and reveals in the
-- owner's log, the owner's grant changes in the grantee's log. Always as oneself.
CREATE POLICY tenant_share_insert ON audit_log FOR INSERT
  WITH CHECK (actor_id = (SELECT app_user_id()) AND public.app_shares_with(owner_id));

-- What no policy can say about columns: a grantee's write never moves the object to another
-- owner, never touches a node's agent key, and changes an account's secrets only with them.
-- The owner, admins, agents (their node's VMs) and the definer functions pass.
CREATE FUNCTION app_shared_write_guard() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF OLD.owner_id IS NOT DISTINCT FROM public.app_user_id() OR public.app_is_admin()
     OR public.app_role() = 'node' THEN
    RETURN NEW;
  END IF;
  IF NEW.owner_id IS DISTINCT FROM OLD.owner_id THEN
    RAISE EXCEPTION 'a shared object keeps its owner' USING ERRCODE = '42501';
  END IF;
  IF TG_TABLE_NAME = 'proxmox_nodes' THEN
    IF (NEW.api_key_prefix, NEW.api_key_hash, NEW.api_key_rotated_at)
       IS DISTINCT FROM (OLD.api_key_prefix, OLD.api_key_hash, OLD.api_key_rotated_at) THEN
      RAISE EXCEPTION 'a node''s agent key is never shared' USING ERRCODE = '42501';
    END IF;
  ELSIF TG_TABLE_NAME = 'accounts' THEN
    IF (NEW.secrets_enc IS DISTINCT FROM OLD.secrets_enc OR NEW.secret_fields IS DISTINCT FROM OLD.secret_fields)
       AND NOT public.app_secrets_granted(OLD.id, OLD.owner_id) THEN
      RAISE EXCEPTION 'this account is shared without its secrets' USING ERRCODE = '42501';
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER proxmox_nodes_shared_write_guard BEFORE UPDATE ON proxmox_nodes
  FOR EACH ROW EXECUTE FUNCTION app_shared_write_guard();
CREATE TRIGGER vms_shared_write_guard BEFORE UPDATE ON vms
  FOR EACH ROW EXECUTE FUNCTION app_shared_write_guard();
CREATE TRIGGER accounts_shared_write_guard BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION app_shared_write_guard();
