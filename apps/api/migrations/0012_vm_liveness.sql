-- 0012 a steady sync writes what changed, not every VM (issue 14, part 3).
--
-- Until now every sync rewrote every VM row of the node: last_seen_at and the live usage
-- figures (cpu_usage, mem_usage, uptime_s) move on every cycle, so a node of 10,000 guests
-- with 1% changed wrote 10,100 rows a cycle. Liveness and live usage now live beside the VM
-- rows, one row per node:
--
--   seen_at  the time of the node's last complete sync. Every VM of the node that is not
--            absent (absent_since IS NULL) was in it, so the API shows a synced VM's
--            last_seen_at as greatest(vms.last_seen_at, seen_at). When a VM goes missing its
--            own row takes the last seen_at (and its last usage) as absent_since is set, so
--            an absent VM keeps the time it was last seen.
--   usage    the last observed usage of the node's guests, {"<vmid>": [cpu, mem, uptime_s]}
--            (cpu a fraction, mem bytes, uptime in seconds as of seen_at; null when not
--            reported). Replaced as a whole by each complete sync: one row written per cycle
--            whatever the number of guests.
--   version  moves on every write, so an API process can keep the parsed usage of a node
--            and re-read it only when it changed.
--
-- The VM row itself is written only when the VM changed (or appears, returns, goes missing);
-- its cpu_usage, mem_usage, uptime_s and last_seen_at then hold the values of that moment,
-- which the API shows where no newer usage is known. Uptime alone is no change of a VM: the
-- row, its updated_at and its row_version (the ETag) stay as they are (vms_touch, 0003).
--
-- A tenant table like the others: the owner's policies (app_enable_tenant_rls) for users and
-- admins, and the agent policy of its own node (as migration 0007 gives the agent its node's
-- VMs). The composite foreign key ties the row to a node of the same owner.
CREATE TABLE vm_liveness (
  node_id    uuid PRIMARY KEY,
  owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seen_at    timestamptz,
  version    bigint NOT NULL DEFAULT 1,
  usage      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(usage) = 'object'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (node_id, owner_id) REFERENCES proxmox_nodes (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX vm_liveness_owner_idx ON vm_liveness (owner_id);
SELECT app_enable_tenant_rls('vm_liveness');
CREATE POLICY agent_all ON vm_liveness FOR ALL
  USING (node_id = (SELECT app_node_id())) WITH CHECK (node_id = (SELECT app_node_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON vm_liveness TO accountdb_app;

-- A node deleted: its VMs stay (node_id becomes NULL) and its liveness row goes with it, so
-- each VM it spoke for first takes the time it was last seen and its last usage into its own
-- row, as a VM that goes missing does. Runs before the foreign keys' actions, as the user
-- deleting the node (under row-level security: the node's owner or an admin). One pass over
-- the usage document (jsonb_each), not one look-up per VM.
CREATE FUNCTION vm_liveness_keep() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE public.vms v SET last_seen_at = greatest(v.last_seen_at, l.seen_at)
  FROM public.vm_liveness l
  WHERE l.node_id = OLD.id AND v.node_id = OLD.id AND v.source = 'agent'
    AND v.absent_since IS NULL AND v.vmid IS NOT NULL;
  UPDATE public.vms v SET cpu_usage = (e.value ->> 0)::double precision,
                          mem_usage = (e.value ->> 1)::bigint,
                          uptime_s = (e.value ->> 2)::bigint
  FROM public.vm_liveness l, jsonb_each(l.usage) e
  WHERE l.node_id = OLD.id AND v.node_id = OLD.id AND v.source = 'agent'
    AND v.absent_since IS NULL AND e.key = v.vmid::text;
  RETURN OLD;
END
$$;
CREATE TRIGGER proxmox_nodes_keep_liveness BEFORE DELETE ON proxmox_nodes
  FOR EACH ROW EXECUTE FUNCTION vm_liveness_keep();
