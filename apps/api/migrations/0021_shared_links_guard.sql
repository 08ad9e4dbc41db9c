-- A grantee with a read-write share changes a shared object's own fields, never its links to
-- the owner's other objects, which the grantee cannot see: a VM's node (which would move it
-- under another node, and under that node's shares) and its account. Migration 0020's guard
-- plus these two columns; the owner, admins, agents and the definer functions pass as before.
CREATE OR REPLACE FUNCTION app_shared_write_guard() RETURNS trigger
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
  ELSIF TG_TABLE_NAME = 'vms' THEN
    IF (NEW.node_id, NEW.account_id) IS DISTINCT FROM (OLD.node_id, OLD.account_id) THEN
      RAISE EXCEPTION 'only the owner links a shared VM to a node or an account' USING ERRCODE = '42501';
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
