import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { users } from '../src/db/schema.js';
import { type Actor, withTenant } from '../src/db/tenant.js';
import { testDatabaseUrl } from './global-setup.js';
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
import { allAuditText, expectProblem, ownerQuery } from './helpers/support.js';
import { createTestApp, RELAXED_LIMITS, type TestApp } from './helpers/test-app.js';

/** The admin user API (/api/v1/users): contract, validation, admin-only access, last admin. */

let t: TestApp;
let app: FastifyInstance;
let admin: TestUser;
/** Every password and token this file uses; none of them may ever reach the audit log. */
const secrets: string[] = [];

interface UserDto {
  id: string;
  username: string;
  email: string;
  role: 'admin' | 'user';
  is_active: boolean;
  failed_login_count: number;
  locked_until: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}
interface UserList {
  items: UserDto[];
  next_cursor: string | null;
  total: number;
}
interface Created {
  id: string;
  username: string;
  email: string;
  password: string;
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

/** An admin creates a user (no login, so no session). */
async function makeUser(
  options: { username?: string; email?: string; role?: 'admin' | 'user'; password?: string } = {},
): Promise<Created> {
  const username = options.username ?? randomName('user');
  const email = options.email ?? `${username}@example.com`;
  const password = options.password ?? randomPassword();
  secrets.push(password);
  const res = await call('POST', '/api/v1/users', admin.accessToken, {
    username,
    email,
    password,
    ...(options.role ? { role: options.role } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id, username, email, password };
}

async function getUser(id: string): Promise<UserDto> {
  const res = await call('GET', `/api/v1/users/${id}`, admin.accessToken);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function list(query: string, token = admin.accessToken): Promise<UserList> {
  const res = await call('GET', `/api/v1/users${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function patch(id: string, body: object, token = admin.accessToken) {
  return call('PATCH', `/api/v1/users/${id}`, token, body);
}

/** Status of GET /auth/me with a bearer token: 200 while it works, 401 once it does not. */
async function meStatus(token: string): Promise<number> {
  return (await call('GET', '/api/v1/auth/me', token)).statusCode;
}

/** Makes the file's admin the only active admin by demoting every other active one. */
async function demoteOtherAdmins(): Promise<void> {
  const admins = await list('?role=admin&is_active=true&limit=500');
  for (const u of admins.items) {
    if (u.id === admin.id) continue;
    const res = await patch(u.id, { role: 'user' });
    expect(res.statusCode, res.body).toBe(200);
  }
  const left = await list('?role=admin&is_active=true');
  expect(left.items.map((u) => u.id)).toEqual([admin.id]);
}

/** Fails the user's logins until the lockout (5 consecutive failures by default) sets in. */
async function lockOut(username: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await login(app, { username, password: 'definitely the wrong password' });
    expect(res.statusCode, res.body).toBe(401);
  }
}

beforeAll(async () => {
  t = await createTestApp();
  app = t.app;
  admin = remember(await setupAdmin(app));
});

afterAll(async () => {
  await t?.close();
});

describe('GET /users', () => {
  // Hex tags: letters a-f and digits, so the order below holds under any collation.
  const tag = randomBytes(4).toString('hex');
  const ordered = ['alpha', 'Bravo', 'charlie', 'Delta', 'echo'].map((n) => `${n}${tag}`);
  const byName = new Map<string, string>();

  beforeAll(async () => {
    // Created out of order, in mixed case.
    for (const i of [3, 0, 4, 1, 2]) {
      const username = ordered[i] as string;
      byName.set(username, (await makeUser({ username })).id);
    }
  });

  it('answers {items, next_cursor, total}, ordered by username ignoring case', async () => {
    const body = await list(`?q=${tag}`);
    expect(Object.keys(body).sort()).toEqual(['items', 'next_cursor', 'total']);
    expect(body.total).toBe(5);
    expect(body.next_cursor).toBeNull();
    expect(body.items.map((u) => u.username)).toEqual(ordered);
    expect(body.items.map((u) => u.id)).toEqual(ordered.map((n) => byName.get(n)));
    const first = body.items[0] as UserDto;
    expect(first).toMatchObject({
      username: ordered[0],
      email: `${ordered[0]}@example.com`,
      role: 'user',
      is_active: true,
      failed_login_count: 0,
      locked_until: null,
      last_login_at: null,
    });
    // Never a password or its hash.
    for (const u of body.items) {
      expect(Object.keys(u).filter((k) => /pass|hash/i.test(k))).toEqual([]);
    }
    expect(JSON.stringify(body)).not.toMatch(/argon2/);
  });

  it('searches username and e-mail with q, ignoring case, with % and _ taken literally', async () => {
    expect((await list(`?q=${tag.toUpperCase()}`)).total).toBe(5);
    const marker = `mk${randomBytes(4).toString('hex')}`;
    const byMail = await makeUser({ email: `${marker}@example.net` });
    const found = await list(`?q=${marker}`);
    expect(found.items.map((u) => u.id)).toEqual([byMail.id]);

    const w = `w${randomBytes(4).toString('hex')}`;
    const wild = await makeUser({ username: `${w}x1` });
    expect((await list(`?q=${w}x1`)).items.map((u) => u.id)).toEqual([wild.id]);
    // Unescaped, "_" would match the "x" and "%" anything at all.
    expect((await list(`?q=${encodeURIComponent(`${w}_1`)}`)).total).toBe(0);
    expect((await list(`?q=${encodeURIComponent(`%${w}`)}`)).total).toBe(0);
    expect((await list(`?q=${encodeURIComponent(`${w}%`)}`)).total).toBe(0);
  });

  it('walks every user exactly once with limit=2, in the same order as one big page', async () => {
    const all = await list('?limit=500');
    expect(all.next_cursor).toBeNull();
    expect(all.items.length).toBe(all.total);
    expect(all.total).toBeGreaterThanOrEqual(8);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: UserList = await list(
        `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.total).toBe(all.total);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.next_cursor;
      pages++;
      expect(pages).toBeLessThanOrEqual(Math.ceil(all.total / 2));
    } while (cursor);
    expect(pages).toBe(Math.ceil(all.total / 2));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all.items.map((u) => u.id));
  });

