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
import { SoftAuthenticator } from './helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The tenancy matrix, generated from the route table (the OpenAPI document Fastify builds
 * from it): for every route that takes an object id, user B gets 404 for user A's object and
 * A's object is unchanged; lists, search, export and bulk-delete never reach A's rows; an
 * admin sees their own objects unless scope=all (everyone's, each with its owner), reads A's
 * by a direct link, and reveals A's secrets only with a reason. A new route taking an id fails here until its resource has a factory.
 */
let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
/** Alice shares her account, VM and node with Grace (the sharing columns below). */
let grace: TestUser;
/** The user of Alice's grant object (a share of another VM of hers). */
let other: TestUser;
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
  grants: async (u) => {
    const vm = await post(u, '/vms', { name: randomName('granted') });
    return (
      await post(u, '/grants', { object_type: 'vm', object_id: vm.id, grantee: other.username })
    ).id;
  },
  users: async (u) => u.id,
  // /auth/mfa/passkeys/{id}: a passkey of the user's (Settings → Security).
  auth: async (u) => {
    const options = await post200(u, '/auth/mfa/passkeys/options', {});
    const auth = new SoftAuthenticator({
      id: t.config.webauthn.rpId,
      origin: t.config.webauthn.origins[0] ?? '',
    });
    const created = await post(u, '/auth/mfa/passkeys', {
      name: marker,
      challenge_id: options.challenge_id,
      credential: auth.register(options.options),
    });
    return (created as unknown as { passkey: { id: string } }).passkey.id;
  },
};

/** The body of an object of the resource (the admin's own, in the admin-scope column). */
function ownBody(resource: string, name: string): object {
  switch (resource) {
    case 'accounts':
      return { username: name };
    case 'hardware':
      return { pcname: name, mac_address: '02:AA:00:00:00:02' };
    case 'cards':
      return { code1: `${name}-CODE` };
    case 'vms':
      return { name };
    default:
      return { name };
  }
}

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

async function post200(user: TestUser, url: string, payload: object) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: bearer(user.accessToken),
    payload,
  });
  expect(res.statusCode, res.body).toBe(200);
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
    if (
      resource === 'users' ||
      resource === 'tokens' ||
      resource === 'grants' ||
      resource === 'auth'
    )
      continue;
    const res = await call(alice, 'GET', `/api/v1/${resource}/${id}`);
    expect(res.statusCode).toBe(200);
    out[resource] = res.body;
  }
  out.tokens = (await call(alice, 'GET', '/api/v1/tokens')).body;
  out.grants = (await call(alice, 'GET', '/api/v1/grants')).body;
  out.passkeys = (await call(alice, 'GET', '/api/v1/auth/mfa/passkeys')).body;
  out.me = JSON.stringify((await call(alice, 'GET', '/api/v1/auth/me')).json().user);
  return out;
}

