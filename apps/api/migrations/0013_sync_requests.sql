-- 0013 live updates and "Sync now" (issue 14, part 4).
--
-- Live updates: a status change of a VM or of a node is announced on the channel
-- accountdb_events with pg_notify, in the transaction that made it (delivered at its commit,
-- never for a rolled-back one). Each API process LISTENs on one connection and fans the
-- events out to its open event streams, filtered by owner (docs/api.md, "Live updates").
-- The payload is small JSON and never a secret: {"owner_id", "type": "vm"|"node", "id",
-- "status"}. Any login of the database may LISTEN on any channel, so nothing that needs
-- hiding from another tenant's login goes into it; ids and statuses only.
--
-- VM events come from vm_status_events, which gets a row exactly when a VM's status changes
-- (a sync writing unchanged rows inserts none): a statement-level trigger sends one
-- notification per changed VM, or one per owner ("id": null, "count") when a statement
-- changed more than 100 VMs of that owner, so that a sync of thousands of changes does not
-- flood the queue; a client refetches its lists either way.
-- Node events: when a node's status, last sync or pending sync request changes.
--
-- Sync now: proxmox_nodes.sync_requested_at is set by POST /proxmox-nodes/{id}/sync-now; the
-- agent sees it on its next config poll, runs a cycle at once, and its sync clears it.

ALTER TABLE proxmox_nodes ADD COLUMN sync_requested_at timestamptz;

CREATE FUNCTION app_notify_vm_status() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT owner_id, count(*) AS n FROM changed GROUP BY owner_id
  LOOP
    IF r.n > 100 THEN
      PERFORM pg_notify('accountdb_events', json_build_object(
        'owner_id', r.owner_id, 'type', 'vm', 'id', NULL, 'status', NULL, 'count', r.n)::text);
    ELSE
      PERFORM pg_notify('accountdb_events', json_build_object(
        'owner_id', c.owner_id, 'type', 'vm', 'id', c.vm_id, 'status', c.to_status)::text)
      FROM changed c WHERE c.owner_id = r.owner_id;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER vm_status_events_notify
  AFTER INSERT ON vm_status_events
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION app_notify_vm_status();

CREATE FUNCTION app_notify_node_status() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM pg_notify('accountdb_events', json_build_object(
    'owner_id', NEW.owner_id, 'type', 'node', 'id', NEW.id, 'status', NEW.status)::text);
  RETURN NULL;
END $$;

CREATE TRIGGER proxmox_nodes_notify
  AFTER UPDATE ON proxmox_nodes
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.last_sync_at IS DISTINCT FROM NEW.last_sync_at
        OR OLD.sync_requested_at IS DISTINCT FROM NEW.sync_requested_at)
  EXECUTE FUNCTION app_notify_node_status();

REVOKE ALL ON FUNCTION app_notify_vm_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION app_notify_node_status() FROM PUBLIC;