  it('keeps pages stable when users are created between two pages', async () => {
    const itag = randomBytes(4).toString('hex');
    const names = ['Bravo', 'alpha', 'Delta', 'charlie'].map((n) => `${n}${itag}`);
    const ids = new Map<string, string>();
    for (const n of names) ids.set(n, (await makeUser({ username: n })).id);

    const first = await list(`?q=${itag}&limit=2`);
    expect(first.items.map((u) => u.username)).toEqual([`alpha${itag}`, `Bravo${itag}`]);
    expect(first.next_cursor).toEqual(expect.any(String));
    // One sorts before the cursor (already passed), one after it (still ahead).
    await makeUser({ username: `aaron${itag}` });
    const zed = await makeUser({ username: `zed${itag}` });

    const second = await list(
      `?q=${itag}&limit=2&cursor=${encodeURIComponent(first.next_cursor as string)}`,
    );
    expect(second.items.map((u) => u.username)).toEqual([`charlie${itag}`, `Delta${itag}`]);
    expect(second.total).toBe(6);
    const third = await list(
      `?q=${itag}&limit=2&cursor=${encodeURIComponent(second.next_cursor as string)}`,
    );
    expect(third.items.map((u) => u.id)).toEqual([zed.id]);
    expect(third.next_cursor).toBeNull();
  });

  it('answers 400 invalid_cursor for a cursor it did not issue', async () => {
    const forged = [
      'not-a-cursor',
      Buffer.from(JSON.stringify([1, 2])).toString('base64url'),
      Buffer.from(JSON.stringify(['only-one'])).toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
    ];
    for (const cursor of forged) {
      const res = await call('GET', `/api/v1/users?cursor=${cursor}`, admin.accessToken);
      expectProblem(res, 400, 'invalid_cursor');
      expect(res.json().errors).toEqual([
        { path: '/querystring/cursor', message: expect.any(String) },
      ]);
    }
  });