beforeAll(async () => {
  t = await createTestApp();
  admin = await setupAdmin(t.app);
  alice = await createUser(t.app, admin);
  bob = await createUser(t.app, admin);
  grace = await createUser(t.app, admin);
  other = await createUser(t.app, admin);
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

  it("admin scope: an admin's lists, searches, exports, dashboard and audit show their own objects; scope=all everyone's, each with its owner", async () => {
    const adminMarker = randomName('adminonly');
    const problems: string[] = [];
    for (const resource of ['accounts', 'hardware', 'cards', 'vms', 'proxmox-nodes']) {
      const aliceId = ids[resource] ?? '';
      const make = factories[resource];
      if (!make) continue;
      // The admin's own object of the resource, to tell "own" from "nothing at all".
      const own = await post(admin, `/${resource}`, ownBody(resource, adminMarker));
      for (const list of [
        `/api/v1/${resource}?limit=500`,
        `/api/v1/${resource}?q=${marker}`,
        `/api/v1/${resource}?tag=${marker}`,
        `/api/v1/${resource}/export?format=json`,
        `/api/v1/${resource}/export?format=csv`,
      ]) {
        const mine = await call(admin, 'GET', list);
        if (mine.statusCode !== 200 || mine.body.includes(aliceId) || mine.body.includes(marker))
          problems.push(`${list}: an admin's default scope shows Alice's object`);
        const sep = list.includes('?') ? '&' : '?';
        // A card's code is not searchable text (its hint, currency and notes are): q finds no card here.
        const findable = !(resource === 'cards' && list.includes('?q='));
        const all = await call(admin, 'GET', `${list}${sep}scope=all`);
        if (all.statusCode !== 200 || (findable && !all.body.includes(aliceId)))
          problems.push(`${list}&scope=all: Alice's object missing (${all.statusCode})`);
        const narrowed = await call(admin, 'GET', `${list}${sep}owner_id=${alice.id}`);
        if (narrowed.statusCode !== 200 || (findable && !narrowed.body.includes(aliceId)))
          problems.push(`${list}&owner_id: Alice's object missing (${narrowed.statusCode})`);
        const refused = await call(bob, 'GET', `${list}${sep}scope=all`);
        if (refused.statusCode !== 403 || refused.json().code !== 'admin_only')
          problems.push(`${list}&scope=all as Bob: ${refused.statusCode}, expected 403 admin_only`);
      }
      // The admin's own list holds their own object, and no owner (it is theirs).
      const ownList = (await call(admin, 'GET', `/api/v1/${resource}?limit=500`)).json();
      const ownItem = ownList.items.find((i: { id: string }) => i.id === own.id);
      if (!ownItem || 'owner' in ownItem)
        problems.push(`${resource}: own list item ${JSON.stringify(ownItem)}`);
      // scope=all: every item carries its owner, id and username.
      const all = (await call(admin, 'GET', `/api/v1/${resource}?scope=all&limit=500`)).json();
      const aliceItem = all.items.find((i: { id: string }) => i.id === aliceId);
      const adminItem = all.items.find((i: { id: string }) => i.id === own.id);
      if (
        aliceItem?.owner?.id !== alice.id ||
        aliceItem?.owner?.username !== alice.username ||
        adminItem?.owner?.username !== admin.username
      )
        problems.push(
          `${resource}?scope=all: owners ${JSON.stringify([aliceItem?.owner, adminItem?.owner])}`,
        );
      // A direct link to Alice's object works for an admin, marked with its owner.
      const one = await call(admin, 'GET', `/api/v1/${resource}/${aliceId}`);
      if (one.statusCode !== 200 || one.json().owner?.id !== alice.id)
        problems.push(`GET ${resource}/{id} as admin: ${one.statusCode} ${one.body}`);
      const ownOne = await call(admin, 'GET', `/api/v1/${resource}/${own.id}`);
      if (ownOne.statusCode !== 200 || 'owner' in ownOne.json())
        problems.push(`GET own ${resource}/{id} as admin carries an owner`);
    }
    // Dashboard, audit and the card lookup follow the same scope.
    const dash = await call(admin, 'GET', '/api/v1/dashboard');
    if (dash.body.includes(marker) || dash.body.includes(ids.accounts ?? '-'))
      problems.push('dashboard: Alice in the admin default scope');
    const dashAll = (await call(admin, 'GET', '/api/v1/dashboard?scope=all')).json();
    if (!dashAll.nodes.items.some((n: { id: string }) => n.id === ids['proxmox-nodes']))
      problems.push("dashboard?scope=all: Alice's node missing");
    const audit = await call(admin, 'GET', '/api/v1/audit?limit=500');
    // The admin's own entries: about their data, and what they did (creating Alice, say).
    const aboutAlice = (e: { owner_id: string | null; actor_id: string | null }) =>
      e.owner_id === alice.id && e.actor_id !== admin.id;
    if (audit.json().items.some(aboutAlice))
      problems.push("audit: Alice's entries in the admin default scope");
    const auditAll = await call(admin, 'GET', '/api/v1/audit?limit=500&scope=all');
    if (!auditAll.json().items.some(aboutAlice))
      problems.push("audit?scope=all: Alice's entries missing");
    for (const url of ['/api/v1/dashboard?scope=all', '/api/v1/audit?scope=all']) {
      const refused = await call(bob, 'GET', url);
      if (refused.statusCode !== 403) problems.push(`${url} as Bob: ${refused.statusCode}`);
    }
    const collisions = (await call(admin, 'GET', '/api/v1/hardware/collisions')).statusCode;
    if (collisions !== 200) problems.push(`hardware/collisions as admin: ${collisions}`);
    const refusedCollisions = await call(bob, 'GET', '/api/v1/hardware/collisions?scope=all');
    if (refusedCollisions.statusCode !== 403)
      problems.push(`hardware/collisions?scope=all as Bob: ${refusedCollisions.statusCode}`);
    const code = { code: `${marker}-CODE` };
    if ((await call(admin, 'POST', '/api/v1/cards/lookup', code)).json().total !== 0)
      problems.push("cards/lookup: Alice's card in the admin default scope");
    if (
      (await call(admin, 'POST', '/api/v1/cards/lookup', { ...code, scope: 'all' })).json()
        .total !== 1
    )
      problems.push("cards/lookup scope=all: Alice's card missing");
    expect(problems).toEqual([]);
  });

  it("admin scope, route by route: every GET route on Alice's object answers an admin (reveals need a reason)", async () => {
    const results: string[] = [];
    for (const op of idRoutes.filter((o) => o.method === 'GET')) {
      const resource = resourceOf(op);
      // Tokens are their owner's only, admins included; grants are their two users' only.
      if (resource === 'tokens' || resource === 'grants') continue;
      const url = fillPath(op.path, { id: ids[resource] ?? '', vmid: 101 });
      const reveal = op.parameters.some((p) => p.in === 'query' && p.name === 'reason');
      const res = await call(admin, 'GET', url);
      // Reveals of another user's secrets: 400 without a reason (the card's own page answers
      // masked), 200 with one.
      const expected = reveal && !op.path.endsWith('/{id}') ? 400 : 200;
      results.push(
        `${op.method} ${op.path} → ${res.statusCode}${res.statusCode === expected ? '' : ` (expected ${expected}: ${res.body})`}`,
      );
      if (reveal) {
        const given = await call(
          admin,
          'GET',
          `${url}?reason=${encodeURIComponent('support ticket 42')}`,
        );
        results.push(
          `${op.method} ${op.path}?reason → ${given.statusCode}${given.statusCode === 200 ? '' : ` (expected 200: ${given.body})`}`,
        );
      }
    }
    expect(results.some((r) => r.includes('secrets'))).toBe(true);
    expect(results.filter((r) => r.includes('expected'))).toEqual([]);
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

/**
 * Sharing (migration 0020): Alice shares her account, VM and node with Grace, first read-only,
 * then read-write; Bob stays a stranger. The expected answer of every route taking an id of a
 * shareable resource, per permission, is written down here (a new route of these resources
 * fails until it has its line); every other route answers Grace as it answers a stranger.
 */
const SHARED: Record<string, { read: number; write: number }> = {
  'GET /api/v1/accounts/{id}': { read: 200, write: 200 },
  'PATCH /api/v1/accounts/{id}': { read: 403, write: 200 },
  'DELETE /api/v1/accounts/{id}': { read: 403, write: 403 },
  'POST /api/v1/accounts/{id}/release': { read: 403, write: 200 },
  'GET /api/v1/accounts/{id}/secrets': { read: 403, write: 403 }, // shared without secrets
  'GET /api/v1/accounts/{id}/totp': { read: 403, write: 403 },
  'GET /api/v1/accounts/{id}/events': { read: 200, write: 200 },
  'GET /api/v1/vms/{id}': { read: 200, write: 200 },
  'PATCH /api/v1/vms/{id}': { read: 403, write: 200 },
  'DELETE /api/v1/vms/{id}': { read: 403, write: 403 },
  'GET /api/v1/vms/{id}/events': { read: 200, write: 200 },
  'GET /api/v1/proxmox-nodes/{id}': { read: 200, write: 200 },
  'PATCH /api/v1/proxmox-nodes/{id}': { read: 403, write: 200 },
  'DELETE /api/v1/proxmox-nodes/{id}': { read: 403, write: 403 },
  'POST /api/v1/proxmox-nodes/{id}/rotate-key': { read: 403, write: 403 }, // keys are never shared
  'POST /api/v1/proxmox-nodes/{id}/sync-now': { read: 403, write: 403 },
  'PUT /api/v1/proxmox-nodes/{id}/whitelist': { read: 403, write: 200 },
  'POST /api/v1/proxmox-nodes/{id}/whitelist/{vmid}': { read: 403, write: 200 },
  'DELETE /api/v1/proxmox-nodes/{id}/whitelist/{vmid}': { read: 403, write: 200 },
};
const SHAREABLE: Record<string, string> = {
  accounts: 'account',
  vms: 'vm',
  'proxmox-nodes': 'proxmox_node',
};

describe('tenancy matrix: shares (grantee read, grantee write, stranger)', () => {
  it('answers every route taking an id as written down, for each permission', async () => {
    const grants: string[] = [];
    for (const [resource, objectType] of Object.entries(SHAREABLE)) {
      const res = await call(alice, 'POST', '/api/v1/grants', {
        object_type: objectType,
        object_id: ids[resource],
        grantee: grace.username,
      });
      expect(res.statusCode, res.body).toBe(201);
      grants.push(res.json().id);
    }
    const missing = idRoutes
      .filter((op) => resourceOf(op) in SHAREABLE && !SHARED[`${op.method} ${op.path}`])
      .map((op) => `${op.method} ${op.path}`);
    expect(missing, 'write down what a grantee gets').toEqual([]);
    const results: string[] = [];
    const pass = async (who: TestUser, label: string, expected: (op: Operation) => number) => {
      for (const op of idRoutes) {
        const url = fillPath(op.path, { id: ids[resourceOf(op)] ?? '', vmid: 101 });
        // A PATCH of a shared object sends a change that is valid as such (the generated
        // sample may name objects that do not exist, a 422 whoever asks).
        const body =
          op.method === 'PATCH' && resourceOf(op) in SHAREABLE
            ? { notes: `changed by ${label}` }
            : op.body
              ? sample(op.body.schema)
              : undefined;
        const res = await call(who, op.method, url, body);
        const want = expected(op);
        results.push(
          `${label} ${op.method} ${op.path} → ${res.statusCode}${res.statusCode === want ? '' : ` (expected ${want}: ${res.body})`}`,
        );
      }
    };
    const stranger = (op: Operation) => (adminOnly(op) ? 403 : 404);
    const shared = (perm: 'read' | 'write') => (op: Operation) =>
      SHARED[`${op.method} ${op.path}`]?.[perm] ?? stranger(op);
    await pass(bob, 'stranger', stranger);
    await pass(grace, 'read', shared('read'));
    for (const id of grants) {
      const res = await call(alice, 'PATCH', `/api/v1/grants/${id}`, { permission: 'write' });
      expect(res.statusCode, res.body).toBe(200);
    }
    await pass(grace, 'write', shared('write'));
    await pass(bob, 'stranger', stranger);
    expect(results.filter((r) => r.includes('expected'))).toEqual([]);
    // Nothing a grantee did deleted anything.
    for (const resource of Object.keys(SHAREABLE)) {
      expect((await call(alice, 'GET', `/api/v1/${resource}/${ids[resource]}`)).statusCode).toBe(
        200,
      );
    }
    // Revoked: the next request is a stranger's again.
    for (const id of grants) {
      expect((await call(alice, 'DELETE', `/api/v1/grants/${id}`)).statusCode).toBe(204);
    }
    results.length = 0;
    await pass(grace, 'revoked', stranger);
    expect(results.filter((r) => r.includes('expected'))).toEqual([]);
  });
});
