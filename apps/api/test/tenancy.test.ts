import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/schema.js';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { randomName } from './helpers/factories.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The tenancy mechanism itself, on a throwaway tenant table that gets its policies from
 * the same app_enable_tenant_rls() every real tenant table uses.
 */
let database: TestDatabase;
let alice: Actor;
let bob: Actor;
const admin: Actor = {
  kind: 'user',
  userId: '00000000-0000-7000-8000-000000000000',
  username: 'root',
  role: 'admin',
  via: 'session',
  scopes: ['read', 'write'],
};

const userActor = (userId: string): Actor => ({
  kind: 'user',
  userId,
  username: '',
  role: 'user',
  via: 'session',
  scopes: ['read', 'write'],
});

async function exec(text: string): Promise<void> {
  const raw = database.raw;
  if (raw.kind === 'pglite') await raw.pglite.exec(text);
  else await raw.pool.query(text);
}

async function query<T>(text: string): Promise<T[]> {
  const raw = database.raw;
  if (raw.kind === 'pglite') return (await raw.pglite.query<T>(text)).rows;
  return (await raw.pool.query(text)).rows as T[];
}

const labels = (actor: Actor) =>
  withTenant(database, actor, async (tx) =>
    rowsOf<{ label: string; owner_id: string }>(
      await tx.execute(sql`SELECT label, owner_id FROM tenancy_probe ORDER BY label`),
    ),
  );

/** Runs fn and returns the Postgres error code it failed with (or null). */
async function pgError(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? 'unknown';
  }
}

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
  const made = await withTenant(database, admin, (tx) =>
    tx
      .insert(users)
      .values(
        ['alice', 'bob'].map((n) => {
          const username = randomName(n);
          return { username, email: `${username}@example.com`, passwordHash: 'x' };
        }),
      )
      .returning({ id: users.id }),
  );
  alice = userActor(made[0]?.id ?? '');
  bob = userActor(made[1]?.id ?? '');
  await exec(`
    CREATE TABLE tenancy_probe (
      id uuid PRIMARY KEY DEFAULT uuid_v7(),
      owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      label text NOT NULL
    );
    SELECT app_enable_tenant_rls('tenancy_probe');
    GRANT SELECT, INSERT, UPDATE, DELETE ON tenancy_probe TO accountdb_app;
  `);
  for (const [actor, name] of [
    [alice, 'a'],
    [bob, 'b'],
  ] as const) {
    if (actor.kind !== 'user') throw new Error('unreachable');
    await withTenant(database, actor, (tx) =>
      tx.execute(
        sql`INSERT INTO tenancy_probe (owner_id, label) VALUES (${actor.userId}, ${`${name}1`}), (${actor.userId}, ${`${name}2`})`,
      ),
    );
  }
});

afterAll(async () => {
  await database?.drop();
});