  it('filters by role and by is_active', async () => {
    const other = await makeUser({ role: 'admin' });
    const admins = await list('?role=admin&limit=500');
    expect(admins.items.map((u) => u.id)).toEqual(expect.arrayContaining([admin.id, other.id]));
    expect(admins.items.every((u) => u.role === 'admin')).toBe(true);
    const plain = await list('?role=user&limit=500');
    expect(plain.items.every((u) => u.role === 'user')).toBe(true);
    expect(plain.items.map((u) => u.id)).toContain(byName.get(ordered[0] as string));
    expect(plain.items.map((u) => u.id)).not.toContain(admin.id);

    const gone = await makeUser();
    expect((await patch(gone.id, { is_active: false })).statusCode).toBe(200);
    const inactive = await list('?is_active=false&limit=500');
    expect(inactive.items.map((u) => u.id)).toContain(gone.id);
    expect(inactive.items.every((u) => u.is_active === false)).toBe(true);
    const active = await list('?is_active=true&limit=500');
    expect(active.items.map((u) => u.id)).not.toContain(gone.id);
    expect(active.items.every((u) => u.is_active)).toBe(true);
    const all = await list('?limit=500');
    expect(active.total + inactive.total).toBe(all.total);
    expect((await list('?role=admin')).total + (await list('?role=user')).total).toBe(all.total);
    // Filters combine.
    const both = await list(`?role=user&is_active=false&q=${gone.username}`);
    expect(both.items.map((u) => u.id)).toEqual([gone.id]);
    expect((await list(`?role=admin&q=${gone.username}`)).total).toBe(0);
  });

  it('rejects bad query parameters with 400 validation_error naming them', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', '/querystring/limit'],
      ['?limit=501', '/querystring/limit'],
      ['?role=root', '/querystring/role'],
      ['?is_active=maybe', '/querystring/is_active'],
      ['?owner=me', '/querystring/owner'],
    ];
    for (const [query, path] of cases) {
      const res = await call('GET', `/api/v1/users${query}`, admin.accessToken);
      expectProblem(res, 400, 'validation_error');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });
});

describe('POST /users', () => {
  it('creates a user (201) with role user by default, who can then log in', async () => {
    const username = randomName('new');
    const password = randomPassword();
    secrets.push(password);
    const res = await call('POST', '/api/v1/users', admin.accessToken, {
      username,
      email: `${username}@example.com`,
      password,
    });
    expect(res.statusCode, res.body).toBe(201);
    const user = res.json();
    expect(user).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username,
      email: `${username}@example.com`,
      role: 'user',
      is_active: true,
    });
    expect(Object.keys(user).filter((k) => /pass|hash/i.test(k))).toEqual([]);
    expect(res.body).not.toContain(password);
    expect(await getUser(user.id)).toEqual(user);
    const session = await login(app, { username, password });
    expect(session.statusCode, session.body).toBe(200);
    expect(session.json().user.id).toBe(user.id);
    secrets.push(session.json().access_token, session.json().refresh_token);
  });

  it('creates an admin when asked, and accepts a long passphrase', async () => {
    const username = randomName('boss');
    const password = `${'correct horse battery staple '.repeat(4)}${randomBytes(4).toString('hex')}`;
    expect(password.length).toBeGreaterThan(64);
    secrets.push(password);
    const res = await call('POST', '/api/v1/users', admin.accessToken, {
      username,
      email: `${username}@example.com`,
      password,
      role: 'admin',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().role).toBe('admin');
    const session = await login(app, { username, password });
    expect(session.statusCode, session.body).toBe(200);
    secrets.push(session.json().access_token, session.json().refresh_token);
    // Keep the admin count at one for the last-admin tests.
    expect((await patch(res.json().id, { role: 'user' })).statusCode).toBe(200);
  });

  it('answers 409 username_taken for a username that differs only in case', async () => {
    const existing = await makeUser({ username: `Case${randomBytes(3).toString('hex')}` });
    const before = await list('?limit=500');
    const res = await call('POST', '/api/v1/users', admin.accessToken, {
      username: existing.username.toUpperCase(),
      email: `${randomName('other')}@example.com`,
      password: randomPassword(),
    });
    expectProblem(res, 409, 'username_taken');
    expect(res.json().errors).toEqual([{ path: '/body/username', message: 'is already taken' }]);
    // No constraint name, no SQL detail.
    expect(res.body).not.toMatch(/users_|constraint|duplicate key/i);
    expect((await list('?limit=500')).total).toBe(before.total);
  });

  it('answers 409 email_taken for an e-mail that differs only in case', async () => {
    const existing = await makeUser();
    const res = await call('POST', '/api/v1/users', admin.accessToken, {
      username: randomName('other'),
      email: existing.email.toUpperCase(),
      password: randomPassword(),
    });
    expectProblem(res, 409, 'email_taken');
    expect(res.json().errors).toEqual([{ path: '/body/email', message: 'is already taken' }]);
    expect(res.body).not.toMatch(/users_|constraint|duplicate key/i);
  });

  it('rejects an unknown field with 400 validation_error naming it, and creates nothing', async () => {
    const username = randomName('extra');
    const res = await call('POST', '/api/v1/users', admin.accessToken, {
      username,
      email: `${username}@example.com`,
      password: randomPassword(),
      is_admin: true,
    });
    expectProblem(res, 400, 'validation_error');
    expect(res.json().errors).toContainEqual({
      path: '/body/is_admin',
      message: 'is not a known field',
    });
    expect((await list(`?q=${username}`)).total).toBe(0);
  });

  it('rejects a short, an overlong or a missing password and other bad fields, naming them', async () => {
    const username = randomName('bad');
    const base = { username, email: `${username}@example.com`, password: randomPassword() };
    const cases: Array<[object, string]> = [
      [{ ...base, password: 'elevenchars' }, '/body/password'],
      [{ ...base, password: 'x'.repeat(1025) }, '/body/password'],
      [{ username, email: base.email }, '/body/password'],
      [{ ...base, email: undefined }, '/body/email'],
      [{ ...base, email: 'not-an-email' }, '/body/email'],
      [{ ...base, username: 'ab' }, '/body/username'],
      [{ ...base, username: '.dot-first' }, '/body/username'],
      [{ ...base, username: 'has space' }, '/body/username'],
      [{ ...base, role: 'root' }, '/body/role'],
    ];
    expect('elevenchars'.length).toBe(11);
    for (const [body, path] of cases) {
      const res = await call('POST', '/api/v1/users', admin.accessToken, body);
      expectProblem(res, 400, 'validation_error');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await list(`?q=${username}`)).total).toBe(0);
  });
});

