import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataKeyStore } from '../src/crypto/data-keys.js';
import { masterKey } from '../src/crypto/envelope.js';
import { formatReport, type MigrationReport } from '../src/modules/legacy-migration/report.js';
import { MIGRATABLE, type Migratable, migrateLegacy } from '../src/modules/legacy-migration/run.js';
import { bearer, login, setupAdmin, type TestUser } from './helpers/factories.js';
import {
  createLegacyDb,
  LEGACY_PASSWORD,
  type LegacyDb,
  type LegacySeed,
  legacyServerProblem,
  seedLegacy,
} from './helpers/legacy-db.js';
import { ownerQuery } from './helpers/support.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * `accountdb migrate-legacy`: an earlier AccountDB database (real PostgreSQL, built from its
 * table definitions, see helpers/legacy-db.ts) moved into AccountDB (PostgreSQL or PGlite)
 * as each owner, idempotently, with bcrypt passwords that still log in.
 */
const noServer = await legacyServerProblem();

let t: TestApp;
let admin: TestUser;
let legacy: LegacyDb;
let seed: LegacySeed;

beforeAll(async () => {
  if (noServer) return;
  t = await createTestApp();
  admin = await setupAdmin(t.app);
  legacy = await createLegacyDb();
  seed = await seedLegacy(legacy, { takenUsername: admin.username });
  // The earlier whitelist (vm_id → vms, user_id → users: VMs shared with other users; the
  // shape is /work/shared/LEGACY.md's): the seed shares Alice's first five VMs with Bob; two
  // rows more that cannot come across: one with a user who is not migrated (an invalid
  // username), one with the VM's own owner.
  await legacy.query(
    `INSERT INTO whitelist (vm_id, user_id)
     SELECT id, $1 FROM vms WHERE owner_id = $2 ORDER BY id LIMIT 1`,
    [seed.badName.id, seed.alice.id],
  );
  await legacy.query(
    `INSERT INTO whitelist (vm_id, user_id)
     SELECT id, $1 FROM vms WHERE owner_id = $1 ORDER BY id DESC LIMIT 1`,
    [seed.alice.id],
  );
});
afterAll(async () => {
  await legacy?.drop();
  await t?.close();
});

function run(options: { dryRun?: boolean; only?: Migratable[] } = {}): Promise<MigrationReport> {
  return migrateLegacy({
    database: t.database,
    keys: new DataKeyStore(masterKey(t.config.secretKey)),
    sourceUrl: legacy.url,
    dryRun: options.dryRun ?? false,
    only: new Set(options.only ?? MIGRATABLE),
    admin: admin.username,
    publicUrl: new URL('https://accountdb.example'),
  });
}

const counts = (r: MigrationReport, table: keyof MigrationReport['tables']) => {
  const x = r.tables[table];
  return (
    x && {
      read: x.read,
      created: x.created,
      updated: x.updated,
      unchanged: x.unchanged,
      skipped: x.skipped,
    }
  );
};

const report0 = () => (globalThis as { report0?: MigrationReport }).report0 as MigrationReport;

const count = async (sql: string, params: unknown[] = []) =>
  (await ownerQuery<{ n: number }>(t.database, sql, params))[0]?.n;

const api = (token: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: bearer(token),
    ...(payload ? { payload } : {}),
  });

async function accountDbUser(username: string) {
  const [u] = await ownerQuery<{
    id: string;
    email: string;
    role: string;
    is_active: boolean;
    password_hash: string;
  }>(
    t.database,
    'SELECT id, email, role, is_active, password_hash FROM users WHERE username = $1',
    [username],
  );
  return u;
}

