import { randomBytes } from 'node:crypto';
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
      expect(report.node_keys).toHaveLength(3);
      expect(formatReport(report)).toMatch(/^DRY RUN/);
      expect(await count('SELECT count(*)::int AS n FROM users')).toBe(1);
      expect(await count('SELECT count(*)::int AS n FROM legacy_ids')).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM vms')).toBe(0);
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
      expect(counts(report, 'whitelist')).toMatchObject({ read: 5, skipped: 5 });
      expect(report.tables.whitelist?.reasons[0]?.reason).toMatch(
        /sharing between users is not in AccountDB yet/,
      );
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
      expect((await api(bobToken, 'GET', '/vms?limit=1')).json().total).toBe(60);
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
        account_id: null,
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
      expect(notes).toMatch(
        /its hardware names account 76561198000000002, which is not in AccountDB/,
      );
      expect(report.tables.vms?.notes_total).toBeGreaterThan(report.tables.vms?.notes.length ?? 0);
      (globalThis as { aliceToken?: string }).aliceToken = aliceToken;
      (globalThis as { a1?: string }).a1 = a1?.api_key;
    });

    it('changes nothing on a second run and updates only an earlier row changed since', async () => {
      const again = await run();
      for (const table of ['users', 'nodes', 'vms'] as const) {
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