describe('GET /users/:id', () => {
  it('returns the user', async () => {
    const u = await makeUser();
    expect(await getUser(u.id)).toMatchObject({ id: u.id, username: u.username, email: u.email });
  });

  it('answers 404 not_found for an unknown id and 400 for an id that is not a UUID', async () => {
    const unknown = await call(
      'GET',
      '/api/v1/users/0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
      admin.accessToken,
    );
    expectProblem(unknown, 404, 'not_found');
    const bad = await call('GET', '/api/v1/users/not-a-uuid', admin.accessToken);
    expectProblem(bad, 400, 'validation_error');
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toContain('/params/id');
  });
});

describe('PATCH /users/:id', () => {
  it('changes username and e-mail; the new username logs in, the old one does not', async () => {
    const u = await makeUser();
    const before = await getUser(u.id);
    const username = randomName('renamed');
    const res = await patch(u.id, { username, email: `${username}@example.org` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: u.id, username, email: `${username}@example.org` });
    expect(Date.parse(res.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));
    expect(await getUser(u.id)).toMatchObject({ username, email: `${username}@example.org` });
    const ok = await login(app, { username, password: u.password });
    expect(ok.statusCode, ok.body).toBe(200);
    secrets.push(ok.json().access_token, ok.json().refresh_token);
    expect((await login(app, { username: u.username, password: u.password })).statusCode).toBe(401);
  });

  it('answers 409 naming the field when the new username or e-mail is taken', async () => {
    const a = await makeUser();
    const b = await makeUser();
    const name = await patch(b.id, { username: a.username.toUpperCase() });
    expectProblem(name, 409, 'username_taken');
    expect(name.json().errors).toEqual([{ path: '/body/username', message: 'is already taken' }]);
    const mail = await patch(b.id, { email: a.email.toUpperCase() });
    expectProblem(mail, 409, 'email_taken');
    expect(mail.json().errors).toEqual([{ path: '/body/email', message: 'is already taken' }]);
    expect(await getUser(b.id)).toMatchObject({ username: b.username, email: b.email });
  });

  it('changes the role both ways', async () => {
    const u = remember(await createUser(app, admin));
    expect((await call('GET', '/api/v1/users', u.accessToken)).statusCode).toBe(403);
    const up = await patch(u.id, { role: 'admin' });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().role).toBe('admin');
    // The same access token follows the new role on the next request.
    expect((await call('GET', '/api/v1/users', u.accessToken)).statusCode).toBe(200);
    const down = await patch(u.id, { role: 'user' });
    expect(down.json().role).toBe('user');
    expect((await getUser(u.id)).role).toBe('user');
    expectProblem(await call('GET', '/api/v1/users', u.accessToken), 403, 'admin_only');
  });

  it('deactivates (sessions end at once, login refused) and reactivates', async () => {
    const u = remember(await createUser(app, admin));
    expect(await meStatus(u.accessToken)).toBe(200);
    const off = await patch(u.id, { is_active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().is_active).toBe(false);
    expectProblem(await call('GET', '/api/v1/auth/me', u.accessToken), 401, 'invalid_token');
    expectProblem(await login(app, u), 401, 'invalid_credentials');
    const refresh = await call('POST', '/api/v1/auth/refresh', null, {
      refresh_token: u.refreshToken,
    });
    expect(refresh.statusCode, refresh.body).toBe(401);

    const on = await patch(u.id, { is_active: true });
    expect(on.json().is_active).toBe(true);
    const again = await login(app, u);
    expect(again.statusCode, again.body).toBe(200);
    secrets.push(again.json().access_token, again.json().refresh_token);
    // The sessions that deactivation ended stay ended.
    expect(await meStatus(u.accessToken)).toBe(401);
  });

  it('unlock: true clears a login lockout', async () => {
    const u = await makeUser();
    await lockOut(u.username);
    expectProblem(await login(app, u), 429, 'login_locked');
    const locked = await getUser(u.id);
    expect(locked.failed_login_count).toBeGreaterThanOrEqual(5);
    expect(Date.parse(locked.locked_until ?? '')).toBeGreaterThan(Date.now());

    const res = await patch(u.id, { unlock: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ failed_login_count: 0, locked_until: null });
    const ok = await login(app, u);
    expect(ok.statusCode, ok.body).toBe(200);
    secrets.push(ok.json().access_token, ok.json().refresh_token);
  });

  it('rejects an empty body, unknown fields and bad values with 400', async () => {
    const u = await makeUser();
    const cases: Array<[object, string | null]> = [
      [{}, null],
      [{ is_admin: true }, '/body/is_admin'],
      [{ unlock: false }, '/body/unlock'],
      [{ role: 'root' }, '/body/role'],
      [{ is_active: 'no' }, '/body/is_active'],
      [{ password: 'short' }, '/body/password'],
      [{ email: 'nope' }, '/body/email'],
      [{ username: 'x' }, '/body/username'],
    ];
    for (const [body, path] of cases) {
      const res = await patch(u.id, body);
      expectProblem(res, 400, 'validation_error');
      if (path) expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect(await getUser(u.id)).toMatchObject({ username: u.username, role: 'user' });
  });

  it('answers 404 for an unknown id and 400 for a non-UUID id', async () => {
    expectProblem(
      await patch('0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b', { role: 'user' }),
      404,
      'not_found',
    );
    expectProblem(await patch('12345', { role: 'user' }), 400, 'validation_error');
  });
});

describe('DELETE /users/:id', () => {
  it('deletes (204): the user cannot log in, and their sessions and tokens stop working', async () => {
    const u = remember(await createUser(app, admin));
    const pat = await createToken(app, u, { scopes: ['read'] });
    secrets.push(pat.token);
    expect(await meStatus(pat.token)).toBe(200);

    const res = await call('DELETE', `/api/v1/users/${u.id}`, admin.accessToken);
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expectProblem(await call('GET', `/api/v1/users/${u.id}`, admin.accessToken), 404, 'not_found');
    expectProblem(await login(app, u), 401, 'invalid_credentials');
    expect(await meStatus(u.accessToken)).toBe(401);
    expect(await meStatus(pat.token)).toBe(401);
    const left = await ownerQuery<{ n: number }>(
      t.database,
      'SELECT ((SELECT count(*) FROM api_tokens WHERE owner_id = $1) + (SELECT count(*) FROM refresh_tokens WHERE owner_id = $1))::int AS n',
      [u.id],
    );
    expect(left[0]?.n).toBe(0);
    expectProblem(
      await call('DELETE', `/api/v1/users/${u.id}`, admin.accessToken),
      404,
      'not_found',
    );
  });

  it('refuses to delete yourself (400 cannot_delete_self), by session or by token', async () => {
    expectProblem(
      await call('DELETE', `/api/v1/users/${admin.id}`, admin.accessToken),
      400,
      'cannot_delete_self',
    );
    const pat = await createToken(app, admin, { scopes: ['read', 'write'] });
    secrets.push(pat.token);
    expectProblem(
      await call('DELETE', `/api/v1/users/${admin.id}`, pat.token),
      400,
      'cannot_delete_self',
    );
    expect(await meStatus(admin.accessToken)).toBe(200);
    expect((await getUser(admin.id)).is_active).toBe(true);
  });

  it('answers 400 for a non-UUID id', async () => {
    expectProblem(
      await call('DELETE', '/api/v1/users/nope', admin.accessToken),
      400,
      'validation_error',
    );
  });
});

describe('admin-only access', () => {
  let plain: TestUser;
  let pat: string;
  let victim: Created;

  beforeAll(async () => {
    plain = remember(await createUser(app, admin));
    pat = (await createToken(app, plain, { scopes: ['read', 'write'] })).token;
    secrets.push(pat);
    victim = await makeUser();
  });

  const routes = (self: string, other: string): Array<[Method, string, object | undefined]> => [
    ['GET', '/api/v1/users', undefined],
    [
      'POST',
      '/api/v1/users',
      { username: randomName('sneaky'), email: 'sneaky@example.com', password: randomPassword() },
    ],
    ['GET', `/api/v1/users/${other}`, undefined],
    ['GET', `/api/v1/users/${self}`, undefined],
    ['PATCH', `/api/v1/users/${self}`, { role: 'admin' }],
    ['PATCH', `/api/v1/users/${other}`, { is_active: false }],
    ['DELETE', `/api/v1/users/${other}`, undefined],
  ];

  it('answers 403 admin_only on every /users route to a user, by session or by token', async () => {
    for (const token of [plain.accessToken, pat]) {
      for (const [method, url, body] of routes(plain.id, victim.id)) {
        const res = await call(method, url, token, body);
        expectProblem(res, 403, 'admin_only');
        expect(res.body).not.toContain(victim.username);
      }
    }
    expect(await getUser(plain.id)).toMatchObject({ role: 'user', is_active: true });
    expect(await getUser(victim.id)).toMatchObject({ is_active: true });
    expect((await list('?q=sneaky')).total).toBe(0);
  });

  it('answers 401 without credentials or with a bad one, before looking at the request', async () => {
    for (const [method, url, body] of [
      ...routes(plain.id, victim.id),
      ['GET', '/api/v1/users/not-a-uuid', undefined] as [Method, string, undefined],
    ]) {
      const none = await call(method, url, null, body);
      expectProblem(none, 401, 'unauthorized');
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expectProblem(await call(method, url, 'not.a.jwt', body), 401, 'invalid_token');
      // A refresh token is not an access token.
      expectProblem(await call(method, url, plain.refreshToken, body), 401, 'invalid_token');
    }
    expect(await getUser(victim.id)).toMatchObject({ is_active: true });
  });

  it('shows a user only themselves: GET /auth/me is their own user, never another', async () => {
    const other = remember(await createUser(app, admin));
    for (const [me, them] of [
      [plain, other],
      [other, plain],
    ] as const) {
      const res = await call('GET', '/api/v1/auth/me', me.accessToken);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().user).toMatchObject({ id: me.id, username: me.username, role: 'user' });
      expect(res.body).not.toContain(them.id);
      expect(res.body).not.toContain(them.username);
      expectProblem(
        await call('GET', `/api/v1/users/${them.id}`, me.accessToken),
        403,
        'admin_only',
      );
    }
  });
});

