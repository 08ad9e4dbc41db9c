import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import { type TwoUsers, twoUsers } from './helpers/two-users.js';

/**
 * `q` goes through one SECURITY DEFINER function per resource (migration 0015) that runs as
 * accountdb_search, a role whose policy shows it every row so that the trigram indexes
 * serve it. The tenant comes only from the verified signed context: these tests hold it to
 * that for every searchable resource, through the API and by calling the functions directly
 * from a request transaction.
 */
let s: TwoUsers;
const term = randomName('needle').replace(/[^a-z0-9]/g, '');

/**
 * Each searchable resource: its path, its search function, a body whose name (card: notes)
 * holds `term`, and whether its name also matches by similarity (cards: no).
 */
const RESOURCES: Array<{
  path: string;
  fn: string;
  body: (owner: string) => object;
  fuzzy?: false;
}> = [
  { path: 'accounts', fn: 'search_accounts', body: (o) => ({ username: `${term}${o}` }) },
  { path: 'vms', fn: 'search_vms', body: (o) => ({ name: `${term}${o}` }) },
  { path: 'hardware', fn: 'search_hardware', body: (o) => ({ pcname: `${term}${o}` }) },
  { path: 'proxmox-nodes', fn: 'search_proxmox_nodes', body: (o) => ({ name: `${term}${o}` }) },
  {
    path: 'cards',
    fn: 'search_cards',
    body: (o) => ({ code1: randomName('CODE').toUpperCase(), notes: `${term}${o}` }),
    fuzzy: false,
  },
];

const made: Record<string, Record<'alice' | 'bob', string>> = {};

const actorOf = (u: TestUser): Actor => ({
  kind: 'user',
  userId: u.id,
  username: u.username,
  role: u.role,
  via: 'session',
  scopes: ['read', 'write'],
});

function idsIn(actor: Actor, ...statements: SQL[]): Promise<string[]> {
  return withTenant(s.t.database, actor, async (tx) => {
    let rows: Array<{ id: string }> = [];
    for (const statement of statements) rows = rowsOf<{ id: string }>(await tx.execute(statement));
    return rows.map((r) => r.id);
  });
}

beforeAll(async () => {
  s = await twoUsers();
  for (const r of RESOURCES) {
    made[r.path] = { alice: '', bob: '' };
    for (const who of ['alice', 'bob'] as const) {
      const res = await s.call(s[who], 'POST', `/${r.path}`, r.body(who));
      expect(res.statusCode, res.body).toBe(201);
      (made[r.path] as Record<string, string>)[who] = res.json().id;
    }
  }
});

afterAll(async () => {
  await s?.t.close();
});

