-- 0002 inventory: data keys for envelope encryption, Proxmox nodes, accounts, VMs, hardware
-- profiles, cards, and the status histories of accounts and VMs.
--
-- Links between tenant rows use composite foreign keys (id, owner_id): a foreign key is not
-- subject to row-level security, so a single-column key could point at another user's row.
-- ON DELETE SET NULL (col) clears only the link column, never owner_id.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The node an agent request acts for (set by withTenant for node actors).
CREATE FUNCTION app_node_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.node_id', true), '')::uuid $$;

-- Agents (app.role = 'node') may touch only what the sync needs: their own node, its VMs
-- and the owner's hardware records. On every other tenant table a RESTRICTIVE policy shuts
-- them out, whatever the permissive tenant policy says.
CREATE FUNCTION app_deny_nodes(tbl regclass) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format(
    'CREATE POLICY deny_nodes ON %s AS RESTRICTIVE FOR ALL USING ((SELECT public.app_role()) IS DISTINCT FROM ''node'') WITH CHECK ((SELECT public.app_role()) IS DISTINCT FROM ''node'')',
    tbl);
END
$$;
REVOKE ALL ON FUNCTION app_deny_nodes(regclass) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------
-- data_keys: one data key per owner, wrapped (AES-256-GCM) by the master key identified by
-- master_kid. Secrets are encrypted with the data key; rotating the master key re-wraps
-- these rows only.
-- ---------------------------------------------------------------------------------------
CREATE TABLE data_keys (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id    uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  master_kid  text NOT NULL,
  wrapped_key bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER data_keys_touch BEFORE UPDATE ON data_keys FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('data_keys');
SELECT app_deny_nodes('data_keys');
GRANT SELECT, INSERT, UPDATE ON data_keys TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- proxmox_nodes
-- ---------------------------------------------------------------------------------------
CREATE TABLE proxmox_nodes (
  id              uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  hostname        text CHECK (char_length(hostname) <= 253),
  port            integer NOT NULL DEFAULT 8006 CHECK (port BETWEEN 1 AND 65535),
  cluster         text CHECK (char_length(cluster) <= 100),
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'online', 'stale', 'error', 'offline')),
  last_seen_at    timestamptz,
  last_sync_at    timestamptz,
  last_sync_stats jsonb,
  last_error      text,
  agent_version   text,
  pve_version     text,
  api_key_prefix  text NOT NULL UNIQUE,
  api_key_hash    bytea NOT NULL,
  api_key_rotated_at timestamptz,
  sync_mode       text NOT NULL DEFAULT 'all' CHECK (sync_mode IN ('all', 'whitelist')),
  sync_interval_s integer NOT NULL DEFAULT 60 CHECK (sync_interval_s BETWEEN 10 AND 3600),
  whitelist       integer[] NOT NULL DEFAULT '{}',
  skipped_vmids   integer[] NOT NULL DEFAULT '{}',
  tags            text[] NOT NULL DEFAULT '{}',
  notes           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, owner_id)
);
CREATE UNIQUE INDEX proxmox_nodes_owner_name_key ON proxmox_nodes (owner_id, lower(name));
CREATE INDEX proxmox_nodes_tags_idx ON proxmox_nodes USING gin (tags);
CREATE INDEX proxmox_nodes_search_idx ON proxmox_nodes
  USING gin ((lower(name || ' ' || coalesce(hostname, '') || ' ' || coalesce(cluster, ''))) gin_trgm_ops);