describe('last active admin', () => {
  it('refuses to demote or deactivate the only active admin (409 last_admin)', async () => {
    await demoteOtherAdmins();
    expectProblem(await patch(admin.id, { role: 'user' }), 409, 'last_admin');
    expectProblem(await patch(admin.id, { is_active: false }), 409, 'last_admin');
    expectProblem(await patch(admin.id, { role: 'user', is_active: false }), 409, 'last_admin');
    expect(await getUser(admin.id)).toMatchObject({ role: 'admin', is_active: true });
    expect(await meStatus(admin.accessToken)).toBe(200);
    // Unrelated changes to the last admin are fine.
    expect((await patch(admin.id, { role: 'admin', is_active: true })).statusCode).toBe(200);
  });

  it('does not count an inactive admin as another admin', async () => {
    await demoteOtherAdmins();
    const sleeper = await makeUser({ role: 'admin' });
    expect((await patch(sleeper.id, { is_active: false })).statusCode).toBe(200);
    expectProblem(await patch(admin.id, { role: 'user' }), 409, 'last_admin');
    // Deleting an inactive admin takes nothing away.
    expect(
      (await call('DELETE', `/api/v1/users/${sleeper.id}`, admin.accessToken)).statusCode,
    ).toBe(204);
  });

  it('refuses to delete the only active admin, even when the caller stops being one mid-request', async () => {
    await demoteOtherAdmins();
    const second = remember(await createUser(app, admin, { role: 'admin' }));
    // Through the API the only active admin could be deleted only by another admin who stops
    // being one while the request runs (another admin deactivates them concurrently). A second
    // app on the same database stands in for that concurrent request: after the caller passed
    // the admin check, a hook deactivates them, exactly as a request in between would.
    const systemAdmin: Actor = {
      kind: 'user',
      userId: admin.id,
      username: admin.username,
      role: 'admin',
      via: 'session',
      scopes: ['read', 'write'],
    };
    const setActive = (id: string, isActive: boolean) =>
      withTenant(t.database, systemAdmin, (tx) =>
        tx.update(users).set({ isActive }).where(eq(users.id, id)),
      );
    const raceApp = await buildApp({
      config: t.config,
      database: t.database,
      logStream: false,
      limits: RELAXED_LIMITS,
    });
    raceApp.addHook('preHandler', async (request) => {
      if (request.actor.kind === 'user') await setActive(request.actor.userId, false);
    });
    await raceApp.ready();
    try {
      const res = await raceApp.inject({
        method: 'DELETE',
        url: `/api/v1/users/${admin.id}`,
        headers: bearer(second.accessToken),
      });
      expectProblem(res, 409, 'last_admin');
    } finally {
      await raceApp.close();
      await setActive(second.id, true);
    }
    expect(await getUser(admin.id)).toMatchObject({ role: 'admin', is_active: true });
    // With the second admin active, the same deletion goes through (shown on the second).
    expect((await call('DELETE', `/api/v1/users/${second.id}`, admin.accessToken)).statusCode).toBe(
      204,
    );
  });

  // Needs a second connection holding row locks, so PostgreSQL only: PGlite has a single
  // connection, on which two requests can never be inside their transactions at once.
  it.skipIf(!testDatabaseUrl())(
    'two admins demoting each other at the same instant: one wins, the other gets 409 (no deadlock)',
    async () => {
      const raw = t.database.raw;
      if (raw.kind !== 'postgres') throw new Error('needs PostgreSQL');
      await demoteOtherAdmins();
      const second = remember(await createUser(app, admin, { role: 'admin' }));
      const tokenOf = new Map([
        [admin.id, admin.accessToken],
        [second.id, second.accessToken],
      ]);
      // Which of two waiting transactions wakes first is up to the scheduler, so a few rounds.
      for (let round = 0; round < 4; round++) {
        // Hold both admin rows so that both requests are inside their transactions, waiting,
        // when the rows are released: the tightest interleaving two real requests can have.
        const holder = await raw.pool.connect();
        let answers: Awaited<ReturnType<typeof patch>>[] = [];
        try {
          await holder.query('BEGIN');
          await holder.query("SELECT set_config('app.role', 'admin', true)");
          const held = await holder.query(
            'SELECT id FROM users WHERE id = ANY($1::uuid[]) FOR UPDATE',
            [[admin.id, second.id]],
          );
          expect(held.rowCount).toBe(2);
          const pending = Promise.all([
            patch(second.id, { role: 'user' }, admin.accessToken),
            patch(admin.id, { role: 'user' }, second.accessToken),
          ]);
          for (let i = 0; ; i++) {
            const [w] = await ownerQuery<{ n: number }>(
              t.database,
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'",
            );
            if (w?.n === 2) break;
            if (i > 250) throw new Error('the two requests never waited for the held rows');
            await new Promise((r) => setTimeout(r, 20));
          }
          await holder.query('COMMIT');
          answers = await pending;
        } finally {
          await holder.query('ROLLBACK').catch(() => {});
          holder.release();
        }
        const outcome = answers.map((r) => `${r.statusCode} ${r.json().code ?? ''}`.trim());
        expect(outcome.sort(), `round ${round}`).toEqual(['200', '409 last_admin']);
        const left = await ownerQuery<{ id: string }>(
          t.database,
          "SELECT id FROM users WHERE role = 'admin' AND is_active",
        );
        expect(left).toHaveLength(1);
        // The winner makes the loser an admin again for the next round.
        const winner = left[0]?.id as string;
        const loser = winner === admin.id ? second.id : admin.id;
        const back = await patch(loser, { role: 'admin' }, tokenOf.get(winner));
        expect(back.statusCode, back.body).toBe(200);
      }
      expect((await patch(second.id, { role: 'user' })).statusCode).toBe(200);
    },
  );

  it('lets an admin be demoted, deactivated or deleted while another admin remains', async () => {
    await demoteOtherAdmins();
    const second = remember(await createUser(app, admin, { role: 'admin' }));

    // Demote yourself: allowed, and your next request is a user's.
    const down = await patch(admin.id, { role: 'user' });
    expect(down.statusCode, down.body).toBe(200);
    expectProblem(await call('GET', '/api/v1/users', admin.accessToken), 403, 'admin_only');
    const back = await patch(admin.id, { role: 'admin' }, second.accessToken);
    expect(back.statusCode, back.body).toBe(200);

    // Deactivate the other admin: allowed; their session ends.
    const off = await patch(second.id, { is_active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(await meStatus(second.accessToken)).toBe(401);
    expect((await patch(second.id, { is_active: true })).statusCode).toBe(200);

    // Deactivate yourself while another is active: allowed (the other reactivates you).
    const again = remember(await createUser(app, admin, { role: 'admin' }));
    expect((await patch(admin.id, { is_active: false })).statusCode).toBe(200);
    expect(await meStatus(admin.accessToken)).toBe(401);
    expect((await patch(admin.id, { is_active: true }, again.accessToken)).statusCode).toBe(200);
    const relog = await login(app, admin);
    expect(relog.statusCode, relog.body).toBe(200);
    admin.accessToken = relog.json().access_token;
    admin.refreshToken = relog.json().refresh_token;
    remember(admin);

    // Delete another admin: allowed.
    expect((await call('DELETE', `/api/v1/users/${again.id}`, admin.accessToken)).statusCode).toBe(
      204,
    );
    expect((await call('DELETE', `/api/v1/users/${second.id}`, admin.accessToken)).statusCode).toBe(
      204,
    );
    // And now this admin is the last one again.
    expectProblem(await patch(admin.id, { role: 'user' }), 409, 'last_admin');
  });
});

describe('admin password reset (PATCH {password})', () => {
  it("ends every session of the user at once; the new password logs in, the old one doesn't", async () => {
    const u = remember(await createUser(app, admin));
    const other = await login(app, u);
    expect(other.statusCode).toBe(200);
    const second = { access: other.json().access_token, refresh: other.json().refresh_token };
    secrets.push(second.access, second.refresh);
    expect(await meStatus(u.accessToken)).toBe(200);
    expect(await meStatus(second.access)).toBe(200);

    const password = randomPassword();
    secrets.push(password);
    const res = await patch(u.id, { password });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toContain(password);

    expectProblem(await call('GET', '/api/v1/auth/me', u.accessToken), 401, 'invalid_token');
    expect(await meStatus(second.access)).toBe(401);
    for (const refresh of [u.refreshToken, second.refresh]) {
      const r = await call('POST', '/api/v1/auth/refresh', null, { refresh_token: refresh });
      expect(r.statusCode, r.body).toBe(401);
    }
    expectProblem(await login(app, u), 401, 'invalid_credentials');
    const fresh = await login(app, { username: u.username, password });
    expect(fresh.statusCode, fresh.body).toBe(200);
    secrets.push(fresh.json().access_token, fresh.json().refresh_token);
    expect(await meStatus(fresh.json().access_token)).toBe(200);
  });

  it('also clears a lockout', async () => {
    const u = await makeUser();
    await lockOut(u.username);
    expectProblem(await login(app, u), 429, 'login_locked');
    const password = randomPassword();
    secrets.push(password);
    const res = await patch(u.id, { password });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ failed_login_count: 0, locked_until: null });
    const ok = await login(app, { username: u.username, password });
    expect(ok.statusCode, ok.body).toBe(200);
    secrets.push(ok.json().access_token, ok.json().refresh_token);
  });
});

describe('audit hygiene', () => {
  it('never writes a password or token used in this file into the audit log', async () => {
    const text = await allAuditText(t.database);
    expect(text.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
  });
});
