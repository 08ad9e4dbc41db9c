import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/auth-helpers.js';
import {
  bearer,
  createToken,
  createUser,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { allAuditText, expectProblem, ownerQuery, searchableText } from './helpers/support.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** Personal access tokens (/api/v1/tokens): shown once, hashed at rest, scoped, per user. */

let t: TestApp;
let app: FastifyInstance;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
/** Every password and token this file uses; none of them may ever reach the audit log. */
const secrets: string[] = [];
/** Every personal token created in this file. */
const issued: string[] = [];

interface TokenDto {
  id: string;
  name: string;
  prefix: string;
  scopes: Array<'read' | 'write'>;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  created_at: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function call(method: Method, url: string, token?: string | null, payload?: object) {
  return app.inject({
    method,
    url,
    ...(token ? { headers: bearer(token) } : {}),
    ...(payload === undefined ? {} : { payload }),
  });
}

function remember(user: TestUser): TestUser {
  secrets.push(user.password, user.accessToken, user.refreshToken);
  return user;
}

async function newToken(
  user: TestUser,
  options: { scopes?: Array<'read' | 'write'>; name?: string; expires_in_days?: number } = {},
): Promise<{ id: string; token: string }> {
  const made = await createToken(app, user, options);
  secrets.push(made.token);
  issued.push(made.token);
  return made;
}

async function listTokens(user: TestUser): Promise<TokenDto[]> {
  const res = await call('GET', '/api/v1/tokens', user.accessToken);
  expect(res.statusCode, res.body).toBe(200);
  expect(Object.keys(res.json())).toEqual(['items']);
  return res.json().items;
}

/** Status of GET /auth/me with a bearer token: 200 while it works, 401 once it does not. */
async function meStatus(token: string): Promise<number> {
  return (await call('GET', '/api/v1/auth/me', token)).statusCode;
}

beforeAll(async () => {
  t = await createTestApp();
  app = t.app;
  admin = remember(await setupAdmin(app));
  alice = remember(await createUser(app, admin));
  bob = remember(await createUser(app, admin));
});

afterAll(async () => {
  await t?.close();
});

describe('creating and listing tokens', () => {
  it('shows the token (adb_pat_…) once, in the 201 answer only', async () => {
    const name = randomName('script');
    const res = await call('POST', '/api/v1/tokens', alice.accessToken, {
      name,
      scopes: ['read', 'write'],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    secrets.push(body.token);
    issued.push(body.token);
    expect(body.token).toMatch(/^adb_pat_[A-Za-z0-9_-]{40,}$/);
    expect(body).toMatchObject({
      name,
      scopes: ['read', 'write'],
      prefix: body.token.slice(0, 20),
      expires_at: null,
      last_used_at: null,
    });
    expect(body.token.length).toBeGreaterThan(body.prefix.length + 30);

    const res2 = await call('GET', '/api/v1/tokens', alice.accessToken);
    expect(res2.statusCode).toBe(200);
    const items: TokenDto[] = res2.json().items;
    const listed = items.find((i) => i.id === body.id);
    expect(listed).toMatchObject({ name, prefix: body.prefix, scopes: ['read', 'write'] });
    expect(res2.body).not.toContain(body.token);
    expect(res2.body).not.toContain(body.token.slice(20));
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual([
        'created_at',
        'expires_at',
        'id',
        'last_used_at',
        'last_used_ip',
        'name',
        'prefix',
        'scopes',
      ]);
    }
    // A second creation answers a different token; the first is never shown again.
    const other = await newToken(alice);
    expect(other.token).not.toBe(body.token);
  });

  it('works as Authorization: Bearer for its owner', async () => {
    const { id, token } = await newToken(alice, { scopes: ['read'] });
    const res = await call('GET', '/api/v1/auth/me', token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      user: { id: alice.id, username: alice.username },
      auth: { via: 'token', scopes: ['read'], token_id: id },
    });
    // A lowercase scheme is still a bearer token.
    const lower = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `bearer ${token}` },
    });
    expect(lower.statusCode).toBe(200);
  });

  it('lists name, prefix, scopes, expiry and last use, newest first', async () => {
    const older = await newToken(alice, { name: randomName('older'), scopes: ['read'] });
    const newer = await newToken(alice, {
      name: randomName('newer'),
      scopes: ['read', 'write'],
      expires_in_days: 30,
    });
    let items = await listTokens(alice);
    const ids = items.map((i) => i.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    const created = items.map((i) => Date.parse(i.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const n = items.find((i) => i.id === newer.id) as TokenDto;
    expect(n.scopes).toEqual(['read', 'write']);
    expect(n.prefix).toBe(newer.token.slice(0, 20));
    const expected = Date.now() + 30 * 86_400_000;
    expect(Math.abs(Date.parse(n.expires_at ?? '') - expected)).toBeLessThan(120_000);
    const o = items.find((i) => i.id === older.id) as TokenDto;
    expect(o).toMatchObject({ scopes: ['read'], expires_at: null, last_used_at: null });

    const before = Date.now();
    expect(await meStatus(older.token)).toBe(200);
    items = await listTokens(alice);
    const used = items.find((i) => i.id === older.id) as TokenDto;
    expect(used.last_used_at).not.toBeNull();
    expect(Date.parse(used.last_used_at ?? '')).toBeGreaterThanOrEqual(before - 5_000);
    expect(used.last_used_ip).toBe('127.0.0.1');
    expect((items.find((i) => i.id === newer.id) as TokenDto).last_used_at).toBeNull();
  });

  it('answers 409 token_name_taken for a second token of the same name (any case)', async () => {
    const name = randomName('Deploy');
    await newToken(alice, { name });
    for (const again of [name, name.toUpperCase(), name.toLowerCase()]) {
      const res = await call('POST', '/api/v1/tokens', alice.accessToken, {
        name: again,
        scopes: ['read'],
      });
      expectProblem(res, 409, 'token_name_taken');
      expect(res.json().errors).toEqual([{ path: '/body/name', message: expect.any(String) }]);
      expect(res.body).not.toMatch(/api_tokens|constraint|duplicate key/i);
    }
    expect(
      (await listTokens(alice)).filter((i) => i.name.toLowerCase() === name.toLowerCase()),
    ).toHaveLength(1);
    // Another user may use the same name.
    const bobs = await newToken(bob, { name });
    expect(await meStatus(bobs.token)).toBe(200);
  });

  it('rejects bad bodies with 400 validation_error naming the field', async () => {
    const cases: Array<[object, string]> = [
      [{ scopes: ['read'] }, '/body/name'],
      [{ name: '', scopes: ['read'] }, '/body/name'],
      [{ name: 'x'.repeat(101), scopes: ['read'] }, '/body/name'],
      [{ name: 'n' }, '/body/scopes'],
      [{ name: 'n', scopes: [] }, '/body/scopes'],
      [{ name: 'n', scopes: ['admin'] }, '/body/scopes/0'],
      [{ name: 'n', scopes: ['read', 'read'] }, '/body/scopes'],
      [{ name: 'n', scopes: ['read'], expires_in_days: 0 }, '/body/expires_in_days'],
      [{ name: 'n', scopes: ['read'], expires_in_days: 3651 }, '/body/expires_in_days'],
      [{ name: 'n', scopes: ['read'], owner_id: bob.id }, '/body/owner_id'],
    ];
    for (const [body, path] of cases) {
      const res = await call('POST', '/api/v1/tokens', alice.accessToken, body);
      expectProblem(res, 400, 'validation_error');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await listTokens(alice)).map((i) => i.name)).not.toContain('n');
  });

  it('answers 401 on every /tokens route without credentials', async () => {
    const { id } = await newToken(alice);
    for (const [method, url] of [
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/tokens'],
      ['DELETE', `/api/v1/tokens/${id}`],
    ] as Array<[Method, string]>) {
      const res = await call(
        method,
        url,
        null,
        method === 'POST' ? { name: 'x', scopes: ['read'] } : undefined,
      );
      expectProblem(res, 401, 'unauthorized');
    }
    expect((await listTokens(alice)).map((i) => i.id)).toContain(id);
  });
});

describe('scopes', () => {
  it('read: GET works; POST, PATCH and DELETE answer 403 insufficient_scope and change nothing', async () => {
    const victim = await newToken(alice, { name: randomName('victim') });
    const ro = await newToken(alice, { scopes: ['read'] });
    expect(await meStatus(ro.token)).toBe(200);
    const list = await call('GET', '/api/v1/tokens', ro.token);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items.map((i: TokenDto) => i.id)).toContain(victim.id);

    expectProblem(
      await call('DELETE', `/api/v1/tokens/${victim.id}`, ro.token),
      403,
      'insufficient_scope',
    );
    expect(await meStatus(victim.token)).toBe(200);

    // An admin's read-only token is still read-only on the admin API.
    const adminRo = await newToken(admin, { scopes: ['read'] });
    expect((await call('GET', '/api/v1/users', adminRo.token)).statusCode).toBe(200);
    const username = randomName('viaro');
    const create = await call('POST', '/api/v1/users', adminRo.token, {
      username,
      email: `${username}@example.com`,
      password: randomPassword(),
    });
    expectProblem(create, 403, 'insufficient_scope');
    expectProblem(
      await call('PATCH', `/api/v1/users/${bob.id}`, adminRo.token, { role: 'admin' }),
      403,
      'insufficient_scope',
    );
    expectProblem(
      await call('DELETE', `/api/v1/users/${bob.id}`, adminRo.token),
      403,
      'insufficient_scope',
    );
    const users = await call('GET', `/api/v1/users?q=${username}`, admin.accessToken);
    expect(users.json().total).toBe(0);
    const bobNow = await call('GET', `/api/v1/users/${bob.id}`, admin.accessToken);
    expect(bobNow.json()).toMatchObject({ role: 'user', is_active: true });
  });

  it('write: a write token can write (and read)', async () => {
    const victim = await newToken(alice, { name: randomName('doomed') });
    const rw = await newToken(alice, { scopes: ['write'] });
    expect(await meStatus(rw.token)).toBe(200);
    const del = await call('DELETE', `/api/v1/tokens/${victim.id}`, rw.token);
    expect(del.statusCode, del.body).toBe(204);
    expect(await meStatus(victim.token)).toBe(401);

    const adminRw = await newToken(admin, { scopes: ['read', 'write'] });
    const username = randomName('viarw');
    const password = randomPassword();
    secrets.push(password);
    const create = await call('POST', '/api/v1/users', adminRw.token, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(create.statusCode, create.body).toBe(201);
  });

  it('a token cannot create tokens or change the password (403 session_required)', async () => {
    const rw = await newToken(alice, { scopes: ['read', 'write'] });
    const before = (await listTokens(alice)).length;
    expectProblem(
      await call('POST', '/api/v1/tokens', rw.token, {
        name: randomName('child'),
        scopes: ['read'],
      }),
      403,
      'session_required',
    );
    expect((await listTokens(alice)).length).toBe(before);

    const password = randomPassword();
    secrets.push(password);
    expectProblem(
      await call('POST', '/api/v1/auth/password', rw.token, {
        current_password: alice.password,
        new_password: password,
      }),
      403,
      'session_required',
    );
    expect((await login(app, { username: alice.username, password })).statusCode).toBe(401);
    const still = await login(app, alice);
    expect(still.statusCode, still.body).toBe(200);
    secrets.push(still.json().access_token, still.json().refresh_token);
    expect(await meStatus(alice.accessToken)).toBe(200);
  });
});

describe('when a token stops working', () => {
  it('an expired token answers 401', async () => {
    const { id, token } = await newToken(alice, { expires_in_days: 1 });
    expect(await meStatus(token)).toBe(200);
    // The API cannot issue an already-expired token, so move expires_at into the past with
    // raw SQL as the schema owner (outside the request role); the server then must refuse it.
    await ownerQuery(
      t.database,
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [id],
    );
    // A change behind the API's back reaches its credential cache by notification.
    await eventually(async () => (await meStatus(token)) === 401, {
      what: 'expired token refused',
    });
    const res = await call('GET', '/api/v1/auth/me', token);
    expectProblem(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect((await call('GET', '/api/v1/tokens', token)).statusCode).toBe(401);
  });

  it('a deleted token answers 401 at once', async () => {
    const { id, token } = await newToken(alice);
    expect(await meStatus(token)).toBe(200);
    const del = await call('DELETE', `/api/v1/tokens/${id}`, alice.accessToken);
    expect(del.statusCode, del.body).toBe(204);
    expect(del.body).toBe('');
    expectProblem(await call('GET', '/api/v1/auth/me', token), 401, 'invalid_token');
    expect((await listTokens(alice)).map((i) => i.id)).not.toContain(id);
    expectProblem(
      await call('DELETE', `/api/v1/tokens/${id}`, alice.accessToken),
      404,
      'not_found',
    );
  });

  it("a deactivated user's token answers 401", async () => {
    const carol = remember(await createUser(app, admin));
    const { token } = await newToken(carol);
    expect(await meStatus(token)).toBe(200);
    const off = await call('PATCH', `/api/v1/users/${carol.id}`, admin.accessToken, {
      is_active: false,
    });
    expect(off.statusCode, off.body).toBe(200);
    expectProblem(await call('GET', '/api/v1/auth/me', token), 401, 'invalid_token');
    expectProblem(await call('GET', '/api/v1/tokens', token), 401, 'invalid_token');
  });

  it("a token follows its owner's role change on the next request", async () => {
    const dave = remember(await createUser(app, admin));
    const { token } = await newToken(dave, { scopes: ['read'] });
    expectProblem(await call('GET', '/api/v1/users', token), 403, 'admin_only');
    const up = await call('PATCH', `/api/v1/users/${dave.id}`, admin.accessToken, {
      role: 'admin',
    });
    expect(up.statusCode, up.body).toBe(200);
    const asAdmin = await call('GET', '/api/v1/users', token);
    expect(asAdmin.statusCode, asAdmin.body).toBe(200);
    expect(asAdmin.json().total).toBeGreaterThanOrEqual(3);
    const down = await call('PATCH', `/api/v1/users/${dave.id}`, admin.accessToken, {
      role: 'user',
    });
    expect(down.statusCode, down.body).toBe(200);
    expectProblem(await call('GET', '/api/v1/users', token), 403, 'admin_only');
    const me = await call('GET', '/api/v1/auth/me', token);
    expect(me.json().user.role).toBe('user');
  });

  it('a malformed or tampered token answers 401', async () => {
    const { token } = await newToken(alice);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const bad = [
      `${token.slice(0, -1)}${last}`, // right prefix, wrong secret
      `${token.slice(0, 20)}`, // prefix only
      'adb_pat_short',
      `${token}x`,
      `adb_node_${token.slice(8)}`,
    ];
    for (const b of bad)
      expectProblem(await call('GET', '/api/v1/auth/me', b), 401, 'invalid_token');
    for (const header of [`Basic ${token}`, token, `Bearer ${token} extra`]) {
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: header },
      });
      expect(res.statusCode, header).toBe(401);
    }
    expect(await meStatus(token)).toBe(200);
  });

  it('a token in the query string is not accepted (401)', async () => {
    const { token } = await newToken(alice);
    for (const param of ['access_token', 'token', 'api_key']) {
      const res = await call('GET', `/api/v1/auth/me?${param}=${encodeURIComponent(token)}`);
      expectProblem(res, 401, 'unauthorized');
      const list = await call('GET', `/api/v1/tokens?${param}=${encodeURIComponent(token)}`);
      expect(list.statusCode).toBe(401);
    }
  });
});

