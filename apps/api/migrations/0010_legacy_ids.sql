-- 0010 moving in from the earlier AccountDB (`accountdb migrate-legacy`, issue 13).
--
-- legacy_ids: which AccountDB row each row of the earlier database became, per owner, so that
-- a second run finds it again (the earlier tables have integer ids and, but for accounts, no
-- natural key), with a fingerprint of what was written so that an earlier row changed since
-- the last run is updated and an unchanged one left alone. A tenant table like the others:
-- each row is written by the migration acting as its owner, under row-level security.
-- Every link is an (id, owner_id) composite key, so a mapping can only ever point at a row of
-- its own owner, and deleting the AccountDB row (or the user) deletes its mapping: a later run
-- then creates the row again.
CREATE TABLE legacy_ids (
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source_table text NOT NULL CHECK (source_table IN ('users', 'accounts', 'hardware', 'cards', 'proxmox_nodes', 'vms')),
  legacy_id    text NOT NULL CHECK (char_length(legacy_id) BETWEEN 1 AND 100),
  account_id   uuid,
  hardware_id  uuid,
  card_id      uuid,
  node_id      uuid,
  vm_id        uuid,
  -- SHA-256 (hex) of the AccountDB body the earlier row was mapped to when it was last written.
  fingerprint  text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner_id, source_table, legacy_id),
  -- A users row maps the earlier user onto its owner itself; every other row onto exactly the
  -- link of its own table.
  CHECK (CASE source_table
           WHEN 'users' THEN num_nonnulls(account_id, hardware_id, card_id, node_id, vm_id) = 0
           WHEN 'accounts' THEN account_id IS NOT NULL AND num_nonnulls(hardware_id, card_id, node_id, vm_id) = 0
           WHEN 'hardware' THEN hardware_id IS NOT NULL AND num_nonnulls(account_id, card_id, node_id, vm_id) = 0
           WHEN 'cards' THEN card_id IS NOT NULL AND num_nonnulls(account_id, hardware_id, node_id, vm_id) = 0
           WHEN 'proxmox_nodes' THEN node_id IS NOT NULL AND num_nonnulls(account_id, hardware_id, card_id, vm_id) = 0
           WHEN 'vms' THEN vm_id IS NOT NULL AND num_nonnulls(account_id, hardware_id, card_id, node_id) = 0
         END),
  FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE CASCADE,
  FOREIGN KEY (hardware_id, owner_id) REFERENCES hardware (id, owner_id) ON DELETE CASCADE,
  FOREIGN KEY (card_id, owner_id) REFERENCES cards (id, owner_id) ON DELETE CASCADE,
  FOREIGN KEY (node_id, owner_id) REFERENCES proxmox_nodes (id, owner_id) ON DELETE CASCADE,
  FOREIGN KEY (vm_id, owner_id) REFERENCES vms (id, owner_id) ON DELETE CASCADE
);
-- The foreign keys' cascades look rows up by the link column.
CREATE INDEX legacy_ids_account_idx ON legacy_ids (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX legacy_ids_hardware_idx ON legacy_ids (hardware_id) WHERE hardware_id IS NOT NULL;
CREATE INDEX legacy_ids_card_idx ON legacy_ids (card_id) WHERE card_id IS NOT NULL;
CREATE INDEX legacy_ids_node_idx ON legacy_ids (node_id) WHERE node_id IS NOT NULL;
CREATE INDEX legacy_ids_vm_idx ON legacy_ids (vm_id) WHERE vm_id IS NOT NULL;
CREATE TRIGGER legacy_ids_touch BEFORE UPDATE ON legacy_ids FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('legacy_ids');
GRANT SELECT, INSERT, UPDATE, DELETE ON legacy_ids TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- Passwords from the earlier system are bcrypt hashes (passlib), stored as they were. The
-- login verifies one once and then replaces it with an argon2id hash of the same password:
-- this function, called by the login path only (its own context, like auth_login_begin),
-- swaps the hash only while it is still the bcrypt hash the login just verified, so a
-- password changed in between is never overwritten. It is no password change: sessions,
-- password_changed_at and the lockout stay as they are.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION auth_login_rehash(p_user_id uuid, p_old_hash text, p_new_hash text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  changed integer;
BEGIN
  IF public.app_context_role() IS DISTINCT FROM 'login' THEN
    RAISE EXCEPTION 'auth_login_rehash: only the login path may rehash a password' USING ERRCODE = '42501';
  END IF;
  IF p_old_hash !~ '^\$2[aby]\$' OR p_new_hash !~ '^\$argon2id\$' THEN
    RAISE EXCEPTION 'auth_login_rehash: only a bcrypt hash becomes an argon2id hash' USING ERRCODE = '22023';
  END IF;
  UPDATE public.users SET password_hash = p_new_hash
  WHERE id = p_user_id AND password_hash = p_old_hash;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed = 1;
END
$$;
REVOKE ALL ON FUNCTION auth_login_rehash(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_login_rehash(uuid, text, text) TO accountdb_app;
