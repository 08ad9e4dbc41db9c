import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testDatabaseUrl, withDatabase } from '../global-setup.js';

/**
 * A database of the earlier AccountDB (FastAPI, public as Xenogy/SLLAB), for
 * `accountdb migrate-legacy` tests: its tables as its init scripts make them (Xenogy/SLLAB
 * inits/01-accounts_table.sql, 02-cards_table.sql, 02-hardware.sql, 03-users_table.sql,
 * 04-proxmox_nodes_table.sql, 04-user_ownership.sql, 05-vms_table.sql, 06-whitelist_table.sql
 * at commit a77370c; proxmox_nodes.api_key as its backend inserts it, backend/test_phase1.py),
 * always on real PostgreSQL, whatever AccountDB's own database is.
 */

/** PostgreSQL for the earlier database: the test database's server, else a local one. */
export function legacyServerUrl(): string {
  return (
    process.env.LEGACY_TEST_SOURCE_URL ??
    testDatabaseUrl() ??
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

/** Null (with the reason) when no PostgreSQL answers there. */
export async function legacyServerProblem(): Promise<string | null> {
  const client = new pg.Client({
    connectionString: legacyServerUrl(),
    connectionTimeoutMillis: 3000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return null;
  } catch (err) {
    return `no PostgreSQL for the earlier database at ${new URL(legacyServerUrl()).host} (${(err as Error).message}); set LEGACY_TEST_SOURCE_URL`;
  } finally {
    await client.end().catch(() => {});
  }
}

export const LEGACY_SCHEMA = `
CREATE TABLE public.users (
  id serial PRIMARY KEY,
  username text NOT NULL UNIQUE,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  full_name text,
  role text NOT NULL DEFAULT 'user',
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  last_login timestamp with time zone,
  avatar_url text,
  failed_login_attempts integer DEFAULT 0,
  lockout_time timestamp
);
CREATE TABLE public.accounts (
  id serial NOT NULL,
  acc_id text NOT NULL PRIMARY KEY,
  acc_username text NOT NULL,
  acc_password text NOT NULL,
  prime boolean NOT NULL DEFAULT false,
  lock boolean NOT NULL DEFAULT false,
  perm_lock boolean NOT NULL DEFAULT false,
  farmlabs_upload uuid,
  acc_email_address text,
  acc_email_password text,
  acc_vault_address text NOT NULL,
  acc_vault_password text NOT NULL,
  acc_created_at bigint NOT NULL,
  acc_session_start bigint NOT NULL,
  acc_steamguard_account_name text NOT NULL,
  acc_confirm_type integer NOT NULL,
  acc_device_id text NOT NULL,
  acc_identity_secret text NOT NULL,
  acc_revocation_code text NOT NULL,
  acc_secret_1 text NOT NULL,
  acc_serial_number text NOT NULL,
  acc_server_time bigint NOT NULL,
  acc_shared_secret text NOT NULL,
  acc_status integer NOT NULL,
  acc_token_gid text NOT NULL,
  acc_uri text NOT NULL,
  owner_id integer NOT NULL REFERENCES public.users (id)
);
CREATE TABLE public.cards (
  id serial PRIMARY KEY,
  code1 text NOT NULL,
  code2 text,
  redeemed boolean NOT NULL DEFAULT false,
  failed text DEFAULT ''::text,
  lock boolean NOT NULL DEFAULT false,
  perm_lock boolean NOT NULL DEFAULT false,
  owner_id integer NOT NULL REFERENCES public.users (id)
);
CREATE TABLE public.hardware (
  id serial PRIMARY KEY,
  acc_id text NOT NULL REFERENCES public.accounts (acc_id),
  bios_vendor text,
  bios_version varchar(50),
  disk_serial varchar(100),
  disk_model varchar(100),
  smbios_uuid uuid,
  mb_manufacturer text,
  mb_product text,
  mb_version varchar(50),
  mb_serial varchar(100),
  mac_address varchar(17),
  vmid integer,
  pcname varchar(100),
  machine_guid uuid,
  hwprofile_guid uuid,
  product_id varchar(32),
  device_id uuid,
  owner_id integer NOT NULL REFERENCES public.users (id)
);
CREATE TABLE public.proxmox_nodes (
  id serial PRIMARY KEY,
  name varchar(100) NOT NULL,
  hostname varchar(255) NOT NULL,
  port integer NOT NULL DEFAULT 8006,
  status varchar(20) DEFAULT 'disconnected',
  whitelist integer[] DEFAULT '{}',
  api_key text,
  last_seen timestamp with time zone,
  created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  owner_id integer NOT NULL REFERENCES public.users (id)
);
CREATE TABLE public.vms (
  id serial PRIMARY KEY,
  vmid integer NOT NULL,
  name varchar(100) NOT NULL,
  ip_address varchar(45),
  status varchar(20) DEFAULT 'stopped',
  cpu_cores integer DEFAULT 0,
  cpu_usage_percent numeric(5,1) DEFAULT 0,
  memory_mb integer DEFAULT 0,
  disk_gb integer DEFAULT 0,
  uptime_seconds bigint DEFAULT 0,
  proxmox_node_id integer REFERENCES public.proxmox_nodes (id),
  template_id integer DEFAULT 0,
  notes text DEFAULT '',
  created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  owner_id integer NOT NULL REFERENCES public.users (id)
);
CREATE TABLE public.whitelist (
  id serial PRIMARY KEY,
  vm_id integer NOT NULL REFERENCES public.vms (id),
  user_id integer NOT NULL REFERENCES public.users (id),
  created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (vm_id, user_id)
);
`;

/**
 * bcrypt hashes of 'correct horse battery staple' made independently of this code base, by
 * the C library's crypt(3) (libxcrypt 4.4, through perl -e 'print crypt($pw, $salt)'), in the
 * three spellings passlib and others write.
 */
export const LEGACY_PASSWORD = 'correct horse battery staple';
export const LEGACY_HASHES = {
  $2b: '$2b$05$LegacySaltForTests123uyI7I2XeMMVvFs.r0ZxCDrWJ.GM52Kya',
  $2y: '$2y$05$AnotherSaltForTests98uw2fI19dUGwF2pJyrmaR3ISR64EkTIoi',
  $2a: '$2a$05$ThirdSaltValueForTestelhlgOEycR019zNNypfnTKbVGBugvCHi',
} as const;

export interface LegacyDb {
  url: string;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** An empty earlier database (its tables, no rows) with a random name. */
export async function createLegacyDb(): Promise<LegacyDb> {
  const server = legacyServerUrl();
  const name = `legacy_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(server, name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  await pool.query(LEGACY_SCHEMA);
  return {
    url,
    query: async (text, params = []) => (await pool.query(text, params)).rows,
    drop: async () => {
      await pool.end();
      const a = new pg.Client({ connectionString: server });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

export interface LegacySeed {
  /** Earlier users by role in the scenario, with their random usernames. */
  alice: { id: number; username: string };
  bob: { id: number; username: string };
  carol: { id: number; username: string };
  plain: { id: number; username: string };
  badName: { id: number };
  taken: { id: number };
  /** The SteamID64 of alice's first account (hardware links it to VMID 100 on node n1). */
  firstAccId: string;
  /** Earlier rows per table (accounts, hardware, cards). */
  rows: { accounts: number; hardware: number; cards: number };
}

/**
 * A realistic earlier database with a few hundred rows of every kind and the awkward values
 * it holds: two owners with nodes and VMs, the same VMID on two nodes, 20-digit serials,
 * NULL e-mails of accounts, Unicode, '' failure messages, an inactive user, a username
 * AccountDB cannot take and one another AccountDB user already has.
 */
export async function seedLegacy(
  db: LegacyDb,
  options: { takenUsername: string },
): Promise<LegacySeed> {
  const tag = randomBytes(3).toString('hex');
  const user = async (username: string, email: string, hash: string, extra = '') =>
    (
      await db.query<{ id: number }>(
        `INSERT INTO users (username, email, password_hash, full_name, role, is_active)
         VALUES ($1, $2, $3, 'Zoë Ünïcødé', ${extra || "'user', true"}) RETURNING id`,
        [username, email, hash],
      )
    )[0]?.id as number;
  const alice = { username: `alice_${tag}`, id: 0 };
  alice.id = await user(
    alice.username,
    `Alice_${tag}@Example.com`,
    LEGACY_HASHES.$2y,
    "'admin', true",
  );
  const bob = { username: `bob_${tag}`, id: 0 };
  bob.id = await user(bob.username, '', LEGACY_HASHES.$2a); // no e-mail: '' (the column is NOT NULL)
  const carol = { username: `carol_${tag}`, id: 0 };
  carol.id = await user(
    carol.username,
    `carol_${tag}@example.com`,
    LEGACY_HASHES.$2b,
    "'user', false",
  );
  const plain = { username: `plain_${tag}`, id: 0 };
  plain.id = await user(plain.username, `plain_${tag}@example.com`, 'not-a-bcrypt-hash');
  const badName = {
    id: await user(`bad name ${tag}`, `bad_${tag}@example.com`, LEGACY_HASHES.$2b),
  };
  const taken = {
    id: await user(options.takenUsername, `other_${tag}@example.com`, LEGACY_HASHES.$2b),
  };

  const node = async (owner: number, name: string, whitelist: string) =>
    (
      await db.query<{ id: number }>(
        `INSERT INTO proxmox_nodes (name, hostname, port, status, whitelist, api_key, owner_id)
         VALUES ($1, $2, 8006, 'connected', $3, 'plain-text-key-${tag}', $4) RETURNING id`,
        [name, `${name}.lan`, whitelist, owner],
      )
    )[0]?.id as number;
  const n1 = await node(alice.id, 'pve-a1', '{101,102,102,0}');
  const n2 = await node(alice.id, 'pve-a2', '{}');
  const n3 = await node(bob.id, 'pve-b1', '{}');
  await node(badName.id, 'pve-orphan', '{}');

  // Alice: VMIDs 100-219 on n1, 200-319 on n2 (200-219 on both); bob: 100-159 on n3.
  const vms = async (owner: number, nodeId: number, from: number, to: number) =>
    db.query(
      `INSERT INTO vms (vmid, name, ip_address, status, cpu_cores, memory_mb, disk_gb, proxmox_node_id, notes, owner_id)
       SELECT v, 'vm-' || v || '-ß☃',
              CASE WHEN v % 10 = 0 THEN NULL WHEN v % 10 = 1 THEN 'fd00::' || v WHEN v % 10 = 2 THEN 'not-an-ip' ELSE '10.1.' || (v / 250) || '.' || (v % 250) END,
              (ARRAY['running', 'stopped', 'error'])[1 + v % 3], 2 + v % 4, 1024 * (1 + v % 8), 32 + v % 100, $1,
              CASE WHEN v % 2 = 0 THEN '' ELSE 'notiz für ' || v END, $2
       FROM generate_series($3::int, $4::int) v`,
      [nodeId, owner, from, to],
    );
  await vms(alice.id, n1, 100, 219);
  await vms(alice.id, n2, 200, 319);
  await vms(bob.id, n3, 100, 159);

  // Steam Guard secrets are 20-byte HMAC-SHA1 keys, written in base64 by Steam Desktop
  // Authenticator's .maFiles (Jessecar96/SteamDesktopAuthenticator) and accepted as base64,
  // hex or URL-safe base64 by DoctorMcKay/node-steam-totp: here each account's own 20 bytes
  // (from SHA-256, cut), base64 but for account 7 (hex, 40 characters) and account 13
  // (12 bytes: not a Steam secret, refused). Serial numbers are 64-bit and beyond (20 digits).
  const accounts = async (owner: number, from: number, to: number) =>
    db.query(
      `INSERT INTO accounts (acc_id, acc_username, acc_password, prime, lock, perm_lock, farmlabs_upload,
         acc_email_address, acc_email_password, acc_vault_address, acc_vault_password, acc_created_at,
         acc_session_start, acc_steamguard_account_name, acc_confirm_type, acc_device_id,
         acc_identity_secret, acc_revocation_code, acc_secret_1, acc_serial_number, acc_server_time,
         acc_shared_secret, acc_status, acc_token_gid, acc_uri, owner_id)
       SELECT (76561198000000000 + i)::text, 'spieler_' || i || '_ü', 'pw,"' || i || '";x', i % 5 = 0, i % 7 = 0, i % 11 = 0,
              CASE WHEN i % 3 = 0 THEN gen_random_uuid() END,
              CASE WHEN i % 4 = 0 THEN NULL ELSE 'mail' || i || '@example.com' END,
              CASE WHEN i % 4 = 0 THEN NULL ELSE 'mailpw' || i END,
              'vault' || i || '@example.com', 'vaultpw' || i, 1600000000 + i, 1700000000 + i,
              'spieler_' || i, 1, 'android:' || md5(i::text)::uuid,
              encode(substr(sha256(('identity' || i)::bytea), 1, 20), 'base64'),
              'R' || (10000 + i), encode(substr(sha256(('secret1' || i)::bytea), 1, 20), 'base64'),
              (18446744073709551000 + i)::text, 1700000000 + i,
              CASE WHEN i = 7 THEN encode(substr(sha256(('shared' || i)::bytea), 1, 20), 'hex')
                   WHEN i = 13 THEN 'bm90LWEtc2VjcmV0'
                   ELSE encode(substr(sha256(('shared' || i)::bytea), 1, 20), 'base64') END,
              1, to_hex(1000000000 + i), 'otpauth://totp/Steam:spieler_' || i || '?secret=ABC&issuer=Steam', $1
       FROM generate_series($2::int, $3::int) i`,
      [owner, from, to],
    );
  await accounts(alice.id, 1, 150);
  await accounts(bob.id, 1001, 1050);

  // Hardware: alice's accounts 1-90 on VMIDs 100-189 (one VM each, node n1); account 101 on
  // VMID 205 (on both of alice's nodes: ambiguous); account 104 on two nodes (VMID 195 on
  // n1, 254 on n2); a row naming bob's account; a row without a VMID. Bob's on his VMIDs.
  await db.query(
    `INSERT INTO hardware (acc_id, bios_vendor, bios_version, disk_serial, disk_model, smbios_uuid, mb_manufacturer,
       mb_product, mb_version, mb_serial, mac_address, vmid, pcname, machine_guid, hwprofile_guid, product_id,
       device_id, owner_id)
     SELECT (76561198000000000 + i)::text, 'SeaBIOS', CASE WHEN i % 2 = 0 THEN '' ELSE 'rel-1.16.' || i END,
            'QM000' || i, 'QEMU HARDDISK', gen_random_uuid(), 'QEMU', 'Standard PC (Q35 + ICH9, 2009)',
            'pc-q35-8.1', 'MB-' || i, 'bc:24:11:00:' || lpad(to_hex(i / 256), 2, '0') || ':' || lpad(to_hex(i % 256), 2, '0'),
            99 + i, 'DESKTOP-' || i || '-Ü', gen_random_uuid(), gen_random_uuid(),
            '00330-80000-00000-AA' || lpad(i::text, 3, '0'), gen_random_uuid(), $1
     FROM generate_series(1, 90) i`,
    [alice.id],
  );
  await db.query(
    `INSERT INTO hardware (acc_id, bios_vendor, vmid, pcname, mac_address, owner_id) VALUES
       ('76561198000000101', 'SeaBIOS', 205, 'AMBIGUOUS', NULL, $1),
       ('76561198000000104', 'SeaBIOS', 195, 'TWO-NODES-1', 'BC-24-11-AA-00-01', $1),
       ('76561198000000104', 'SeaBIOS', 254, 'TWO-NODES-2', 'bc2411aa0002', $1),
       ('76561198000001001', 'SeaBIOS', 256, 'BOBS-ACCOUNT', NULL, $1),
       ('76561198000000105', 'SeaBIOS', NULL, 'NO-VM', NULL, $1)`,
    [alice.id],
  );
  await db.query(
    `INSERT INTO hardware (acc_id, bios_vendor, vmid, pcname, owner_id)
     SELECT (76561198000000000 + i)::text, 'SeaBIOS', 100 + (i - 1001), 'BOB-' || i, $1
     FROM generate_series(1001, 1050) i`,
    [bob.id],
  );
  // Cards: '' (the default) and NULL failure messages, every flag combination, Unicode, a
  // code alice has twice, an empty code.
  await db.query(
    `INSERT INTO cards (code1, code2, redeemed, failed, lock, perm_lock, owner_id)
     SELECT 'CODE-' || i || '-ÄÖ', CASE WHEN i % 2 = 0 THEN 'PIN' || i END, i % 5 = 0,
            CASE WHEN i % 9 = 0 THEN 'declined: card ' || i || ' — «nope»' WHEN i % 17 = 0 THEN NULL ELSE '' END,
            i % 7 = 0, i % 13 = 0,
            CASE WHEN i <= 200 THEN $1::int ELSE $2::int END
     FROM generate_series(1, 300) i`,
    [alice.id, bob.id],
  );
  await db.query(
    `INSERT INTO cards (code1, code2, redeemed, failed, lock, perm_lock, owner_id) VALUES
       ('CODE-1-ÄÖ', NULL, false, '', false, false, $1),
       ('', NULL, false, '', false, false, $1)`,
    [alice.id],
  );
  await db.query(
    `INSERT INTO whitelist (vm_id, user_id) SELECT id, $1 FROM vms WHERE owner_id = $2 ORDER BY id LIMIT 5`,
    [bob.id, alice.id],
  );
  return {
    alice,
    bob,
    carol,
    plain,
    badName,
    taken,
    firstAccId: '76561198000000001',
    rows: { accounts: 200, hardware: 145, cards: 302 },
  };
}
