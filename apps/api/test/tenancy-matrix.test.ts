import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createToken,
  createUser,
  randomName,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { fillPath, type Operation, operations, sample } from './helpers/openapi-operations.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The tenancy matrix, generated from the route table (the OpenAPI document Fastify builds
 * from it): for every route that takes an object id, user B gets 404 for user A's object and
 * A's object is unchanged; lists, search, export and bulk-delete never reach A's rows; an
 * admin sees both. A new route taking an id fails here until its resource has a factory.
 */
let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
const marker = randomName('aliceonly');
/** Alice's object per resource (first path segment under /api/v1). */
const ids: Record<string, string> = {};

/** How to make one of Alice's objects for each resource that has routes taking an id. */
const factories: Record<string, (user: TestUser) => Promise<string>> = {
  accounts: async (u) =>
    (
      await post(u, '/accounts', {
        username: marker,
        external_id: marker,
        password: 'secret-password',
        shared_secret: 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=',
        tags: [marker],
      })
    ).id,
  hardware: async (u) =>
    (
      await post(u, '/hardware', {
        pcname: marker,
        mac_address: '02:AA:00:00:00:01',
        tags: [marker],
      })
    ).id,
  cards: async (u) => (await post(u, '/cards', { code1: `${marker}-CODE`, tags: [marker] })).id,
  vms: async (u) => (await post(u, '/vms', { name: marker, status: 'running', tags: [marker] })).id,
  'proxmox-nodes': async (u) =>
    (await post(u, '/proxmox-nodes', { name: marker, tags: [marker] })).id,
  tokens: async (u) => (await createToken(t.app, u, { name: marker })).id,
  users: async (u) => u.id,
};

/** Routes an admin-only guard answers before any object is looked up. */
const adminOnly = (op: Operation) => op.path.startsWith('/api/v1/users');

async function post(user: TestUser, url: string, payload: object): Promise<{ id: string }> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: bearer(user.accessToken),
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const call = (user: TestUser, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url,
    headers: bearer(user.accessToken),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const resourceOf = (op: Operation) => op.path.split('/')[3] ?? '';
let idRoutes: Operation[];

/** Alice's objects as Alice sees them, to compare before and after. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [resource, id] of Object.entries(ids)) {
    if (resource === 'users' || resource === 'tokens') continue;
    const res = await call(alice, 'GET', `/api/v1/${resource}/${id}`);
    expect(res.statusCode).toBe(200);
    out[resource] = res.body;
  }
  out.tokens = (await call(alice, 'GET', '/api/v1/tokens')).body;
  out.me = JSON.stringify((await call(alice, 'GET', '/api/v1/auth/me')).json().user);
  return out;
}

beforeAll(async () => {
  t = await createTestApp();
  admin = await setupAdmin(t.app);
  alice = await createUser(t.app, admin);
  bob = await createUser(t.app, admin);
  idRoutes = operations(t.app).filter(
    (op) => op.path.startsWith('/api/v1/') && op.path.includes('{id}'),
  );
  for (const resource of new Set(idRoutes.map(resourceOf))) {
    const make = factories[resource];
    if (make) ids[resource] = await make(alice);
  }
});
afterAll(async () => t?.close());

describe('tenancy matrix (from the route table)', () => {
  it('has a factory for every resource with routes taking an id', () => {
    expect(idRoutes.length).toBeGreaterThan(20);
    const missing = [...new Set(idRoutes.map(resourceOf))].filter((r) => !factories[r]);
    expect(missing, `add a factory for: ${missing.join(', ')}`).toEqual([]);
  });

  it("answers 404 to B for every route on A's objects, and A's objects stay as they were", async () => {
    const before = await snapshot();
    const results: string[] = [];
    for (const op of idRoutes) {
      const url = fillPath(op.path, { id: ids[resourceOf(op)] ?? '', vmid: 101 });
      const body = op.body ? sample(op.body.schema) : undefined;
      const res = await call(bob, op.method, url, body);
      const expected = adminOnly(op) ? 403 : 404;
      results.push(
        `${op.method} ${op.path} → ${res.statusCode}${res.statusCode === expected ? '' : ` (expected ${expected}: ${res.body})`}`,
      );
    }
    expect(results.filter((r) => r.includes('expected'))).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("never shows A's rows to B in lists, search, export or bulk-delete", async () => {
    const leaks: string[] = [];
    for (const resource of ['accounts', 'hardware', 'cards', 'vms', 'proxmox-nodes']) {
      const id = ids[resource] ?? '';
      for (const url of [
        `/api/v1/${resource}`,
        `/api/v1/${resource}?q=${marker}`,
        `/api/v1/${resource}?tag=${marker}`,
        `/api/v1/${resource}/export?format=json`,
        `/api/v1/${resource}/export?format=csv`,
      ]) {
        const res = await call(bob, 'GET', url);
        expect(res.statusCode, url).toBe(200);
        if (res.body.includes(id) || res.body.includes(marker)) leaks.push(url);
      }
      const del = await call(bob, 'POST', `/api/v1/${resource}/bulk-delete`, { ids: [id] });
      expect(del.json(), resource).toEqual({ deleted: 0, not_found: [id] });
    }
    for (const url of [
      '/api/v1/audit',
      '/api/v1/dashboard',
      '/api/v1/hardware/collisions',
      '/api/v1/tokens',
    ]) {
      const res = await call(bob, 'GET', url);
      if (
        res.body.includes(marker) ||
        Object.values(ids).some((id) => id !== alice.id && res.body.includes(id))
      )
        leaks.push(url);
    }
    expect(leaks).toEqual([]);
    expect(
      (await call(bob, 'POST', '/api/v1/accounts/claim', { filter: { tags: [marker] } }))
        .statusCode,
    ).toBe(404);
    expect(
      (await call(bob, 'POST', '/api/v1/cards/claim', { filter: { tags: [marker] } })).statusCode,
    ).toBe(404);
    expect(
      (await call(bob, 'POST', '/api/v1/cards/lookup', { code: `${marker}-CODE` })).json(),
    ).toEqual({ items: [], total: 0 });
    // …while Alice finds it (so the line above means something).
    expect(
      (await call(alice, 'POST', '/api/v1/cards/lookup', { code: `${marker}-CODE` })).json().total,
    ).toBe(1);
  });

  it("lets an admin see both users' objects", async () => {
    const bobVm = await post(bob, '/vms', { name: 'bob-vm' });
    for (const [resource, id] of Object.entries(ids)) {
      if (resource === 'tokens') continue;
      expect((await call(admin, 'GET', `/api/v1/${resource}/${id}`)).statusCode, resource).toBe(
        200,
      );
    }
    const vms = (await call(admin, 'GET', '/api/v1/vms'))
      .json()
      .items.map((v: { id: string }) => v.id);
    expect(vms).toEqual(expect.arrayContaining([ids.vms, bobVm.id]));
  });

  it("refuses links to another user's objects even when their ids are known", async () => {
    const refused: string[] = [];
    const attempts: Array<[string, object]> = [
      ['/hardware', { account_id: ids.accounts }],
      ['/hardware', { vm_id: ids.vms }],
      ['/vms', { account_id: ids.accounts }],
      ['/vms', { node_id: ids['proxmox-nodes'] }],
      ['/cards', { code1: randomName('c'), account_id: ids.accounts }],
    ];
    for (const [url, body] of attempts) {
      const res = await call(bob, 'POST', `/api/v1${url}`, body);
      if (res.statusCode === 422 && res.json().code === 'invalid_reference') refused.push(url);
    }
    expect(refused).toHaveLength(attempts.length);
  });
});