describe.each(RESOURCES)('q on /$path', (r) => {
  const listed = async (u: TestUser, q: string, scope = '') => {
    const res = await s.call(u, 'GET', `/${r.path}?q=${encodeURIComponent(q)}${scope}`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: Array<{ id: string }> }).items.map((i) => i.id).sort();
  };

  it("finds a user's own match and never another user's, whatever the term", async () => {
    const ids = made[r.path] as Record<'alice' | 'bob', string>;
    expect(await listed(s.alice, term)).toEqual([ids.alice]);
    expect(await listed(s.bob, term)).toEqual([ids.bob]);
    // Bob's name, typed exactly by Alice (it would rank first for Bob): at most her own
    // row, which is similar to it.
    const similar = (own: string) => (r.fuzzy === false ? [] : [own]);
    expect(await listed(s.alice, `${term}bob`)).toEqual(similar(ids.alice));
    expect(await listed(s.bob, `${term}alice`)).toEqual(similar(ids.bob));
  });

  it("shows an admin their own matches, and every user's with scope=all (what the policy shows an admin)", async () => {
    const ids = made[r.path] as Record<'alice' | 'bob', string>;
    expect(await listed(s.admin, term)).toEqual([]);
    expect(await listed(s.admin, term, '&scope=all')).toEqual([ids.alice, ids.bob].sort());
  });

  it('returns nothing of Alice from the function called in Bob’s context', async () => {
    const fn = sql.identifier(r.fn);
    const ids = made[r.path] as Record<'alice' | 'bob', string>;
    expect(await idsIn(actorOf(s.alice), sql`SELECT id FROM ${fn}(${term})`)).toEqual([ids.alice]);
    expect(await idsIn(actorOf(s.bob), sql`SELECT id FROM ${fn}(${`${term}alice`})`)).toEqual(
      r.fuzzy === false ? [] : [ids.bob],
    );
    expect(await idsIn(actorOf(s.bob), sql`SELECT id FROM ${fn}(${term})`)).toEqual([ids.bob]);
  });

  it('returns nothing at all with a forged, unsealed or missing context', async () => {
    const fn = sql.identifier(r.fn);
    const alice = actorOf(s.alice);
    const forgeries = [
      sql`SELECT set_config('app.ctx', '', true)`,
      sql`SELECT set_config('app.ctx', ${`${s.admin.id}|admin||${'ab'.repeat(32)}`}, true)`,
      // Alice's own context with Bob's id in it: the MAC no longer matches.
      sql`SELECT set_config('app.ctx', replace(current_setting('app.ctx'), ${s.alice.id}, ${s.bob.id}), true)`,
      // Unsealed claims as the API signs them, never passed through app_context_seal.
      sql`SELECT set_config('app.ctx', ${`v1|${s.admin.id}|admin||${Date.now()}`}, true)`,
    ];
    for (const forge of forgeries) {
      expect(await idsIn(alice, forge, sql`SELECT id FROM ${fn}(${term})`)).toEqual([]);
    }
  });

  it('returns nothing to an agent or an anonymous request', async () => {
    const fn = sql.identifier(r.fn);
    const agent: Actor = {
      kind: 'node',
      nodeId: made['proxmox-nodes']?.alice ?? '',
      ownerId: s.alice.id,
    };
    expect(await idsIn(agent, sql`SELECT id FROM ${fn}(${term})`)).toEqual([]);
    expect(await idsIn({ kind: 'anonymous' }, sql`SELECT id FROM ${fn}(${term})`)).toEqual([]);
  });
});

describe('the search role', () => {
  it('may read only the searched columns, cannot log in, and is not the request login', async () => {
    const [role] = await ownerQuery<Record<string, boolean>>(
      s.t.database,
      `SELECT rolcanlogin, rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = 'accountdb_search'`,
    );
    expect(role).toEqual({
      rolcanlogin: false,
      rolsuper: false,
      rolbypassrls: false,
      rolinherit: false,
    });
    const [p] = await ownerQuery<Record<string, boolean>>(
      s.t.database,
      `SELECT has_column_privilege('accountdb_search', 'accounts', 'username', 'SELECT') AS username,
              has_column_privilege('accountdb_search', 'accounts', 'secrets_enc', 'SELECT') AS secrets,
              has_column_privilege('accountdb_search', 'cards', 'code1_enc', 'SELECT') AS code,
              has_table_privilege('accountdb_search', 'accounts', 'UPDATE') AS write,
              has_table_privilege('accountdb_search', 'app_context_keys', 'SELECT') AS context_key,
              has_schema_privilege('accountdb_search', 'public', 'CREATE') AS create_in_schema,
              pg_has_role('accountdb_app', 'accountdb_search', 'MEMBER') AS app_member`,
    );
    expect(p).toEqual({
      username: true,
      secrets: false,
      code: false,
      write: false,
      context_key: false,
      create_in_schema: false,
      app_member: false,
    });
  });

  it('owns the search functions, which the request role may call and PUBLIC may not', async () => {
    const fns = await ownerQuery<{ name: string; owner: string; app: boolean; pub: boolean }>(
      s.t.database,
      `SELECT p.proname AS name, pg_get_userbyid(p.proowner) AS owner,
              has_function_privilege('accountdb_app', p.oid, 'EXECUTE') AS app,
              has_function_privilege('public', p.oid, 'EXECUTE') AS pub
       FROM pg_proc p WHERE p.proname LIKE 'search\\_%' ORDER BY 1`,
    );
    expect(fns).toEqual(
      RESOURCES.map((r) => r.fn)
        .sort()
        .map((name) => ({ name, owner: 'accountdb_search', app: true, pub: false })),
    );
  });
});
