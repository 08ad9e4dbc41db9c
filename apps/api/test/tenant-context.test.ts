import { createHmac, randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { signContext } from '../src/db/tenant-context.js';
import { testDatabaseUrl } from './global-setup.js';
import { randomName } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import { type TwoUsers, twoUsers } from './helpers/two-users.js';

/**
 * Defence in depth for the tenant door (migration 0007). The attacker here is a statement
 * that runs inside a request's own transaction (an injection, or a bug in our code): it can
 * write any setting and run any SQL the request role may. It must still see only what the
 * request's actor may see, or nothing.
 */
let s: TwoUsers;
let alice: Actor;
let bob: Actor;
let admin: Actor;
let bobNodeId: string;
let aliceAccount: string;
let bobAccount: string;

const userActor = (u: { id: string; username: string }, role: 'admin' | 'user'): Actor => ({
  kind: 'user',
  userId: u.id,
  username: u.username,
  role,
  via: 'session',
  scopes: ['read', 'write'],
});

/** Runs the statements in one request transaction of `actor`; returns the last one's rows. */
function inTenant<T = Record<string, unknown>>(actor: Actor, ...statements: SQL[]): Promise<T[]> {
  return withTenant(s.t.database, actor, async (tx) => {
    let rows: T[] = [];
    for (const statement of statements) rows = rowsOf<T>(await tx.execute(statement));
    return rows;
  });
}

/** The Postgres error code fn fails with, or null. */
async function pgCode(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.cause?.code ?? e.code ?? 'unknown';
  }
}

/** Owners of every row of every tenant table the statement's context can see. */
const VISIBLE = sql`
  SELECT 'accounts' AS t, owner_id FROM accounts
  UNION ALL SELECT 'vms', owner_id FROM vms
  UNION ALL SELECT 'proxmox_nodes', owner_id FROM proxmox_nodes
  UNION ALL SELECT 'audit_log', owner_id FROM audit_log
  UNION ALL SELECT 'users', id FROM users
  UNION ALL SELECT 'refresh_tokens', owner_id FROM refresh_tokens`;

const idOf = (actor: Actor) => (actor.kind === 'user' ? actor.userId : '');

async function contextKey(): Promise<Buffer> {
  const [row] = await ownerQuery<{ key: Uint8Array }>(
    s.t.database,
    'SELECT key FROM app_context_keys WHERE id = 1',
  );
  return Buffer.from(row?.key ?? []);
}

