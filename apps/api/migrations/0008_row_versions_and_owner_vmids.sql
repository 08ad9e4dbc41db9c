-- 0008 two signals that crossed tenants although row-level security hid the rows: ETags that
-- counted every tenant's writes, and a status code that told whether another user's node has
-- a VMID.

-- ---------------------------------------------------------------------------------------
-- ETags: a per-row version. xmin (the writing transaction's id) is a counter of every
-- tenant's writes, so Alice's ETag told her how much Bob wrote. The version starts at 1 and
-- moves on every change of the row; for VMs not on the live usage figures a sync refreshes
-- every minute (cpu_usage, mem_usage, uptime_s, last_seen_at), like updated_at. The trigger
-- is named to fire after the *_touch trigger of the same table.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION app_bump_row_version() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.row_version := OLD.row_version + 1;
  RETURN NEW;
END
$$;

ALTER TABLE accounts ADD COLUMN row_version bigint NOT NULL DEFAULT 1;
ALTER TABLE hardware ADD COLUMN row_version bigint NOT NULL DEFAULT 1;
ALTER TABLE cards ADD COLUMN row_version bigint NOT NULL DEFAULT 1;
ALTER TABLE vms ADD COLUMN row_version bigint NOT NULL DEFAULT 1;
ALTER TABLE proxmox_nodes ADD COLUMN row_version bigint NOT NULL DEFAULT 1;
CREATE TRIGGER accounts_version BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION app_bump_row_version();
CREATE TRIGGER hardware_version BEFORE UPDATE ON hardware FOR EACH ROW EXECUTE FUNCTION app_bump_row_version();
CREATE TRIGGER cards_version BEFORE UPDATE ON cards FOR EACH ROW EXECUTE FUNCTION app_bump_row_version();
CREATE TRIGGER proxmox_nodes_version BEFORE UPDATE ON proxmox_nodes FOR EACH ROW EXECUTE FUNCTION app_bump_row_version();
-- VMs: vms_touch (migration 0003, which fires first) moves updated_at exactly when a column
-- other than the usage figures changed; the version follows it, without comparing the whole
-- row a second time on each of a sync's 10,000 updates. (Two changes of one row in one
-- transaction count once: now() is the same for both, and nobody saw the row in between.)
CREATE TRIGGER vms_version BEFORE UPDATE ON vms FOR EACH ROW
  WHEN (NEW.updated_at IS DISTINCT FROM OLD.updated_at)
  EXECUTE FUNCTION app_bump_row_version();

-- ---------------------------------------------------------------------------------------
-- VMIDs: unique per owner and node. The global UNIQUE (node_id, vmid) was checked before the
-- owner-bound foreign key, so a VM on another user's node answered 409 when that VMID existed
-- there and 422 otherwise. With the owner in the key, a row on someone else's node can only
-- fail the foreign key: 422, exactly like a node that does not exist. (A node has one owner,
-- so for real rows nothing changes.) The new index leads with node_id, vmid and serves the
-- agent's lookups, which vms_node_idx served.
-- ---------------------------------------------------------------------------------------
ALTER TABLE vms DROP CONSTRAINT vms_node_id_vmid_key;
ALTER TABLE vms ADD CONSTRAINT vms_node_vmid_owner_key UNIQUE (node_id, vmid, owner_id);
DROP INDEX vms_node_idx;