describe.skipIf(noServer !== null)(
  `migrate-legacy${noServer ? ` (skipped: ${noServer})` : ''}`,
  () => {
    it('does everything in a dry run and leaves nothing behind', async () => {
      const report = await run({ dryRun: true });
      expect(report.dry_run).toBe(true);
      expect(counts(report, 'users')).toMatchObject({ read: 6, created: 4, skipped: 2 });
      expect(counts(report, 'nodes')).toMatchObject({ read: 4, created: 3, skipped: 1 });
      expect(counts(report, 'vms')).toMatchObject({ read: 300, created: 300 });
      expect(counts(report, 'accounts')).toMatchObject({ read: 200, created: 199, skipped: 1 });
      expect(counts(report, 'hardware')).toMatchObject({ read: 145, created: 145 });
      expect(counts(report, 'cards')).toMatchObject({ read: 302, created: 300, skipped: 2 });
      expect(report.node_keys).toHaveLength(3);
      expect(formatReport(report)).toMatch(/^DRY RUN/);
      expect(await count('SELECT count(*)::int AS n FROM users')).toBe(1);
      expect(await count('SELECT count(*)::int AS n FROM legacy_ids')).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM vms')).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM accounts')).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM cards')).toBe(0);
      expect(counts(report, 'whitelist')).toMatchObject({ read: 7, created: 5, skipped: 2 });
      expect(await count('SELECT count(*)::int AS n FROM grants')).toBe(0);
    });

    it('brings users over with their bcrypt hashes, roles, deactivation and a placeholder e-mail', async () => {
      const report = await run({ only: ['users'] });
      expect(counts(report, 'users')).toEqual({
        read: 6,
        created: 4,
        updated: 0,
        unchanged: 0,
        skipped: 2,
      });
      const reasons = report.tables.users?.reasons.map((r) => r.reason).join('\n');
      expect(reasons).toMatch(/is not an AccountDB username/);
      expect(reasons).toMatch(new RegExp(`username ${admin.username} is already taken`));
      const alice = await accountDbUser(seed.alice.username);
      expect(alice).toMatchObject({
        role: 'admin',
        is_active: true,
        password_hash: expect.stringMatching(/^\$2y\$05\$/),
      });
      expect(await accountDbUser(seed.bob.username)).toMatchObject({
        email: `${seed.bob.username}@legacy.invalid`,
        role: 'user',
      });
      expect(await accountDbUser(seed.carol.username)).toMatchObject({ is_active: false });
      expect((await accountDbUser(seed.plain.username))?.password_hash).toMatch(/^\$argon2id\$/);
      const notes = report.tables.users?.notes.map((n) => n.note).join('\n');
      expect(notes).toMatch(/no e-mail: given/);
      expect(notes).toMatch(/password hash is not bcrypt/);
    });

    it('logs a migrated user in with the earlier password once by bcrypt, then by argon2id', async () => {
      const wrong = await login(t.app, {
        username: seed.bob.username,
        password: 'wrong password here',
      });
      expect(wrong.statusCode).toBe(401);
      expect((await accountDbUser(seed.bob.username))?.password_hash).toMatch(/^\$2a\$/);
      const first = await login(t.app, { username: seed.bob.username, password: LEGACY_PASSWORD });
      expect(first.statusCode, first.body).toBe(200);
      const hash = (await accountDbUser(seed.bob.username))?.password_hash;
      expect(hash).toMatch(/^\$argon2id\$/);
      const again = await login(t.app, { username: seed.bob.username, password: LEGACY_PASSWORD });
      expect(again.statusCode, again.body).toBe(200);
      expect((await accountDbUser(seed.bob.username))?.password_hash).toBe(hash);
      const [entry] = await ownerQuery<{ details: Record<string, unknown> }>(
        t.database,
        `SELECT details FROM audit_log WHERE action = 'auth.login' AND actor_name = $1 ORDER BY at LIMIT 1`,
        [seed.bob.username],
      );
      expect(entry?.details).toMatchObject({ password_rehashed: 'bcrypt → argon2id' });
      // An inactive user's bcrypt hash is not replaced: the login fails before.
      const carol = await login(t.app, {
        username: seed.carol.username,
        password: LEGACY_PASSWORD,
      });
      expect(carol.statusCode).toBe(401);
      expect((await accountDbUser(seed.carol.username))?.password_hash).toMatch(/^\$2b\$/);
    });

    it('moves nodes with fresh keys and VMs on them as their owners, linked to accounts by hardware', async () => {
      const aliceLogin = await login(t.app, {
        username: seed.alice.username,
        password: LEGACY_PASSWORD,
      });
      expect(aliceLogin.statusCode, aliceLogin.body).toBe(200);
      const aliceToken = aliceLogin.json().access_token as string;
      const account = await api(aliceToken, 'POST', '/accounts', {
        username: 'spieler_1_ü',
        external_id: seed.firstAccId,
      });
      expect(account.statusCode, account.body).toBe(201);

      const report = await run();
      (globalThis as { report0?: MigrationReport }).report0 = report;
      expect(counts(report, 'users')).toMatchObject({
        created: 0,
        updated: 0,
        unchanged: 4,
        skipped: 2,
      });
      expect(counts(report, 'nodes')).toEqual({
        read: 4,
        created: 3,
        updated: 0,
        unchanged: 0,
        skipped: 1,
      });
      expect(counts(report, 'vms')).toEqual({
        read: 300,
        created: 300,
        updated: 0,
        unchanged: 0,
        skipped: 0,
      });
      // The account alice made by hand with the SteamID of her first one is taken, not doubled.
      expect(counts(report, 'accounts')).toEqual({
        read: 200,
        created: 198,
        updated: 1,
        unchanged: 0,
        skipped: 1,
      });
      expect(counts(report, 'hardware')).toEqual({
        read: 145,
        created: 145,
        updated: 0,
        unchanged: 0,
        skipped: 0,
      });
      expect(counts(report, 'cards')).toEqual({
        read: 302,
        created: 300,
        updated: 0,
        unchanged: 0,
        skipped: 2,
      });
      // The whitelist: VM grants (read) from Alice to Bob; the two rows that cannot come
      // across are skipped with their reasons.
      expect(counts(report, 'whitelist')).toEqual({
        read: 7,
        created: 5,
        updated: 0,
        unchanged: 0,
        skipped: 2,
      });
      const whitelistReasons = report.tables.whitelist?.reasons.map((r) => r.reason).join('\n');
      expect(whitelistReasons).toMatch(
        new RegExp(
          `the user it shares the VM with \\(earlier user ${seed.badName.id}\\) was not migrated`,
        ),
      );
      expect(whitelistReasons).toMatch(/shares the VM with its own owner/);
      expect(report.tables.nodes?.reasons[0]?.reason).toMatch(/owner .* was not migrated/);

      // Fresh keys, none the earlier plain-text one; each works for its own node only.
      expect(report.node_keys.map((k) => k.node).sort()).toEqual(['pve-a1', 'pve-a2', 'pve-b1']);
      const a1 = report.node_keys.find((k) => k.node === 'pve-a1');
      expect(a1?.api_key).toMatch(/^adb_node_/);
      expect(a1?.agent_config).toContain('ACCOUNTDB_URL=https://accountdb.example');
      expect(JSON.stringify(report)).not.toContain('plain-text-key');
      const config = await t.app.inject({
        method: 'GET',
        url: '/api/v1/agent/config',
        headers: bearer(a1?.api_key ?? ''),
      });
      expect(config.statusCode, config.body).toBe(200);
      expect(config.json()).toMatchObject({
        name: 'pve-a1',
        sync_mode: 'whitelist',
        whitelist: [101, 102],
      });

      // Two owners: each VM belongs to its node's owner, and a user sees only their own.
      const aliceUser = await accountDbUser(seed.alice.username);
      const bobUser = await accountDbUser(seed.bob.username);
      expect(
        await count('SELECT count(*)::int AS n FROM vms WHERE owner_id = $1', [aliceUser?.id]),
      ).toBe(240);
      expect(
        await count('SELECT count(*)::int AS n FROM vms WHERE owner_id = $1', [bobUser?.id]),
      ).toBe(60);
      expect(
        await count(
          'SELECT count(*)::int AS n FROM vms v JOIN proxmox_nodes n ON n.id = v.node_id WHERE v.owner_id <> n.owner_id',
        ),
      ).toBe(0);
      // Bob (a plain user; alice was an admin there and is one here) sees his own VMs only.
      const bobLogin = await login(t.app, {
        username: seed.bob.username,
        password: LEGACY_PASSWORD,
      });
      const bobToken = bobLogin.json().access_token as string;
      expect(
        (await api(bobToken, 'GET', '/vms?limit=1&count=true&shared=exclude')).json().total,
      ).toBe(60);
      // …and the five VMs Alice shared with him on the earlier whitelist, read-only.
      const shared = (await api(bobToken, 'GET', '/vms?shared=only&limit=500')).json().items;
      expect(shared).toHaveLength(5);
      expect(
        shared.every(
          (v: { owner_id: string; shared_by?: { username: string }; permission?: string }) =>
            v.owner_id === aliceUser?.id &&
            v.shared_by?.username === seed.alice.username &&
            v.permission === 'read',
        ),
      ).toBe(true);
      (globalThis as { bobToken?: string }).bobToken = bobToken;

      // VMs: fields as the earlier row had them, manual until the agent reports them.
      const vmsOn = async (nodeId: string | undefined, vmid: number) =>
        (await api(aliceToken, 'GET', `/vms?node_id=${nodeId}&vmid=${vmid}`)).json().items[0];
      expect(await vmsOn(a1?.node_id, 101)).toMatchObject({
        vmid: 101,
        type: 'qemu',
        name: 'vm-101-ß☃',
        status: 'unknown', // the earlier 'error'
        cpu_cores: 3,
        memory_mb: 6144,
        disk_gb: 33,
        ip_addresses: ['fd00::101'],
        notes: 'notiz für 101',
        source: 'manual',
        // Its hardware names account 2, migrated in the same run (accounts come first).
        account_id: (
          await ownerQuery<{ id: string }>(
            t.database,
            'SELECT id FROM accounts WHERE owner_id = $1 AND external_id = $2',
            [aliceUser?.id, '76561198000000002'],
          )
        )[0]?.id,
      });
      expect(await vmsOn(a1?.node_id, 100)).toMatchObject({
        account_id: account.json().id,
        ip_addresses: [],
        notes: null,
      });
      // VMID 205 is on both of alice's nodes and hardware names no node: no link on either.
      expect(
        await count(
          `SELECT count(*)::int AS n FROM vms WHERE vmid = 205 AND owner_id = $1 AND account_id IS NULL`,
          [aliceUser?.id],
        ),
      ).toBe(2);
      const notes = report.tables.vms?.notes.map((n) => n.note).join('\n');
      expect(notes).toMatch(/ip_address "not-an-ip" is not an IP address/);
      // Accounts come before VMs: on this first run every VM its hardware names is linked,
      // but for the one whose hardware names bob's account (VMID 256), the one of account 13
      // (refused: its shared_secret) and VMID 205 (on both nodes).
      expect(
        await count(
          'SELECT count(*)::int AS n FROM vms WHERE owner_id = $1 AND account_id IS NOT NULL',
          [aliceUser?.id],
        ),
      ).toBe(91);
      expect(
        await count(
          'SELECT count(*)::int AS n FROM vms WHERE owner_id = $1 AND vmid IN (112, 256) AND account_id IS NULL',
          [aliceUser?.id],
        ),
      ).toBe(2);
      expect(report.tables.vms?.notes_total).toBeGreaterThan(report.tables.vms?.notes.length ?? 0);
      (globalThis as { aliceToken?: string }).aliceToken = aliceToken;
      (globalThis as { a1?: string }).a1 = a1?.api_key;
    });

    it('keeps every field of accounts, secrets, hardware and cards as the earlier rows had them', async () => {
      const token = (globalThis as { aliceToken?: string }).aliceToken ?? '';
      const aliceUser = await accountDbUser(seed.alice.username);
      const source = async (table: string, where: string, params: unknown[]) =>
        (
          await legacy.query<Record<string, unknown>>(
            `SELECT * FROM ${table} WHERE ${where}`,
            params,
          )
        )[0] ?? {};
      const migrated = async (table: string, legacyId: unknown) =>
        (
          await ownerQuery<{ id: string }>(
            t.database,
            `SELECT coalesce(account_id, hardware_id, card_id)::text AS id FROM legacy_ids
              WHERE owner_id = $1 AND source_table = $2 AND legacy_id = $3`,
            [aliceUser?.id, table, String(legacyId)],
          )
        )[0]?.id;
      const secret = (label: string, i: number, encoding: 'base64' | 'hex' = 'base64') =>
        createHash('sha256').update(`${label}${i}`).digest().subarray(0, 20).toString(encoding);
      const md5uuid = (i: number) =>
        createHash('md5')
          .update(String(i))
          .digest('hex')
          .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

      // Accounts: the flags as status and tags (docs/migrating.md), NULL e-mail, Unicode,
      // the 20-digit serial, a hex shared_secret stored as the same 20 bytes in base64.
      const expected: Record<number, { status: string; reason: string | null; tags: string[] }> = {
        7: { status: 'locked', reason: 'lock in the earlier AccountDB', tags: [] },
        35: { status: 'locked', reason: 'lock in the earlier AccountDB', tags: ['prime'] },
        44: { status: 'disabled', reason: 'perm_lock in the earlier AccountDB', tags: [] },
        77: { status: 'disabled', reason: 'perm_lock in the earlier AccountDB', tags: ['lock'] },
        97: { status: 'active', reason: null, tags: [] },
        33: { status: 'disabled', reason: 'perm_lock in the earlier AccountDB', tags: [] },
        110: { status: 'disabled', reason: 'perm_lock in the earlier AccountDB', tags: ['prime'] },
      };
      for (const [key, want] of Object.entries(expected)) {
        const i = Number(key);
        const row = await source('accounts', 'acc_id = $1', [
          String(76561198000000000n + BigInt(i)),
        ]);
        const id = await migrated('accounts', row.id);
        expect(id, `account ${i}`).toBeDefined();
        const got = await api(token, 'GET', `/accounts/${id}`);
        expect(got.statusCode, got.body).toBe(200);
        expect(got.json()).toMatchObject({
          external_id: String(76561198000000000n + BigInt(i)),
          service: 'steam',
          username: `spieler_${i}_ü`,
          email: i % 4 === 0 ? null : `mail${i}@example.com`,
          status: want.status,
          locked_until: null,
          status_reason: want.reason,
          tags: want.tags,
          attributes: {
            legacy_id: row.id,
            vault_address: `vault${i}@example.com`,
            session_start: 1700000000 + i,
            ...(row.farmlabs_upload ? { farmlabs_upload: row.farmlabs_upload } : {}),
          },
          created_at: new Date((1600000000 + i) * 1000).toISOString(),
        });
        expect(Object.keys(got.json().attributes).sort()).toEqual(
          [
            'legacy_id',
            'session_start',
            'vault_address',
            ...(i % 3 === 0 ? ['farmlabs_upload'] : []),
          ].sort(),
        );
        const secrets = await api(token, 'GET', `/accounts/${id}/secrets`);
        expect(secrets.statusCode, secrets.body).toBe(200);
        expect(secrets.json()).toEqual({
          password: `pw,"${i}";x`,
          email_password: i % 4 === 0 ? null : `mailpw${i}`,
          vault_password: `vaultpw${i}`,
          totp_secret: null,
          shared_secret: secret('shared', i),
          identity_secret: secret('identity', i),
          revocation_code: `R${10000 + i}`,
          steam_guard: {
            account_name: `spieler_${i}`,
            confirm_type: 1,
            device_id: `android:${md5uuid(i)}`,
            secret_1: secret('secret1', i),
            serial_number: (18446744073709551000n + BigInt(i)).toString(),
            server_time: 1700000000 + i,
            status: 1,
            token_gid: (1000000000 + i).toString(16),
            uri: `otpauth://totp/Steam:spieler_${i}?secret=ABC&issuer=Steam`,
          },
        });
      }
      // The reason names the earlier column, as the file imports do.
      expect(report0().tables.accounts?.reasons).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/^acc_shared_secret /) }),
      ]);

      // Hardware: every column, MAC and UUIDs normalised, '' as no value, links resolved.
      const vmOf = async (node: string, vmid: number) =>
        (
          await ownerQuery<{ id: string; account_id: string | null }>(
            t.database,
            `SELECT v.id, v.account_id FROM vms v JOIN proxmox_nodes n ON n.id = v.node_id WHERE n.name = $1 AND v.vmid = $2`,
            [node, vmid],
          )
        )[0];
      const accountOf = async (i: number) =>
        migrated(
          'accounts',
          (await source('accounts', 'acc_id = $1', [String(76561198000000000n + BigInt(i))])).id,
        );
      for (const i of [1, 2]) {
        const row = await source('hardware', 'pcname = $1', [`DESKTOP-${i}-Ü`]);
        const got = await api(token, 'GET', `/hardware/${await migrated('hardware', row.id)}`);
        expect(got.statusCode, got.body).toBe(200);
        expect(got.json()).toMatchObject({
          external_id: String(row.id),
          account_id: await accountOf(i),
          vm_id: (await vmOf('pve-a1', 99 + i))?.id,
          bios_vendor: 'SeaBIOS',
          bios_version: i % 2 === 0 ? null : `rel-1.16.${i}`,
          disk_serial: `QM000${i}`,
          disk_model: 'QEMU HARDDISK',
          smbios_uuid: row.smbios_uuid,
          mb_manufacturer: 'QEMU',
          mb_product: 'Standard PC (Q35 + ICH9, 2009)',
          mb_version: 'pc-q35-8.1',
          mb_serial: `MB-${i}`,
          mac_address: `BC:24:11:00:00:0${i}`,
          pcname: `DESKTOP-${i}-Ü`,
          machine_guid: row.machine_guid,
          hwprofile_guid: row.hwprofile_guid,
          product_id: `00330-80000-00000-AA00${i}`,
          device_id: row.device_id,
          tags: [],
          notes: null,
        });
      }
      // An account with hardware and VMs on two nodes: both records and both VMs linked to it.
      const acc104 = await accountOf(104);
      for (const [pc, node, vmid, mac] of [
        ['TWO-NODES-1', 'pve-a1', 195, 'BC:24:11:AA:00:01'],
        ['TWO-NODES-2', 'pve-a2', 254, 'BC:24:11:AA:00:02'],
      ] as const) {
        const row = await source('hardware', 'pcname = $1', [pc]);
        const vm = await vmOf(node, vmid);
        expect(vm?.account_id).toBe(acc104);
        const got = (
          await api(token, 'GET', `/hardware/${await migrated('hardware', row.id)}`)
        ).json();
        expect(got).toMatchObject({ account_id: acc104, vm_id: vm?.id, mac_address: mac });
      }
      // Never guessed: VMID 205 on both nodes, and bob's account in alice's hardware.
      for (const [pc, field, text] of [
        ['AMBIGUOUS', 'vm_id', /vmid 205 is on 2 of this owner's earlier VMs/],
        ['BOBS-ACCOUNT', 'account_id', /acc_id 76561198000001001: none of this owner's accounts/],
      ] as const) {
        const row = await source('hardware', 'pcname = $1', [pc]);
        const got = (
          await api(token, 'GET', `/hardware/${await migrated('hardware', row.id)}`)
        ).json();
        expect(got[field], pc).toBeNull();
        expect(report0().tables.hardware?.notes).toContainEqual({
          id: String(row.id),
          note: expect.stringMatching(text),
        });
      }

      // Cards: status precedence and flag tags, failure messages exactly, '' and NULL as none.
      const cardsWanted: Record<number, object> = {
        45: { status: 'redeemed', failure_reason: 'declined: card 45 — «nope»', tags: [] },
        63: { status: 'failed', failure_reason: 'declined: card 63 — «nope»', tags: ['lock'] },
        91: { status: 'disabled', failure_reason: null, tags: ['lock', 'perm_lock'] },
        26: { status: 'disabled', failure_reason: null, tags: [] },
        14: { status: 'disabled', failure_reason: null, tags: ['lock'] },
        17: { status: 'available', failure_reason: null, tags: [] },
        35: { status: 'redeemed', failure_reason: null, tags: ['lock'] },
      };
      for (const [key, want] of Object.entries(cardsWanted)) {
        const i = Number(key);
        const row = await source('cards', 'code1 = $1 ORDER BY id LIMIT 1', [`CODE-${i}-ÄÖ`]);
        const got = await api(token, 'GET', `/cards/${await migrated('cards', row.id)}`);
        expect(got.statusCode, got.body).toBe(200);
        expect(got.json(), `card ${i}`).toMatchObject({
          code1: `CODE-${i}-ÄÖ`,
          code2: i % 2 === 0 ? `PIN${i}` : null,
          ...want,
        });
      }
      const cardReasons = report0()
        .tables.cards?.reasons.map((r) => r.reason)
        .join('\n');
      expect(cardReasons).toMatch(/code1 is empty/);
      expect(cardReasons).toMatch(/code1 is the same as earlier cards row \d+'s/);
    });

    it('changes nothing on a second run and updates only an earlier row changed since', async () => {
      const again = await run();
      expect(counts(again, 'whitelist')).toMatchObject({ created: 0, unchanged: 5, skipped: 2 });
      for (const table of ['users', 'nodes', 'accounts', 'vms', 'hardware', 'cards'] as const) {
        expect({
          table,
          created: again.tables[table]?.created,
          updated: again.tables[table]?.updated,
        }).toEqual({
          table,
          created: 0,
          updated: 0,
        });
      }
      expect(again.node_keys).toEqual([]);
      expect(again.nodes_existing).toBe(3);
      expect(formatReport(again)).toMatch(/3 node\(s\) were migrated by an earlier run/);

      await legacy.query(`UPDATE vms SET name = 'renamed' WHERE vmid = 150 AND owner_id = $1`, [
        seed.alice.id,
      ]);
      const third = await run({ only: ['vms'] });
      expect(counts(third, 'vms')).toEqual({
        read: 300,
        created: 0,
        updated: 1,
        unchanged: 299,
        skipped: 0,
      });
      expect(await count(`SELECT count(*)::int AS n FROM vms WHERE name = 'renamed'`)).toBe(1);
    });

    it('updates an account, a card and a hardware record whose earlier rows changed, nothing else', async () => {
      const token = (globalThis as { aliceToken?: string }).aliceToken ?? '';
      await legacy.query(
        `UPDATE accounts SET acc_email_address = NULL, acc_email_password = NULL, lock = true WHERE acc_id = '76561198000000097'`,
      );
      await legacy.query(`UPDATE cards SET redeemed = true WHERE code1 = 'CODE-14-ÄÖ'`);
      await legacy.query(`UPDATE hardware SET pcname = 'RENAMED-Ω' WHERE pcname = 'DESKTOP-3-Ü'`);
      const report = await run({ only: ['accounts', 'hardware', 'cards'] });
      expect(counts(report, 'accounts')).toEqual({
        read: 200,
        created: 0,
        updated: 1,
        unchanged: 198,
        skipped: 1,
      });
      expect(counts(report, 'hardware')).toEqual({
        read: 145,
        created: 0,
        updated: 1,
        unchanged: 144,
        skipped: 0,
      });
      expect(counts(report, 'cards')).toEqual({
        read: 302,
        created: 0,
        updated: 1,
        unchanged: 299,
        skipped: 2,
      });
      const one = async (sql: string, params: unknown[]) =>
        (await ownerQuery<{ id: string }>(t.database, sql, params))[0]?.id;
      const account = await one('SELECT id FROM accounts WHERE external_id = $1', [
        '76561198000000097',
      ]);
      expect((await api(token, 'GET', `/accounts/${account}`)).json()).toMatchObject({
        email: null,
        status: 'locked',
        status_reason: 'lock in the earlier AccountDB',
      });
      expect((await api(token, 'GET', `/accounts/${account}/secrets`)).json()).toMatchObject({
        email_password: null,
        password: 'pw,"97";x',
      });
      const hw = await one(`SELECT id FROM hardware WHERE pcname = 'RENAMED-Ω'`, []);
      expect((await api(token, 'GET', `/hardware/${hw}`)).json()).toMatchObject({
        pcname: 'RENAMED-Ω',
        account_id: expect.any(String),
        vm_id: expect.any(String),
      });
      const [card] = await ownerQuery<{ card_id: string }>(
        t.database,
        `SELECT l.card_id FROM legacy_ids l WHERE l.source_table = 'cards' AND l.legacy_id = $1`,
        [
          String(
            (
              await legacy.query<{ id: number }>(`SELECT id FROM cards WHERE code1 = 'CODE-14-ÄÖ'`)
            )[0]?.id,
          ),
        ],
      );
      expect((await api(token, 'GET', `/cards/${card?.card_id}`)).json()).toMatchObject({
        status: 'redeemed',
        tags: ['lock'],
      });
    });

    it("never demotes AccountDB's last active admin when the earlier database changed that user", async () => {
      const alice = await accountDbUser(seed.alice.username);
      const me = await accountDbUser(admin.username);
      // alice is the only active admin left; the earlier database makes her a plain user.
      await ownerQuery(t.database, 'UPDATE users SET is_active = false WHERE id = $1', [me?.id]);
      await legacy.query(`UPDATE users SET role = 'user' WHERE id = $1`, [seed.alice.id]);
      try {
        const report = await migrateLegacy({
          database: t.database,
          keys: new DataKeyStore(masterKey(t.config.secretKey)),
          sourceUrl: legacy.url,
          dryRun: false,
          only: new Set(['users']),
          admin: seed.alice.username,
          publicUrl: new URL('https://accountdb.example'),
        });
        expect(counts(report, 'users')).toMatchObject({ updated: 0, skipped: 3 });
        expect(report.tables.users?.reasons).toContainEqual({
          id: String(seed.alice.id),
          reason: expect.stringMatching(/last active admin: not changed/),
        });
        expect(await accountDbUser(seed.alice.username)).toMatchObject({
          role: 'admin',
          is_active: true,
        });
        // With another active admin the same change is carried over.
        await ownerQuery(t.database, 'UPDATE users SET is_active = true WHERE id = $1', [me?.id]);
        const again = await run({ only: ['users'] });
        expect(counts(again, 'users')).toMatchObject({ updated: 1, skipped: 2 });
        expect((await accountDbUser(seed.alice.username))?.role).toBe('user');
      } finally {
        await ownerQuery(t.database, 'UPDATE users SET is_active = true, role = $2 WHERE id = $1', [
          alice?.id,
          'admin',
        ]);
        await ownerQuery(t.database, 'UPDATE users SET is_active = true WHERE id = $1', [me?.id]);
        await legacy.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [seed.alice.id]);
      }
    });

    it("lets the node's agent take its migrated VMs over, matched by node and VMID", async () => {
      const key = (globalThis as { a1?: string }).a1 ?? '';
      const sync = await t.app.inject({
        method: 'POST',
        url: '/api/v1/agent/sync',
        headers: bearer(key),
        payload: {
          cycle_id: `cycle-${randomBytes(4).toString('hex')}`,
          observed_at: new Date().toISOString(),
          agent_version: '0.1.0',
          complete: true,
          vms: [{ vmid: 101, type: 'qemu', name: 'vm-101-ß☃', status: 'running' }],
        },
      });
      expect(sync.statusCode, sync.body).toBe(200);
      expect(sync.json()).toMatchObject({ created: 0, updated: 1 });
      const [vm] = await ownerQuery<{ source: string; status: string; notes: string; n: number }>(
        t.database,
        `SELECT v.source, v.status, v.notes, (SELECT count(*)::int FROM vms w WHERE w.node_id = v.node_id AND w.vmid = 101) AS n
       FROM vms v JOIN proxmox_nodes p ON p.id = v.node_id WHERE p.name = 'pve-a1' AND v.vmid = 101`,
      );
      expect(vm).toEqual({ source: 'agent', status: 'running', notes: 'notiz für 101', n: 1 });
    });

    it("keeps each owner's mappings to themselves", async () => {
      const token = (globalThis as { bobToken?: string }).bobToken ?? '';
      const aliceVms = await ownerQuery<{ id: string }>(
        t.database,
        'SELECT v.id FROM vms v JOIN users u ON u.id = v.owner_id WHERE u.username = $1 LIMIT 1',
        [seed.alice.username],
      );
      expect((await api(token, 'GET', `/vms/${aliceVms[0]?.id}`)).statusCode).toBe(404);
      const { withTenant } = await import('../src/db/tenant.js');
      const { legacyIds } = await import('../src/db/schema.js');
      const alice = await accountDbUser(seed.alice.username);
      const seen = await withTenant(
        t.database,
        {
          kind: 'user',
          userId: alice?.id ?? '',
          username: '',
          role: 'user',
          via: 'session',
          scopes: ['read'],
        },
        (tx) => tx.select({ ownerId: legacyIds.ownerId }).from(legacyIds),
      );
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen.map((r) => r.ownerId))).toEqual(new Set([alice?.id]));
    });
  },
);