beforeAll(async () => {
  s = await twoUsers();
  alice = userActor(s.alice, 'user');
  bob = userActor(s.bob, 'user');
  admin = userActor(s.admin, 'admin');
  const accountOf = async (user: typeof s.alice) => {
    const res = await s.call(user, 'POST', '/accounts', { username: randomName('acc') });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  aliceAccount = await accountOf(s.alice);
  bobAccount = await accountOf(s.bob);
  const node = await s.call(s.bob, 'POST', '/proxmox-nodes', { name: randomName('pve') });
  expect(node.statusCode, node.body).toBe(201);
  bobNodeId = node.json().id;
  const vm = await s.call(s.bob, 'POST', '/vms', { node_id: bobNodeId, vmid: 101, name: 'bob-vm' });
  expect(vm.statusCode, vm.body).toBe(201);
});

afterAll(async () => {
  await s?.t.close();
});

describe('a request transaction that writes its own context', () => {
  it('sees its own rows as before (the sanity check the attacks below are measured against)', async () => {
    const rows = await inTenant<{ t: string; owner_id: string }>(alice, VISIBLE);
    expect(new Set(rows.map((r) => r.owner_id))).toEqual(new Set([idOf(alice)]));
    expect(rows.some((r) => r.t === 'accounts')).toBe(true);
    const all = await inTenant<{ owner_id: string }>(admin, VISIBLE);
    expect(all.map((r) => r.owner_id)).toEqual(expect.arrayContaining([idOf(alice), idOf(bob)]));
  });

  it("gains nothing by setting the old raw settings, even to the admin's id and role", async () => {
    const rows = await inTenant<{ owner_id: string }>(
      alice,
      sql`SELECT set_config('app.user_id', ${idOf(admin)}, true), set_config('app.role', 'admin', true), set_config('app.node_id', ${bobNodeId}, true)`,
      VISIBLE,
    );
    // The settings are ignored: Alice still sees exactly her own rows.
    expect(new Set(rows.map((r) => r.owner_id))).toEqual(new Set([idOf(alice)]));
  });

  const forgeries: Array<[string, (ctx: string) => string]> = [
    ['an empty context', () => ''],
    ['the admin claimed with a made-up MAC', () => `${idOf(admin)}|admin||${'ab'.repeat(32)}`],
    ["Bob's id under Alice's MAC", (ctx) => ctx.replace(idOf(alice), idOf(bob))],
    ["the admin role under Alice's MAC", (ctx) => ctx.replace('|user|', '|admin|')],
    ["Bob's node added under Alice's MAC", (ctx) => ctx.replace('|user||', `|node|${bobNodeId}|`)],
    ['a truncated MAC', (ctx) => ctx.slice(0, -2)],
    ['a MAC in capitals', (ctx) => ctx.replace(/\|[0-9a-f]{64}$/, (m) => m.toUpperCase())],
    ['extra fields', (ctx) => `${ctx}|admin`],
    ['a megabyte in front of a valid MAC', (ctx) => `${'f'.repeat(1_000_000)}${ctx}`],
    ['a context nested in itself', (ctx) => `${ctx}|${ctx}`],
  ];
  for (const [what, forge] of forgeries) {
    it(`sees no row at all with ${what} in app.ctx`, async () => {
      const rows = await withTenant(s.t.database, alice, async (tx) => {
        const [own] = rowsOf<{ ctx: string }>(
          await tx.execute(sql`SELECT current_setting('app.ctx') AS ctx`),
        );
        const forged = forge(own?.ctx ?? '');
        await tx.execute(sql`SELECT set_config('app.ctx', ${forged}, true)`);
        return rowsOf(await tx.execute(VISIBLE));
      });
      expect(rows).toEqual([]);
    });
  }

  it("cannot write into another user's rows with a forged context", async () => {
    const code = await pgCode(() =>
      inTenant(
        alice,
        sql`SELECT set_config('app.ctx', ${`${idOf(admin)}|admin||${'cd'.repeat(32)}`}, true)`,
        sql`INSERT INTO accounts (owner_id, username) VALUES (${idOf(bob)}::uuid, 'planted')`,
      ),
    );
    expect(code).toBe('42501');
    const planted = await ownerQuery(
      s.t.database,
      `SELECT 1 FROM accounts WHERE username = 'planted'`,
    );
    expect(planted).toEqual([]);
  });

  it("cannot reuse a context copied out of another transaction, not even the admin's", async () => {
    const [captured] = await inTenant<{ ctx: string }>(
      admin,
      sql`SELECT current_setting('app.ctx') AS ctx`,
    );
    expect(captured?.ctx).toMatch(/^[0-9a-f-]{36}\|admin\|\|[0-9a-f]{64}$/);
    const rows = await inTenant(
      bob,
      sql`SELECT set_config('app.ctx', ${captured?.ctx ?? ''}, true)`,
      VISIBLE,
    );
    expect(rows).toEqual([]);
  });
});

describe('a statement that changes the context half-way', () => {
  // Initplans (how the policies read the context, once per statement) are evaluated when a
  // row first needs them: a statement can run set_config() between the evaluation of one
  // policy's check and another's, or between two scans of a rescanned table. Every grant must
  // therefore hold on its own, verified when it is read, and fail closed. (The restrictive
  // policies before migration 0007's rework passed on a missing context; PostgreSQL's qual
  // order happened to evaluate them first, which these statements could not get around.)
  // The inner scan of accounts runs once per outer row, by primary key: first for an account
  // of someone else (so only the check that row fails first is evaluated), then, after the
  // context was changed, for an account the check passed on.
  const midStatement = (options: { forged: string; first: string; then: string }) => sql`
    SELECT a.owner_id
    FROM (VALUES (1, ${options.first}::uuid), (2, ${options.then}::uuid)) AS g(n, target)
    CROSS JOIN LATERAL (
      SELECT set_config('app.ctx', CASE WHEN g.n = 1 THEN current_setting('app.ctx') ELSE ${options.forged} END, true) AS s
    ) AS x
    JOIN accounts a ON a.id = g.target AND x.s IS NOT NULL`;

  it('lets an agent see no account, whatever it claims after its first scan', async () => {
    const node: Actor = { kind: 'node', nodeId: bobNodeId, ownerId: idOf(bob) };
    for (const forged of [
      `${idOf(bob)}|user||${'ab'.repeat(32)}`,
      `${idOf(bob)}|admin||${'ab'.repeat(32)}`,
      '',
    ]) {
      for (const [first, then] of [
        [aliceAccount, bobAccount],
        [bobAccount, aliceAccount],
        [bobAccount, bobAccount],
      ] as Array<[string, string]>) {
        expect(await inTenant(node, midStatement({ forged, first, then }))).toEqual([]);
      }
    }
  });

  it('lets a user see no more than their own accounts, whatever they claim half-way', async () => {
    const forged = `${idOf(admin)}|admin||${'cd'.repeat(32)}`;
    for (const [first, then] of [
      [aliceAccount, bobAccount],
      [bobAccount, aliceAccount],
    ] as Array<[string, string]>) {
      const rows = await inTenant<{ owner_id: string }>(
        alice,
        midStatement({ forged, first, then }),
      );
      expect(rows.filter((r) => r.owner_id !== idOf(alice))).toEqual([]);
    }
  });
});

describe('app_context_seal, the one way into a context', () => {
  const claimsFor = (userId: string, role: string, issuedMs = Date.now()) =>
    `v1|${userId}|${role}||${issuedMs}`;

  const seal = (claims: string, signature: Buffer) =>
    pgCode(() => inTenant(alice, sql`SELECT app_context_seal(${claims}, ${signature}) AS ctx`));

  it("seals the server's own signature (so the refusals below are about the signature)", async () => {
    const signed = signContext(await contextKey(), {
      userId: idOf(admin),
      role: 'admin',
      nodeId: '',
    });
    expect(await seal(signed.claims, signed.signature)).toBeNull();
  });

  it('refuses claims signed with another key, or not signed at all', async () => {
    const claims = claimsFor(idOf(admin), 'admin');
    const wrongKey = createHmac('sha256', randomBytes(32)).update(`enter|${claims}`).digest();
    expect(await seal(claims, wrongKey)).toBe('42501');
    expect(await seal(claims, Buffer.alloc(32))).toBe('42501');
    expect(await seal(claims, Buffer.alloc(0))).toBe('42501');
  });

  it('refuses claims changed after signing', async () => {
    const signed = signContext(await contextKey(), {
      userId: idOf(alice),
      role: 'user',
      nodeId: '',
    });
    const changed = signed.claims.replace('|user|', '|admin|');
    expect(await seal(changed, signed.signature)).toBe('42501');
  });

  it('refuses a signature issued more than 15 minutes away from the database clock', async () => {
    const key = await contextKey();
    const claims = { userId: idOf(alice), role: 'user' as const, nodeId: '' };
    const old = signContext(key, claims, Date.now() - 20 * 60_000);
    const future = signContext(key, claims, Date.now() + 20 * 60_000);
    expect(await seal(old.claims, old.signature)).toBe('42501');
    expect(await seal(future.claims, future.signature)).toBe('42501');
    const recent = signContext(key, claims, Date.now() - 60_000);
    expect(await seal(recent.claims, recent.signature)).toBeNull();
  });

  it('keeps the key and its MAC out of reach of the request role', async () => {
    expect(await pgCode(() => inTenant(alice, sql`SELECT * FROM app_context_keys`))).toBe('42501');
  });
});

describe('functions for the moments before a user is known', () => {
  it('give a password hash only to the login path, and write no audit entry for a user', async () => {
    const name = s.alice.username;
    for (const statement of [
      sql`SELECT * FROM auth_login_begin(${name}, 5, 30, 900)`,
      sql`SELECT auth_login_succeeded(${name}, ${idOf(alice)}::uuid)`,
      sql`SELECT audit_write_system(${idOf(bob)}::uuid, 'system', NULL, NULL, 'forged', NULL, NULL, NULL, NULL, '{}')`,
    ]) {
      expect(await pgCode(() => inTenant(alice, statement))).toBe('42501');
    }
    // The anonymous context (before a user is known) does not get hashes either.
    expect(
      await pgCode(() =>
        inTenant({ kind: 'anonymous' }, sql`SELECT * FROM auth_login_begin(${name}, 5, 30, 900)`),
      ),
    ).toBe('42501');
    // The old lookup that handed any request any hash is gone.
    expect(await pgCode(() => inTenant(alice, sql`SELECT * FROM auth_login_lookup(${name})`))).toBe(
      '42883',
    );
  });

  it('hand the login path what the password check needs', async () => {
    const [row] = await inTenant<{ user_id: string; password_hash: string }>(
      { kind: 'login' },
      sql`SELECT * FROM auth_login_begin(${s.bob.username}, 5, 30, 900)`,
    );
    expect(row?.user_id).toBe(idOf(bob));
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    await inTenant(
      { kind: 'login' },
      sql`SELECT auth_login_succeeded(${s.bob.username}, ${idOf(bob)}::uuid)`,
    );
  });
});

describe('agent contexts', () => {
  const nodeActor = (): Actor => ({ kind: 'node', nodeId: bobNodeId, ownerId: idOf(bob) });

  it("see their own node's VMs only, whatever they set", async () => {
    const own = await inTenant<{ vmid: number }>(nodeActor(), sql`SELECT vmid FROM vms`);
    expect(own.map((r) => r.vmid)).toEqual([101]);
    const tampered = await inTenant(
      nodeActor(),
      sql`SELECT set_config('app.role', 'admin', true), set_config('app.node_id', '', true)`,
      sql`SELECT id FROM accounts`,
    );
    expect(tampered).toEqual([]);
  });
});

describe.skipIf(!testDatabaseUrl())('the request login (PostgreSQL)', () => {
  it('is a role that owns nothing and can only become accountdb_app', async () => {
    const [who] = await inTenant<{ session_user: string; current_user: string }>(
      alice,
      sql`SELECT session_user, current_user`,
    );
    expect(who).toEqual({ session_user: 'accountdb_authenticator', current_user: 'accountdb_app' });
  });

  it('RESET ROLE gains nothing: the login role itself may read no table', async () => {
    for (const table of ['accounts', 'users', 'audit_log', 'app_context_keys', 'login_lockouts']) {
      const code = await pgCode(() =>
        inTenant(alice, sql`RESET ROLE`, sql.raw(`SELECT count(*) FROM ${table}`)),
      );
      expect({ table, code }).toEqual({ table, code: '42501' });
    }
    const [who] = await inTenant<{ current_user: string }>(
      alice,
      sql`RESET ROLE`,
      sql`SELECT current_user`,
    );
    expect(who?.current_user).toBe('accountdb_authenticator');
  });

  it('cannot become anyone but accountdb_app, nor change its session', async () => {
    for (const statement of [
      'SET ROLE postgres',
      'SET SESSION AUTHORIZATION postgres',
      'SET ROLE pg_read_all_data',
    ]) {
      const code = await pgCode(() => inTenant(alice, sql`RESET ROLE`, sql.raw(statement)));
      expect({ statement, code }).toEqual({ statement, code: '42501' });
    }
  });

  it('back in accountdb_app after RESET ROLE, a forged context still sees nothing', async () => {
    const rows = await inTenant(
      alice,
      sql`RESET ROLE`,
      sql`SET ROLE accountdb_app`,
      sql`SELECT set_config('app.ctx', ${`${idOf(admin)}|admin||${'ef'.repeat(32)}`}, true)`,
      VISIBLE,
    );
    expect(rows).toEqual([]);
  });

  it('verifies the same in parallel workers as in their leader', async () => {
    const settings = [
      sql`SELECT set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true), set_config('min_parallel_table_scan_size', '0', true)`,
    ];
    const forced = await inTenant<{ setting: string }>(
      alice,
      sql`SELECT name AS setting FROM pg_settings WHERE name IN ('debug_parallel_query', 'force_parallel_mode')`,
    );
    const force = forced[0]?.setting ?? 'force_parallel_mode';
    const plan = await inTenant<{ 'QUERY PLAN': string }>(
      alice,
      ...settings,
      sql.raw(`SET LOCAL ${force} = on`),
      sql`EXPLAIN (ANALYZE, COSTS OFF) SELECT owner_id FROM accounts`,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Gather/);
    const rows = await inTenant<{ owner_id: string }>(
      alice,
      ...settings,
      sql.raw(`SET LOCAL ${force} = on`),
      sql`SELECT owner_id FROM accounts`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.owner_id))).toEqual(new Set([idOf(alice)]));
  });
});