CREATE TRIGGER proxmox_nodes_touch BEFORE UPDATE ON proxmox_nodes FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('proxmox_nodes');
-- A node actor sees and updates only its own node row.
CREATE POLICY node_scope ON proxmox_nodes AS RESTRICTIVE FOR ALL
  USING ((SELECT app_role()) IS DISTINCT FROM 'node' OR id = (SELECT app_node_id()))
  WITH CHECK ((SELECT app_role()) IS DISTINCT FROM 'node' OR id = (SELECT app_node_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON proxmox_nodes TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- accounts: secrets live only in secrets_enc (one AES-256-GCM ciphertext of a JSON object,
-- bound to the row); secret_fields names the secrets present, for has_* flags.
-- ---------------------------------------------------------------------------------------
CREATE TABLE accounts (
  id            uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  external_id   text CHECK (char_length(external_id) BETWEEN 1 AND 200),
  service       text NOT NULL DEFAULT 'steam' CHECK (char_length(service) BETWEEN 1 AND 50),
  username      text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 200),
  email         text CHECK (char_length(email) <= 254),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled', 'banned')),
  locked_until  timestamptz,
  status_reason text CHECK (char_length(status_reason) <= 500),
  tags          text[] NOT NULL DEFAULT '{}',
  notes         text,
  attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
  secrets_enc   text,
  secret_fields text[] NOT NULL DEFAULT '{}',
  claimed_by    text CHECK (char_length(claimed_by) <= 200),
  claimed_at    timestamptz,
  claimed_until timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, owner_id)
);
CREATE UNIQUE INDEX accounts_owner_external_key ON accounts (owner_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_owner_status_idx ON accounts (owner_id, status, id);
CREATE INDEX accounts_owner_created_idx ON accounts (owner_id, created_at, id);
CREATE INDEX accounts_tags_idx ON accounts USING gin (tags);
CREATE INDEX accounts_search_idx ON accounts
  USING gin ((lower(username || ' ' || coalesce(email, '') || ' ' || coalesce(external_id, '') || ' ' || service)) gin_trgm_ops);
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('accounts');
SELECT app_deny_nodes('accounts');
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO accountdb_app;

CREATE TABLE account_status_events (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id    uuid NOT NULL,
  account_id  uuid NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  reason      text,
  at          timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX account_status_events_account_idx ON account_status_events (account_id, at DESC);
SELECT app_enable_tenant_rls('account_status_events');
SELECT app_deny_nodes('account_status_events');
GRANT SELECT, INSERT ON account_status_events TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- vms
-- ---------------------------------------------------------------------------------------
CREATE TABLE vms (
  id            uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  node_id       uuid,
  vmid          integer CHECK (vmid BETWEEN 1 AND 999999999),
  type          text NOT NULL DEFAULT 'qemu' CHECK (type IN ('qemu', 'lxc')),
  name          text CHECK (char_length(name) <= 200),
  status        text NOT NULL DEFAULT 'unknown' CHECK (status IN ('running', 'stopped', 'paused', 'unknown')),
  template      boolean NOT NULL DEFAULT false,
  pve_lock      text CHECK (char_length(pve_lock) <= 50),
  cpu_cores     integer CHECK (cpu_cores BETWEEN 0 AND 100000),
  memory_mb     bigint CHECK (memory_mb >= 0),
  disk_gb       double precision CHECK (disk_gb >= 0),
  ip_addresses  text[] NOT NULL DEFAULT '{}',
  mac_addresses text[] NOT NULL DEFAULT '{}',
  smbios_uuid   uuid,
  tags          text[] NOT NULL DEFAULT '{}',
  pve_tags      text[] NOT NULL DEFAULT '{}',
  description   text,
  notes         text,
  account_id    uuid,
  cpu_usage     double precision CHECK (cpu_usage >= 0),
  mem_usage     bigint CHECK (mem_usage >= 0),
  uptime_s      bigint CHECK (uptime_s >= 0),
  source        text NOT NULL DEFAULT 'manual' CHECK (source IN ('agent', 'manual')),
  last_seen_at  timestamptz,
  absent_since  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, owner_id),
  UNIQUE (node_id, vmid),
  FOREIGN KEY (node_id, owner_id) REFERENCES proxmox_nodes (id, owner_id) ON DELETE SET NULL (node_id),
  FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE SET NULL (account_id)
);
CREATE INDEX vms_owner_status_idx ON vms (owner_id, status, id);
CREATE INDEX vms_owner_created_idx ON vms (owner_id, created_at, id);
CREATE INDEX vms_node_idx ON vms (node_id, vmid);
CREATE INDEX vms_account_idx ON vms (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX vms_smbios_idx ON vms (owner_id, smbios_uuid) WHERE smbios_uuid IS NOT NULL;
CREATE INDEX vms_tags_idx ON vms USING gin (tags);
CREATE INDEX vms_search_idx ON vms
  USING gin ((lower(coalesce(name, '') || ' ' || coalesce(vmid::text, '') || ' ' || coalesce(description, ''))) gin_trgm_ops);
CREATE TRIGGER vms_touch BEFORE UPDATE ON vms FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('vms');
-- A node actor touches only the VMs of its own node.
CREATE POLICY node_scope ON vms AS RESTRICTIVE FOR ALL
  USING ((SELECT app_role()) IS DISTINCT FROM 'node' OR node_id = (SELECT app_node_id()))
  WITH CHECK ((SELECT app_role()) IS DISTINCT FROM 'node' OR node_id = (SELECT app_node_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON vms TO accountdb_app;

CREATE TABLE vm_status_events (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id    uuid NOT NULL,
  vm_id       uuid NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (vm_id, owner_id) REFERENCES vms (id, owner_id) ON DELETE CASCADE
);
CREATE INDEX vm_status_events_vm_idx ON vm_status_events (vm_id, at DESC);
CREATE INDEX vm_status_events_owner_at_idx ON vm_status_events (owner_id, at DESC);
SELECT app_enable_tenant_rls('vm_status_events');
GRANT SELECT, INSERT ON vm_status_events TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- hardware: the identifiers of a machine profile; MAC stored as AA:BB:CC:DD:EE:FF.
-- ---------------------------------------------------------------------------------------
CREATE TABLE hardware (
  id              uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  account_id      uuid,
  vm_id           uuid,
  bios_vendor     text CHECK (char_length(bios_vendor) <= 200),
  bios_version    text CHECK (char_length(bios_version) <= 200),
  disk_serial     text CHECK (char_length(disk_serial) <= 200),
  disk_model      text CHECK (char_length(disk_model) <= 200),
  smbios_uuid     uuid,
  mb_manufacturer text CHECK (char_length(mb_manufacturer) <= 200),
  mb_product      text CHECK (char_length(mb_product) <= 200),
  mb_version      text CHECK (char_length(mb_version) <= 200),
  mb_serial       text CHECK (char_length(mb_serial) <= 200),
  mac_address     text CHECK (mac_address ~ '^[0-9A-F]{2}(:[0-9A-F]{2}){5}$'),
  pcname          text CHECK (char_length(pcname) <= 200),
  machine_guid    uuid,
  hwprofile_guid  uuid,
  product_id      text CHECK (char_length(product_id) <= 200),
  device_id       text CHECK (char_length(device_id) <= 200),
  tags            text[] NOT NULL DEFAULT '{}',
  notes           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, owner_id),
  FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE SET NULL (account_id),
  FOREIGN KEY (vm_id, owner_id) REFERENCES vms (id, owner_id) ON DELETE SET NULL (vm_id)
);
CREATE INDEX hardware_owner_created_idx ON hardware (owner_id, created_at, id);
CREATE INDEX hardware_mac_idx ON hardware (owner_id, mac_address) WHERE mac_address IS NOT NULL;
CREATE INDEX hardware_smbios_idx ON hardware (owner_id, smbios_uuid) WHERE smbios_uuid IS NOT NULL;
CREATE INDEX hardware_machine_guid_idx ON hardware (owner_id, machine_guid) WHERE machine_guid IS NOT NULL;
CREATE INDEX hardware_hwprofile_guid_idx ON hardware (owner_id, hwprofile_guid) WHERE hwprofile_guid IS NOT NULL;
CREATE INDEX hardware_account_idx ON hardware (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX hardware_vm_idx ON hardware (vm_id) WHERE vm_id IS NOT NULL;
CREATE INDEX hardware_tags_idx ON hardware USING gin (tags);
CREATE INDEX hardware_search_idx ON hardware
  USING gin ((lower(coalesce(pcname, '') || ' ' || coalesce(mac_address, '') || ' ' || coalesce(smbios_uuid::text, '') || ' ' ||
                    coalesce(disk_serial, '') || ' ' || coalesce(mb_serial, '') || ' ' || coalesce(mb_product, ''))) gin_trgm_ops);
CREATE TRIGGER hardware_touch BEFORE UPDATE ON hardware FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('hardware');
GRANT SELECT, INSERT, UPDATE, DELETE ON hardware TO accountdb_app;

-- ---------------------------------------------------------------------------------------
-- cards: codes encrypted (code*_enc), found by an HMAC blind index (code*_bidx) keyed per
-- owner, shown masked (code_hint: the last characters of code1) in lists.
-- ---------------------------------------------------------------------------------------
CREATE TABLE cards (
  id             uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code1_enc      text NOT NULL,
  code1_bidx     bytea NOT NULL,
  code2_enc      text,
  code2_bidx     bytea,
  code_hint      text NOT NULL,
  status         text NOT NULL DEFAULT 'available'
                 CHECK (status IN ('available', 'claimed', 'redeemed', 'failed', 'disabled')),
  failure_reason text CHECK (char_length(failure_reason) <= 500),
  claimed_by     text CHECK (char_length(claimed_by) <= 200),
  claimed_at     timestamptz,
  claimed_until  timestamptz,
  redeemed_at    timestamptz,
  account_id     uuid,
  value          numeric(14, 2) CHECK (value >= 0),
  currency       text CHECK (currency ~ '^[A-Z]{3}$'),
  expires_at     timestamptz,
  tags           text[] NOT NULL DEFAULT '{}',
  notes          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, owner_id),
  FOREIGN KEY (account_id, owner_id) REFERENCES accounts (id, owner_id) ON DELETE SET NULL (account_id)
);
CREATE UNIQUE INDEX cards_owner_code1_key ON cards (owner_id, code1_bidx);
CREATE INDEX cards_owner_code2_idx ON cards (owner_id, code2_bidx) WHERE code2_bidx IS NOT NULL;
CREATE INDEX cards_owner_status_idx ON cards (owner_id, status, id);
CREATE INDEX cards_owner_created_idx ON cards (owner_id, created_at, id);
CREATE INDEX cards_tags_idx ON cards USING gin (tags);
CREATE TRIGGER cards_touch BEFORE UPDATE ON cards FOR EACH ROW EXECUTE FUNCTION app_touch_updated_at();
SELECT app_enable_tenant_rls('cards');
SELECT app_deny_nodes('cards');
GRANT SELECT, INSERT, UPDATE, DELETE ON cards TO accountdb_app;

-- Agents have no business with users, sessions or personal tokens either.
SELECT app_deny_nodes('users');
SELECT app_deny_nodes('refresh_tokens');
SELECT app_deny_nodes('api_tokens');

-- The master key ids that wrapped the stored data keys, so the API can refuse to start
-- with a master key that does not match the database (before it writes anything).
CREATE FUNCTION secrets_master_kids() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$ SELECT DISTINCT d.master_kid FROM public.data_keys d $$;
REVOKE ALL ON FUNCTION secrets_master_kids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION secrets_master_kids() TO accountdb_app;

-- Admins read the audit log across owners, newest first.
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