describe("another user's tokens", () => {
  it("are invisible and undeletable (404) to another user; the owner's token keeps working", async () => {
    const a = await newToken(alice, { name: randomName('mine') });
    const b = await newToken(bob, { name: randomName('mine') });
    const bobRw = await newToken(bob, { scopes: ['read', 'write'] });

    for (const token of [bob.accessToken, bobRw.token]) {
      const res = await call('DELETE', `/api/v1/tokens/${a.id}`, token);
      expectProblem(res, 404, 'not_found');
    }
    expect(await meStatus(a.token)).toBe(200);
    expect((await listTokens(alice)).map((i) => i.id)).toContain(a.id);
    expectProblem(
      await call('DELETE', `/api/v1/tokens/${b.id}`, alice.accessToken),
      404,
      'not_found',
    );
    expect(await meStatus(b.token)).toBe(200);

    const bobs = await listTokens(bob);
    const alices = await listTokens(alice);
    expect(bobs.map((i) => i.id)).toContain(b.id);
    expect(alices.map((i) => i.id)).toContain(a.id);
    const aliceIds = new Set(alices.map((i) => i.id));
    expect(bobs.filter((i) => aliceIds.has(i.id))).toEqual([]);
    expect(JSON.stringify(bobs)).not.toContain(a.token.slice(0, 20));
    const viaToken = await call('GET', '/api/v1/tokens', bobRw.token);
    expect(viaToken.json().items.map((i: TokenDto) => i.id)).not.toContain(a.id);
  });

  it("may be deleted by an admin; the owner's token then stops working", async () => {
    const a = await newToken(alice, { name: randomName('revoked-by-admin') });
    expect(await meStatus(a.token)).toBe(200);
    // The admin's own list is the admin's own tokens only.
    expect((await listTokens(admin)).map((i) => i.id)).not.toContain(a.id);
    const del = await call('DELETE', `/api/v1/tokens/${a.id}`, admin.accessToken);
    expect(del.statusCode, del.body).toBe(204);
    expectProblem(await call('GET', '/api/v1/auth/me', a.token), 401, 'invalid_token');
    expect((await listTokens(alice)).map((i) => i.id)).not.toContain(a.id);
  });

  it('answers 400 for a token id that is not a UUID', async () => {
    expectProblem(
      await call('DELETE', '/api/v1/tokens/not-a-uuid', alice.accessToken),
      400,
      'validation_error',
    );
  });
});

