-- 0003 agent sync: node-key lookup, idempotent sync cycles, snapshot ordering, and the
-- narrow function that lets a node take over a VM that migrated to it from another node of
-- the same owner.

ALTER TABLE proxmox_nodes ADD COLUMN last_observed_at timestamptz;

-- One row per applied sync cycle: a retry with the same cycle_id gets the same answer; the
-- same cycle_id with another body is refused. Old rows are pruned by the sync itself.
CREATE TABLE agent_sync_cycles (
  node_id    uuid NOT NULL,
  owner_id   uuid NOT NULL,
  cycle_id   text NOT NULL CHECK (char_length(cycle_id) BETWEEN 1 AND 100),
  body_hash  bytea NOT NULL,
  response   jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, cycle_id),
  FOREIGN KEY (node_id, owner_id) REFERENCES proxmox_nodes (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX agent_sync_cycles_created_idx ON agent_sync_cycles (node_id, created_at);
SELECT app_enable_tenant_rls('agent_sync_cycles');
CREATE POLICY node_scope ON agent_sync_cycles AS RESTRICTIVE FOR ALL
  USING ((SELECT app_role()) IS DISTINCT FROM 'node' OR node_id = (SELECT app_node_id()))
  WITH CHECK ((SELECT app_role()) IS DISTINCT FROM 'node' OR node_id = (SELECT app_node_id()));
GRANT SELECT, INSERT, DELETE ON agent_sync_cycles TO accountdb_app;

-- Node-key lookup by prefix, before the node is known: the node, its owner, the key hash,
-- and whether the owner may still act.
CREATE FUNCTION auth_node_key_lookup(p_prefix text)
RETURNS TABLE (node_id uuid, owner_id uuid, key_hash bytea, owner_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT n.id, n.owner_id, n.api_key_hash, u.is_active
  FROM public.proxmox_nodes n
  JOIN public.users u ON u.id = n.owner_id
  WHERE n.api_key_prefix = p_prefix
$$;

-- A VM that migrated between two nodes of one owner keeps its row (id, links, history):
-- the receiving node adopts the row that has the same SMBIOS UUID and VMID on another node
-- of the same owner. Callable only for the node of the current transaction's context.
CREATE FUNCTION agent_adopt_vm(p_node_id uuid, p_vmid integer, p_smbios_uuid uuid)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  v_owner uuid;
  v_id uuid;
BEGIN
  IF p_node_id IS DISTINCT FROM nullif(current_setting('app.node_id', true), '')::uuid THEN
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

REVOKE ALL ON FUNCTION auth_node_key_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_node_key_lookup(text) TO accountdb_app;
REVOKE ALL ON FUNCTION agent_adopt_vm(uuid, integer, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_adopt_vm(uuid, integer, uuid) TO accountdb_app;

-- A VM's usage figures change on every sync; they are not a change of the VM, so they do not
-- move updated_at. Any other column does.
DROP TRIGGER vms_touch ON vms;
CREATE TRIGGER vms_touch BEFORE UPDATE ON vms FOR EACH ROW
  WHEN ((to_jsonb(OLD) - '{cpu_usage,mem_usage,uptime_s,last_seen_at,updated_at}'::text[])
        IS DISTINCT FROM (to_jsonb(NEW) - '{cpu_usage,mem_usage,uptime_s,last_seen_at,updated_at}'::text[]))
  EXECUTE FUNCTION app_touch_updated_at();