describe('row-level security on a tenant table', () => {
  it('shows each user only their own rows and an admin all of them', async () => {
    expect((await labels(alice)).map((r) => r.label)).toEqual(['a1', 'a2']);
    expect((await labels(bob)).map((r) => r.label)).toEqual(['b1', 'b2']);
    expect((await labels(admin)).map((r) => r.label)).toEqual(['a1', 'a2', 'b1', 'b2']);
  });

  it('shows nothing to the request role without a context', async () => {
    expect(await labels({ kind: 'anonymous' })).toEqual([]);
    // Even a hand-rolled transaction that forgets the context sees nothing.
    const rows = await database.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL ROLE accountdb_app`);
      return rowsOf(await tx.execute(sql`SELECT * FROM tenancy_probe`));
    });
    expect(rows).toEqual([]);
  });

  it('never mixes two users interleaving on a pool of two connections', async () => {
    const rounds = 40;
    const seen = await Promise.all(
      Array.from({ length: rounds * 2 }, (_, i) => {
        const actor = i % 2 === 0 ? alice : bob;
        return withTenant(database, actor, async (tx) => {
          // Hold the connection a moment so the two users' transactions overlap.
          await tx.execute(sql`SELECT pg_sleep(0.002)`);
          const rows = rowsOf<{ label: string }>(
            await tx.execute(sql`SELECT label FROM tenancy_probe`),
          );
          return { i, labels: rows.map((r) => r.label).sort() };
        });
      }),
    );
    for (const { i, labels: l } of seen) {
      expect(l).toEqual(i % 2 === 0 ? ['a1', 'a2'] : ['b1', 'b2']);
    }
  });

  it('leaves nothing behind on the pooled connection after commit', async () => {
    await labels(alice);
    // Both pooled connections (or PGlite's one) must be back to the owner with no context.
    const states = await Promise.all(
      [0, 1].map(() =>
        query<{ uid: string | null; role: string | null; usr: string }>(
          `SELECT current_setting('app.user_id', true) AS uid, current_setting('app.role', true) AS role, current_user AS usr`,
        ),
      ),
    );
    for (const [state] of states) {
      expect(state?.uid ?? '').toBe('');
      expect(state?.role ?? '').toBe('');
      expect(state?.usr).not.toBe('accountdb_app');
    }
  });

  it('refuses an insert with a forged owner_id', async () => {
    if (alice.kind !== 'user' || bob.kind !== 'user') throw new Error('unreachable');
    const bobId = bob.userId;
    const code = await pgError(() =>
      withTenant(database, alice, (tx) =>
        tx.execute(sql`INSERT INTO tenancy_probe (owner_id, label) VALUES (${bobId}, 'forged')`),
      ),
    );
    expect(code).toBe('42501');
    expect((await labels(bob)).map((r) => r.label)).toEqual(['b1', 'b2']);
  });

  it('refuses an update that hands a row to another user', async () => {
    if (bob.kind !== 'user') throw new Error('unreachable');
    const bobId = bob.userId;
    const code = await pgError(() =>
      withTenant(database, alice, (tx) =>
        tx.execute(sql`UPDATE tenancy_probe SET owner_id = ${bobId} WHERE label = 'a1'`),
      ),
    );
    expect(code).toBe('42501');
    expect((await labels(alice)).map((r) => r.label)).toEqual(['a1', 'a2']);
  });

  it("matches zero rows when a user updates or deletes another user's row", async () => {
    const changed = await withTenant(database, alice, async (tx) => {
      const u = rowsOf(
        await tx.execute(
          sql`UPDATE tenancy_probe SET label = 'hijacked' WHERE label = 'b1' RETURNING id`,
        ),
      );
      const d = rowsOf(
        await tx.execute(sql`DELETE FROM tenancy_probe WHERE label = 'b2' RETURNING id`),
      );
      return u.length + d.length;
    });
    expect(changed).toBe(0);
    expect((await labels(bob)).map((r) => r.label)).toEqual(['b1', 'b2']);
  });
});

describe('the database catalog', () => {
  it('has RLS enabled and forced, with a policy per command, on every table with owner_id', async () => {
    const tables = await query<{ table: string; enabled: boolean; forced: boolean }>(`
      SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner_id' AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p')
    `);
    expect(tables.length).toBeGreaterThanOrEqual(4); // refresh_tokens, api_tokens, audit_log, tenancy_probe
    for (const t of tables) {
      expect({ table: t.table, enabled: t.enabled, forced: t.forced }).toEqual({
        table: t.table,
        enabled: true,
        forced: true,
      });
    }
    const policies = await query<{ table: string; cmd: string }>(`
      SELECT c.relname AS table, p.polcmd::text AS cmd
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner_id' AND NOT a.attisdropped
    `);
    for (const t of tables) {
      const cmds = new Set(policies.filter((p) => p.table === t.table).map((p) => p.cmd));
      const covers = (c: string) => cmds.has(c) || cmds.has('*');
      expect({
        table: t.table,
        r: covers('r'),
        a: covers('a'),
        w: covers('w'),
        d: covers('d'),
      }).toEqual({
        table: t.table,
        r: true,
        a: true,
        w: true,
        d: true,
      });
    }
  });

  it('has RLS enabled and forced on every table the request role may touch', async () => {
    const rows = await query<{ table: string; enabled: boolean; forced: boolean }>(`
      SELECT DISTINCT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE c.relkind IN ('r', 'p')
        AND has_table_privilege('accountdb_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
    `);
    expect(rows.map((r) => r.table)).toContain('users');
    for (const r of rows) expect(r).toEqual({ table: r.table, enabled: true, forced: true });
  });

  it('gives the request role no superuser, no BYPASSRLS, no login and no objects', async () => {
    const [role] = await query<Record<string, boolean>>(
      `SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'accountdb_app'`,
    );
    expect(role).toEqual({
      rolsuper: false,
      rolbypassrls: false,
      rolcanlogin: false,
      rolcreaterole: false,
      rolcreatedb: false,
    });
    const [owned] = await query<{ n: number }>(`
      SELECT ((SELECT count(*) FROM pg_class WHERE relowner = 'accountdb_app'::regrole)
            + (SELECT count(*) FROM pg_proc WHERE proowner = 'accountdb_app'::regrole)
            + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'accountdb_app'::regrole))::int AS n
    `);
    expect(owned?.n).toBe(0);
  });

  it('pins an empty search_path on every SECURITY DEFINER function and keeps them from PUBLIC', async () => {
    const fns = await query<{ name: string; config: string[] | null; public_exec: boolean }>(`
      SELECT p.proname AS name, p.proconfig AS config,
             has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'public'
      WHERE p.prosecdef
    `);
    expect(fns.length).toBeGreaterThanOrEqual(8);
    for (const f of fns) {
      expect({
        name: f.name,
        searchPath: (f.config ?? []).find((c) => c.startsWith('search_path=')),
      }).toEqual({
        name: f.name,
        searchPath: expect.stringMatching(/^search_path=(""|'')?$/),
      });
      // app_context_seal is the one exception (migration 0007): the request login calls it in
      // the statement that drops to accountdb_app, and without the server's signature it only
      // refuses (tested in tenant-context.test.ts).
      expect({ name: f.name, public: f.public_exec }).toEqual({
        name: f.name,
        public: f.name === 'app_context_seal',
      });
    }
  });

  it('keeps the audit log append-only and lockout state out of reach of the request role', async () => {
    const [p] = await query<Record<string, boolean>>(`
      SELECT has_table_privilege('accountdb_app', 'audit_log', 'UPDATE') AS audit_update,
             has_table_privilege('accountdb_app', 'audit_log', 'DELETE') AS audit_delete,
             has_table_privilege('accountdb_app', 'login_lockouts', 'SELECT') AS lockouts_select
    `);
    expect(p).toEqual({ audit_update: false, audit_delete: false, lockouts_select: false });
  });
});

describe('the users table', () => {
  it("hides other users from a user and refuses a user's change of their own role", async () => {
    if (alice.kind !== 'user') throw new Error('unreachable');
    const aliceId = alice.userId;
    const visible = await withTenant(database, alice, (tx) =>
      tx.select({ id: users.id }).from(users),
    );
    expect(visible).toEqual([{ id: aliceId }]);
    const code = await pgError(() =>
      withTenant(database, alice, (tx) =>
        tx.execute(sql`UPDATE users SET role = 'admin' WHERE id = ${aliceId}`),
      ),
    );
    expect(code).toBe('42501');
    const deactivate = await pgError(() =>
      withTenant(database, alice, (tx) =>
        tx.execute(sql`UPDATE users SET is_active = false WHERE id = ${aliceId}`),
      ),
    );
    expect(deactivate).toBe('42501');
  });

  it('lets only an admin create users', async () => {
    const code = await pgError(() =>
      withTenant(database, alice, (tx) =>
        tx.insert(users).values({
          username: randomName('x'),
          email: `${randomName('x')}@e.com`,
          passwordHash: 'x',
        }),
      ),
    );
    expect(code).toBe('42501');
  });
});
