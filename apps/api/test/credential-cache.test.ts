import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CredentialCache } from '../src/auth/credential-cache.js';
import { applyAuthNotification } from '../src/auth/credential-listener.js';
import { openDatabase } from '../src/db/client.js';
import { eventually, ownerUpdate } from './helpers/auth-helpers.js';
import {
  bearer,
  createToken,
  createUser,
  login,
  randomName,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { type TwoUsers, twoUsers } from './helpers/two-users.js';

/**
 * The per-process credential cache (issue 15): a request is answered from it, and every
 * change that takes a credential away (logout, password change, role change, deactivation,
 * token revocation, node key rotation) takes effect on the very next request, in the process
 * that made it at once and in another process as soon as migration 0014's notification
 * arrives. Each test first shows that the cache was serving the credential (a hit), so that
 * it cannot pass because nothing was cached.
 */

let s: TwoUsers;

beforeAll(async () => {
  s = await twoUsers();
  await eventually(async () => s.t.app.deps.credentials.live, { what: 'cache live' });
});
afterAll(async () => s?.t.close());

const get = (app: FastifyInstance, token: string, url = '/api/v1/auth/me') =>
  app.inject({ method: 'GET', url, headers: bearer(token) });

/** Two requests with the token, the second answered from app's cache. */
async function warm(app: FastifyInstance, token: string, url = '/api/v1/auth/me') {
  expect((await get(app, token, url)).statusCode).toBe(200);
  const hits = app.deps.credentials.stats.hits;
  expect((await get(app, token, url)).statusCode).toBe(200);
  expect(app.deps.credentials.stats.hits, 'the second request was a cache hit').toBe(hits + 1);
}

async function freshSession(user: TestUser): Promise<string> {
  const res = await login(s.t.app, user);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().access_token as string;
}

describe('in the process that makes the change, the very next request', () => {
  it('is refused after logout', async () => {
    const token = await freshSession(s.alice);
    await warm(s.t.app, token);
    const out = await s.t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(token),
    });
    expect(out.statusCode).toBe(204);
    expect((await get(s.t.app, token)).statusCode).toBe(401);
  });

  it('is refused for the other sessions after a password change', async () => {
    const user = await createUser(s.t.app, s.admin);
    const other = await freshSession(user);
    await warm(s.t.app, other);
    await warm(s.t.app, user.accessToken);
    const changed = await s.t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(user.accessToken),
      payload: { current_password: user.password, new_password: `${user.password} new` },
    });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await get(s.t.app, other)).statusCode).toBe(401);
    expect((await get(s.t.app, user.accessToken)).statusCode).toBe(200);
  });

  it('sees a role change both ways', async () => {
    const user = await createUser(s.t.app, s.admin);
    await warm(s.t.app, user.accessToken);
    expect((await get(s.t.app, user.accessToken, '/api/v1/users')).statusCode).toBe(403);
    const patch = (role: 'admin' | 'user') =>
      s.t.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers: bearer(s.admin.accessToken),
        payload: { role },
      });
    expect((await patch('admin')).statusCode).toBe(200);
    expect((await get(s.t.app, user.accessToken, '/api/v1/users')).statusCode).toBe(200);
    await warm(s.t.app, user.accessToken, '/api/v1/users');
    expect((await patch('user')).statusCode).toBe(200);
    expect((await get(s.t.app, user.accessToken, '/api/v1/users')).statusCode).toBe(403);
  });

  it('is refused after deactivation, for sessions and tokens', async () => {
    const user = await createUser(s.t.app, s.admin);
    const pat = await createToken(s.t.app, user);
    await warm(s.t.app, user.accessToken);
    await warm(s.t.app, pat.token);
    const res = await s.t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(s.admin.accessToken),
      payload: { is_active: false },
    });
    expect(res.statusCode).toBe(200);
    expect((await get(s.t.app, user.accessToken)).statusCode).toBe(401);
    expect((await get(s.t.app, pat.token)).statusCode).toBe(401);
  });

  it('is refused after a personal access token is revoked', async () => {
    const pat = await createToken(s.t.app, s.bob);
    await warm(s.t.app, pat.token);
    const del = await s.t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${pat.id}`,
      headers: bearer(s.bob.accessToken),
    });
    expect(del.statusCode).toBe(204);
    expect((await get(s.t.app, pat.token)).statusCode).toBe(401);
  });

  it("refuses a node's old key after rotation, and any key of a deleted node", async () => {
    const made = await s.call(s.alice, 'POST', '/proxmox-nodes', { name: randomName('pve') });
    expect(made.statusCode, made.body).toBe(201);
    const node = made.json() as { id: string; api_key: string };
    await warm(s.t.app, node.api_key, '/api/v1/agent/config');
    const rotated = await s.call(s.alice, 'POST', `/proxmox-nodes/${node.id}/rotate-key`);
    expect(rotated.statusCode).toBe(200);
    expect((await get(s.t.app, node.api_key, '/api/v1/agent/config')).statusCode).toBe(401);
    const key = rotated.json().api_key as string;
    await warm(s.t.app, key, '/api/v1/agent/config');
    expect((await s.call(s.alice, 'DELETE', `/proxmox-nodes/${node.id}`)).statusCode).toBe(204);
    expect((await get(s.t.app, key, '/api/v1/agent/config')).statusCode).toBe(401);
  });

  it('hears of a change made behind its back (as the owner, like the CLI) by notification', async () => {
    const user = await createUser(s.t.app, s.admin);
    await warm(s.t.app, user.accessToken);
    await ownerUpdate(s.t.database, 'UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    await eventually(async () => (await get(s.t.app, user.accessToken)).statusCode === 401, {
      what: 'deactivation heard',
    });
  });
});

describe('the cache itself', () => {
  it('serves nothing and keeps nothing while it is not live', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    const lookup = () =>
      cache.lookup({
        key: 'k',
        load: async () => ++loads,
        keep: () => ({ userId: '00000000-0000-4000-8000-000000000001' }),
      });
    await lookup();
    await lookup();
    expect(loads).toBe(2);
    cache.setLive(true);
    await lookup();
    await lookup();
    expect(loads).toBe(3);
    cache.setLive(false);
    await lookup();
    expect(loads).toBe(4);
    expect(cache.size).toBe(0);
  });

  it('drops entries by user, node and token id, and keeps no answer that overlapped a drop', async () => {
    const cache = new CredentialCache({ maxEntries: 2 });
    cache.setLive(true);
    const user = '00000000-0000-4000-8000-000000000001';
    const node = '00000000-0000-4000-8000-000000000002';
    let release: () => void = () => {};
    const slow = cache.lookup({
      key: 'slow',
      load: () => new Promise<number>((r) => (release = () => r(1))),
      keep: () => ({ userId: user }),
    });
    applyAuthNotification(cache, JSON.stringify({ kind: 'user', user_id: user, id: user }));
    release();
    await slow;
    expect(cache.size, 'a lookup that overlapped a drop is not kept').toBe(0);
    await cache.lookup({
      key: 'n',
      load: async () => 1,
      keep: () => ({ userId: user, nodeId: node }),
    });
    expect(cache.size).toBe(1);
    applyAuthNotification(cache, JSON.stringify({ kind: 'node', user_id: user, id: node }));
    expect(cache.size).toBe(0);
    for (const key of ['a', 'b', 'c']) {
      await cache.lookup({ key, load: async () => 1, keep: () => ({ userId: user }) });
    }
    expect(cache.size, 'bounded').toBe(2);
    applyAuthNotification(cache, 'not json');
    expect(cache.size).toBe(0);
  });

  it('asks again after its maximum age', async () => {
    let now = 0;
    const cache = new CredentialCache({ maxAgeMs: 1000, now: () => now });
    cache.setLive(true);
    let loads = 0;
    const lookup = () =>
      cache.lookup({ key: 'k', load: async () => ++loads, keep: () => ({ userId: 'u' }) });
    await lookup();
    now = 999;
    await lookup();
    expect(loads).toBe(1);
    now = 1000;
    await lookup();
    expect(loads).toBe(2);
  });
});

describe.skipIf(!inject('pgTemplate'))(
  'on PostgreSQL, with the LISTEN connection and a second API process',
  () => {
    let b: TestApp;

    beforeAll(async () => {
      const database = await openDatabase({ url: s.t.database.url ?? '', poolMax: 3 });
      b = await createTestApp({
        database: {
          ...database,
          kind: 'postgres',
          url: s.t.database.url,
          drop: () => database.close(),
        },
        config: { jwtSecret: s.t.config.jwtSecret, secretKey: s.t.config.secretKey },
      });
      await eventually(async () => b.app.deps.credentials.live, { what: 'B live' });
    });
    afterAll(async () => {
      await b?.close();
      await b?.database.close();
    });

    /** Polls B until it refuses (the notification's delivery), with a deadline. */
    const refusedByB = (token: string, url = '/api/v1/auth/me') =>
      eventually(async () => (await get(b.app, token, url)).statusCode === 401, {
        what: 'refused by process B',
      });

    it('a logout through process A is refused by process B', async () => {
      const token = await freshSession(s.alice);
      await warm(b.app, token);
      const out = await s.t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(token),
      });
      expect(out.statusCode).toBe(204);
      await refusedByB(token);
    });

    it('a deactivation, a token revocation and a key rotation through A reach B', async () => {
      const user = await createUser(s.t.app, s.admin);
      const pat = await createToken(s.t.app, s.bob);
      const made = await s.call(s.bob, 'POST', '/proxmox-nodes', { name: randomName('pve') });
      const node = made.json() as { id: string; api_key: string };
      await warm(b.app, user.accessToken);
      await warm(b.app, pat.token);
      await warm(b.app, node.api_key, '/api/v1/agent/config');

      await s.t.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers: bearer(s.admin.accessToken),
        payload: { is_active: false },
      });
      await refusedByB(user.accessToken);
      await s.call(s.bob, 'DELETE', `/tokens/${pat.id}`);
      await refusedByB(pat.token);
      await s.call(s.bob, 'POST', `/proxmox-nodes/${node.id}/rotate-key`);
      await refusedByB(node.api_key, '/api/v1/agent/config');
    });

    it('serves nothing while its LISTEN connection is down, and caches again once it is back', async () => {
      const user = await createUser(s.t.app, s.admin);
      await warm(b.app, user.accessToken);
      // Cut every LISTEN connection of the database (A's and B's): both stop caching.
      await ownerUpdate(
        s.t.database,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'accountdb-events' AND datname = current_database()",
      );
      await eventually(async () => !b.app.deps.credentials.live, { what: 'B not live' });
      const hits = b.app.deps.credentials.stats.hits;
      expect((await get(b.app, user.accessToken)).statusCode).toBe(200);
      // A change no notification can announce now: refused at once all the same.
      await ownerUpdate(s.t.database, 'UPDATE users SET is_active = false WHERE id = $1', [
        user.id,
      ]);
      expect((await get(b.app, user.accessToken)).statusCode).toBe(401);
      expect(b.app.deps.credentials.stats.hits, 'no answer from the cache').toBe(hits);
      expect(b.app.deps.credentials.size).toBe(0);
      // The listener reconnects (after 1 s) and the cache is live again.
      await eventually(async () => b.app.deps.credentials.live, { deadlineMs: 10_000 });
      const other = await createUser(s.t.app, s.admin);
      await warm(b.app, other.accessToken);
    });
  },
);
