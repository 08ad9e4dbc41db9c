import { randomUUID } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { createUser, type TestUser } from './helpers/factories.js';
import { expectProblem, ownerQuery } from './helpers/support.js';
import { type TwoUsers, twoUsers } from './helpers/two-users.js';

/**
 * Sharing (issue 16 part 2, migration 0020): Alice (owner) shares with Bob (grantee); Carol
 * (stranger) never sees a thing. Through the API, and with raw SQL in Bob's own tenant
 * transaction to show the database itself enforces it.
 */
let s: TwoUsers;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let nodeId: string;
let vmOnNode: string;
let vmAlone: string;
let accountId: string;
let bobsVm: string;

const SHARED_SECRET = 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=';

const actorOf = (u: TestUser): Actor => ({
  kind: 'user',
  userId: u.id,
  username: u.username,
  role: u.role,
  via: 'session',
  scopes: ['read', 'write'],
});

async function created(user: TestUser, url: string, body: object): Promise<string> {
  const res = await s.call(user, 'POST', url, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function share(body: object, user: TestUser = alice): Promise<{ id: string }> {
  const res = await s.call(user, 'POST', '/grants', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const ids = (res: { json: () => { items: Array<{ id: string }> } }) =>
  res.json().items.map((i) => i.id);

/** Runs statements as a user in their own tenant transaction; the last one's rows. */
function asUser<T>(user: TestUser, ...statements: SQL[]): Promise<T[]> {
  return withTenant(s.t.database, actorOf(user), async (tx) => {
    let rows: T[] = [];
    for (const statement of statements) rows = rowsOf<T>(await tx.execute(statement));
    return rows;
  });
}

/** The Postgres error code a statement fails with as the user (null: it did not fail). */
async function sqlError(user: TestUser, statement: SQL): Promise<string | null> {
  try {
    await asUser(user, statement);
    return null;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? 'unknown';
  }
}

async function auditActions(user: TestUser, entityId: string): Promise<string[]> {
  const res = await s.call(user, 'GET', `/audit?entity_id=${entityId}&limit=100`);
  expect(res.statusCode, res.body).toBe(200);
  return res
    .json()
    .items.map((e: { action: string; actor_id: string }) => `${e.action}:${e.actor_id}`);
}

beforeAll(async () => {
  s = await twoUsers();
  alice = s.alice;
  bob = s.bob;
  carol = await createUser(s.t.app, s.admin);
  nodeId = await created(alice, '/proxmox-nodes', { name: 'alice-node' });
  vmOnNode = await created(alice, '/vms', { name: 'alice-vm-on-node', node_id: nodeId, vmid: 101 });
  vmAlone = await created(alice, '/vms', { name: 'alice-vm-alone' });
  accountId = await created(alice, '/accounts', {
    username: 'alice-account',
    password: 'alice-password',
    shared_secret: SHARED_SECRET,
  });
  bobsVm = await created(bob, '/vms', { name: 'bobs-own-vm' });
});
afterAll(async () => s?.t.close());

describe('sharing a node', () => {
  let grantId: string;

  it('shows the node and its VMs to the grantee, marked shared_by, and nothing to a stranger', async () => {
    grantId = (
      await share({ object_type: 'proxmox_node', object_id: nodeId, grantee: bob.username })
    ).id;
    const vms = await s.call(bob, 'GET', '/vms?limit=500');
    expect(vms.statusCode).toBe(200);
    expect(ids(vms).sort()).toEqual([bobsVm, vmOnNode].sort());
    const item = vms.json().items.find((i: { id: string }) => i.id === vmOnNode);
    expect(item.shared_by).toEqual({ id: alice.id, username: alice.username });
    expect(item.permission).toBe('read');
    expect(vms.json().items.find((i: { id: string }) => i.id === bobsVm).shared_by).toBeUndefined();
    const nodes = await s.call(bob, 'GET', '/proxmox-nodes');
    expect(ids(nodes)).toEqual([nodeId]);
    const detail = await s.call(bob, 'GET', `/vms/${vmOnNode}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json().shared_by.username).toBe(alice.username);
    // The VM not on the node is not shared.
    expect((await s.call(bob, 'GET', `/vms/${vmAlone}`)).statusCode).toBe(404);
    // Carol: nothing.
    expect(ids(await s.call(carol, 'GET', '/vms'))).toEqual([]);
    expect((await s.call(carol, 'GET', `/vms/${vmOnNode}`)).statusCode).toBe(404);
    expect((await s.call(carol, 'GET', `/proxmox-nodes/${nodeId}`)).statusCode).toBe(404);
    // The owner's own view carries no shared_by.
    const own = await s.call(alice, 'GET', `/vms/${vmOnNode}`);
    expect(own.json().shared_by).toBeUndefined();
  });

  it('filters shared objects in or out with shared=include|exclude|only', async () => {
    expect(ids(await s.call(bob, 'GET', '/vms?shared=exclude'))).toEqual([bobsVm]);
    expect(ids(await s.call(bob, 'GET', '/vms?shared=only'))).toEqual([vmOnNode]);
    expect(ids(await s.call(bob, 'GET', '/vms?shared=include')).sort()).toEqual(
      [bobsVm, vmOnNode].sort(),
    );
    expectProblem(await s.call(bob, 'GET', '/vms?shared=everything'), 400, 'validation_error');
    // The owner's lists are unchanged by her own grants.
    expect(ids(await s.call(alice, 'GET', '/vms?shared=only'))).toEqual([]);
  });

  it('read share: no write, no delete, no key rotation, no sync; write share: writes, audited both sides', async () => {
    expectProblem(
      await s.call(bob, 'PATCH', `/vms/${vmOnNode}`, { notes: 'bob was here' }),
      403,
      'share_read_only',
    );
    expectProblem(await s.call(bob, 'DELETE', `/vms/${vmOnNode}`), 403, 'share_read_only');
    expectProblem(
      await s.call(bob, 'POST', `/proxmox-nodes/${nodeId}/rotate-key`),
      403,
      'owner_only',
    );
    expectProblem(
      await s.call(bob, 'POST', `/proxmox-nodes/${nodeId}/sync-now`),
      403,
      'owner_only',
    );

    const up = await s.call(alice, 'PATCH', `/grants/${grantId}`, { permission: 'write' });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().permission).toBe('write');

    const patched = await s.call(bob, 'PATCH', `/vms/${vmOnNode}`, { notes: 'bob was here' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().notes).toBe('bob was here');
    expect(patched.json().permission).toBe('write');
    expect((await s.call(alice, 'GET', `/vms/${vmOnNode}`)).json().notes).toBe('bob was here');
    // Audited in Alice's log with Bob as actor, and in Bob's.
    expect(await auditActions(alice, vmOnNode)).toContain(`vm.update:${bob.id}`);
    expect(await auditActions(bob, vmOnNode)).toContain(`vm.update:${bob.id}`);

    // The VM's links to Alice's other objects are hers: 403 owner_only, nothing written.
    for (const body of [
      { node_id: null },
      { account_id: accountId },
      { notes: 'x', node_id: null },
    ]) {
      const res = await s.call(bob, 'PATCH', `/vms/${vmOnNode}`, body);
      expectProblem(res, 403, 'owner_only');
      expect(res.json().detail).toContain(
        Object.keys(body).includes('node_id') ? 'node_id' : 'account_id',
      );
    }
    expect((await s.call(alice, 'GET', `/vms/${vmOnNode}`)).json()).toMatchObject({
      node_id: nodeId,
      notes: 'bob was here',
    });
    expectProblem(await s.call(bob, 'DELETE', `/vms/${vmOnNode}`), 403, 'owner_only');
    expectProblem(await s.call(bob, 'DELETE', `/proxmox-nodes/${nodeId}`), 403, 'owner_only');
    expect((await s.call(bob, 'POST', '/vms/bulk-delete', { ids: [vmOnNode] })).json()).toEqual({
      deleted: 0,
      not_found: [vmOnNode],
    });
    expectProblem(
      await s.call(bob, 'POST', `/proxmox-nodes/${nodeId}/rotate-key`),
      403,
      'owner_only',
    );
    expect((await s.call(alice, 'GET', `/vms/${vmOnNode}`)).statusCode).toBe(200);
  });

  it('the database refuses what the API refuses, with raw SQL in the grantee context', async () => {
    // Bob holds a write share of the node here.
    expect(
      await sqlError(bob, sql`UPDATE vms SET owner_id = ${bob.id} WHERE id = ${vmOnNode}`),
    ).toBe('42501');
    expect(
      await sqlError(
        bob,
        sql`UPDATE proxmox_nodes SET api_key_hash = '\\x00'::bytea WHERE id = ${nodeId}`,
      ),
    ).toBe('42501');
    // Nor does he move the VM under another of Alice's nodes, or unlink its node or account
    // (migration 0021); its own fields he may change.
    expect(await sqlError(bob, sql`UPDATE vms SET node_id = NULL WHERE id = ${vmOnNode}`)).toBe(
      '42501',
    );
    expect(
      await sqlError(bob, sql`UPDATE vms SET account_id = ${accountId} WHERE id = ${vmOnNode}`),
    ).toBe('42501');
    expect(
      await asUser(bob, sql`UPDATE vms SET notes = 'sql note' WHERE id = ${vmOnNode} RETURNING id`),
    ).toHaveLength(1);
    const deleted = await asUser<{ id: string }>(
      bob,
      sql`DELETE FROM vms WHERE id = ${vmOnNode} RETURNING id`,
    );
    expect(deleted).toEqual([]);
    // Re-sharing: a grant in Alice's name, or in his own name of Alice's object.
    expect(
      await sqlError(
        bob,
        sql`INSERT INTO grants (owner_id, grantee_id, object_type, object_id) VALUES (${alice.id}, ${carol.id}, 'vm', ${vmOnNode})`,
      ),
    ).toBe('42501');
    expect(
      await sqlError(
        bob,
        sql`INSERT INTO grants (owner_id, grantee_id, object_type, object_id) VALUES (${bob.id}, ${carol.id}, 'vm', ${vmOnNode})`,
      ),
    ).toBe('42501');
    // Changing his own grant.
    const changed = await asUser<{ id: string }>(
      bob,
      sql`UPDATE grants SET permission = 'write' WHERE grantee_id = ${bob.id} RETURNING id`,
    );
    expect(changed).toEqual([]);
    // Carol's context sees none of it.
    expect(await asUser(carol, sql`SELECT id FROM vms WHERE owner_id = ${alice.id}`)).toEqual([]);
    expect(await asUser(carol, sql`SELECT id FROM grants`)).toEqual([]);
    // The API refuses to re-share too (not his object: 404).
    expectProblem(
      await s.call(bob, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vmOnNode,
        grantee: carol.username,
      }),
      404,
      'not_found',
    );
  });

  it('revoking takes effect on the next request', async () => {
    expect((await s.call(alice, 'DELETE', `/grants/${grantId}`)).statusCode).toBe(204);
    expect((await s.call(bob, 'GET', `/vms/${vmOnNode}`)).statusCode).toBe(404);
    expect(ids(await s.call(bob, 'GET', '/vms'))).toEqual([bobsVm]);
    expect(await auditActions(alice, nodeId)).toContain(`grant.delete:${alice.id}`);
    expect(await auditActions(bob, nodeId)).toContain(`grant.delete:${alice.id}`);
  });
});

describe('sharing an account', () => {
  let grantId: string;

  it('without secrets: visible, marked, but secrets and codes are refused (403 secrets_not_shared)', async () => {
    grantId = (await share({ object_type: 'account', object_id: accountId, grantee: bob.username }))
      .id;
    const one = await s.call(bob, 'GET', `/accounts/${accountId}`);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({
      shared_by: { id: alice.id, username: alice.username },
      permission: 'read',
      secrets_shared: false,
      has_password: true,
    });
    expect(one.body).not.toContain('alice-password');
    expectProblem(
      await s.call(bob, 'GET', `/accounts/${accountId}/secrets`),
      403,
      'secrets_not_shared',
    );
    expectProblem(
      await s.call(bob, 'GET', `/accounts/${accountId}/totp`),
      403,
      'secrets_not_shared',
    );
    const exported = await s.call(bob, 'GET', '/accounts/export?format=json&include_secrets=true');
    expectProblem(exported, 403, 'secrets_not_shared');
    const ownOnly = await s.call(
      bob,
      'GET',
      '/accounts/export?format=json&include_secrets=true&shared=exclude',
    );
    expect(ownOnly.statusCode, ownOnly.body).toBe(200);
    expect(ownOnly.json()).toEqual([]);
    // The database: Bob's context cannot read Alice's data key.
    expect(await asUser(bob, sql`SELECT id FROM data_keys WHERE owner_id = ${alice.id}`)).toEqual(
      [],
    );
  });

  it('a write share without secrets cannot change the secrets', async () => {
    expect(
      (await s.call(alice, 'PATCH', `/grants/${grantId}`, { permission: 'write' })).statusCode,
    ).toBe(200);
    expectProblem(
      await s.call(bob, 'PATCH', `/accounts/${accountId}`, { password: 'bobs-password' }),
      403,
      'secrets_not_shared',
    );
    const notes = await s.call(bob, 'PATCH', `/accounts/${accountId}`, { notes: 'shared note' });
    expect(notes.statusCode, notes.body).toBe(200);
    expect(
      await sqlError(bob, sql`UPDATE accounts SET secrets_enc = NULL WHERE id = ${accountId}`),
    ).toBe('42501');
  });

  it('with secrets: reveals and codes work, audited in both logs; taking secrets back works at once', async () => {
    const up = await s.call(alice, 'PATCH', `/grants/${grantId}`, { secrets: true });
    expect(up.json().secrets).toBe(true);
    const revealed = await s.call(bob, 'GET', `/accounts/${accountId}/secrets`);
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.json().password).toBe('alice-password');
    const code = await s.call(bob, 'GET', `/accounts/${accountId}/totp`);
    expect(code.statusCode, code.body).toBe(200);
    expect(code.json().kind).toBe('steam');
    expect(await auditActions(alice, accountId)).toContain(`account.reveal_secrets:${bob.id}`);
    expect(await auditActions(bob, accountId)).toContain(`account.reveal_secrets:${bob.id}`);
    expect(
      (await asUser(bob, sql`SELECT id FROM data_keys WHERE owner_id = ${alice.id}`)).length,
    ).toBe(1);

    // The data key is now kept in this process's memory: taking the secrets back still works
    // at the next request (the key row is read through Bob's transaction every time).
    await s.call(alice, 'PATCH', `/grants/${grantId}`, { secrets: false });
    expectProblem(
      await s.call(bob, 'GET', `/accounts/${accountId}/secrets`),
      403,
      'secrets_not_shared',
    );
    expect(await asUser(bob, sql`SELECT id FROM data_keys WHERE owner_id = ${alice.id}`)).toEqual(
      [],
    );
  });

  it('the grantee may leave a share, audited for the owner; a stranger cannot touch it', async () => {
    expectProblem(await s.call(carol, 'DELETE', `/grants/${grantId}`), 404, 'not_found');
    expectProblem(
      await s.call(carol, 'PATCH', `/grants/${grantId}`, { permission: 'read' }),
      404,
      'not_found',
    );
    expectProblem(
      await s.call(bob, 'PATCH', `/grants/${grantId}`, { secrets: true }),
      403,
      'owner_only',
    );
    const received = await s.call(bob, 'GET', '/grants?direction=received');
    expect(received.json().items.map((g: { id: string }) => g.id)).toEqual([grantId]);
    expect(received.json().items[0]).toMatchObject({
      object_name: 'alice-account',
      owner: { username: alice.username },
      grantee: { username: bob.username },
    });
    expect((await s.call(carol, 'GET', '/grants?direction=received')).json().items).toEqual([]);
    expect((await s.call(bob, 'DELETE', `/grants/${grantId}`)).statusCode).toBe(204);
    expect((await s.call(bob, 'GET', `/accounts/${accountId}`)).statusCode).toBe(404);
    expect(await auditActions(alice, accountId)).toContain(`grant.delete:${bob.id}`);
  });
});

describe('share policies and parallel plans', () => {
  it('keeps a grantee’s query parallel on PostgreSQL (the grant functions are parallel safe)', async () => {
    if (s.t.database.raw.kind === 'pglite') return; // the embedded database plans no workers
    const vm = await created(alice, '/vms', { name: 'parallel-vm' });
    const grant = await share({ object_type: 'vm', object_id: vm, grantee: bob.username });
    const settings = [
      sql`SELECT set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true), set_config('min_parallel_table_scan_size', '0', true)`,
    ];
    const [forced] = await asUser<{ setting: string }>(
      bob,
      sql`SELECT name AS setting FROM pg_settings WHERE name IN ('debug_parallel_query', 'force_parallel_mode')`,
    );
    const force = sql.raw(`SET LOCAL ${forced?.setting ?? 'force_parallel_mode'} = on`);
    const plan = await asUser<{ 'QUERY PLAN': string }>(
      bob,
      ...settings,
      force,
      sql`EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM vms`,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Gather/);
    const rows = await asUser<{ id: string }>(bob, ...settings, force, sql`SELECT id FROM vms`);
    expect(rows.map((r) => r.id).sort()).toEqual([bobsVm, vm].sort());
    expect((await s.call(alice, 'DELETE', `/grants/${grant.id}`)).statusCode).toBe(204);
  });
});

describe('grants: bad input and limits', () => {
  it('answers clear 4xx problems', async () => {
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vmAlone,
        grantee: 'nobody-by-this-name',
      }),
      404,
      'grantee_not_found',
    );
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vmAlone,
        grantee: alice.username,
      }),
      400,
      'grantee_is_owner',
    );
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vmAlone,
        grantee: bob.username,
        secrets: true,
      }),
      400,
      'secrets_accounts_only',
    );
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: randomUUID(),
        grantee: bob.username,
      }),
      404,
      'not_found',
    );
    // The object type must match the object.
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'account',
        object_id: vmAlone,
        grantee: bob.username,
      }),
      404,
      'not_found',
    );
    await share({ object_type: 'vm', object_id: vmAlone, grantee: bob.username.toUpperCase() });
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vmAlone,
        grantee: bob.username,
      }),
      409,
      'grant_exists',
    );
    expectProblem(
      await s.call(alice, 'POST', '/grants', { object_type: 'vm', object_id: vmAlone }),
      400,
      'validation_error',
    );
  });

  it('caps the grants of one object at 100 (422 too_many_grants), in the API and the database', async () => {
    const vm = await created(alice, '/vms', { name: 'popular-vm' });
    // 100 users and grants made directly (a login each would take minutes).
    const names: string[] = [];
    for (let i = 0; i < 101; i++) names.push(`cap-${randomUUID().slice(0, 8)}-${i}`);
    const users = await ownerQuery<{ id: string; username: string }>(
      s.t.database,
      `INSERT INTO users (username, email, password_hash)
       SELECT n, n || '@example.com', 'x' FROM unnest($1::text[]) n RETURNING id, username`,
      [names],
    );
    await ownerQuery(
      s.t.database,
      `INSERT INTO grants (owner_id, grantee_id, object_type, object_id)
       SELECT $1, u, 'vm', $2 FROM unnest($3::uuid[]) u`,
      [alice.id, vm, users.slice(0, 100).map((u) => u.id)],
    );
    const last = users[100];
    expectProblem(
      await s.call(alice, 'POST', '/grants', {
        object_type: 'vm',
        object_id: vm,
        grantee: last?.username,
      }),
      422,
      'too_many_grants',
    );
    await expect(
      ownerQuery(
        s.t.database,
        `INSERT INTO grants (owner_id, grantee_id, object_type, object_id) VALUES ($1, $2, 'vm', $3)`,
        [alice.id, last?.id, vm],
      ),
    ).rejects.toThrow(/too many grants/);
    expect(
      (await s.call(alice, 'GET', `/grants?object_id=${vm}&limit=500`)).json().items,
    ).toHaveLength(100);
    // Deleting the object deletes its grants.
    expect((await s.call(alice, 'DELETE', `/vms/${vm}`)).statusCode).toBe(204);
    const left = await ownerQuery<{ n: number }>(
      s.t.database,
      'SELECT count(*)::int AS n FROM grants WHERE object_id = $1',
      [vm],
    );
    expect(left[0]?.n).toBe(0);
  });
});