describe('at rest', () => {
  it('the database keeps only a SHA-256 hash, never the token text', async () => {
    expect(issued.length).toBeGreaterThan(10);
    const rows = await ownerQuery(t.database, 'SELECT * FROM api_tokens');
    expect(rows.length).toBeGreaterThan(5);
    const text = rows.map(searchableText).join('\n');
    for (const token of issued) {
      expect(text.includes(token)).toBe(false);
      // Everything past the stored lookup prefix is secret.
      expect(text.includes(token.slice(20))).toBe(false);
    }
    const hashes = await ownerQuery<{ prefix: string; h: string }>(
      t.database,
      "SELECT prefix, encode(token_hash, 'hex') AS h FROM api_tokens",
    );
    const byPrefix = new Map(hashes.map((r) => [r.prefix, r.h]));
    let matched = 0;
    for (const token of issued) {
      const h = byPrefix.get(token.slice(0, 20));
      if (h === undefined) continue; // deleted since
      expect(h).toBe(createHash('sha256').update(token).digest('hex'));
      matched++;
    }
    expect(matched).toBeGreaterThan(5);
  });

  it('never writes a password or token used in this file into the audit log', async () => {
    const text = await allAuditText(t.database);
    expect(text).toContain('token.create');
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
    for (const token of issued) expect(text.includes(token.slice(20))).toBe(false);
  });
});
