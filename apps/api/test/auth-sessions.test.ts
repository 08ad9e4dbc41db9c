import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtClaims, me, outcome, ownerQuery, refresh } from './helpers/auth-helpers.js';
import {
  bearer,
  createToken,
  createUser,
  login,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Sessions (DESIGN §5 "Auth", SECURITY "Authentication and sessions"): refresh-token rotation
 * and reuse detection, the refresh cookie and its CSRF defence, logout, GET /auth/me and
 * password change.
 */
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await setupAdmin(t.app);
});

afterAll(async () => {
  await t?.close();
});

const COOKIE = 'adb_refresh';
const CSRF = { 'x-accountdb-csrf': '1' };

interface Pair {
  access: string;
  refresh: string;
}

const pairOf = (res: LightMyRequestResponse): Pair => {
  expect(res.statusCode, res.body).toBe(200);
  return { access: res.json().access_token, refresh: res.json().refresh_token };
};

const sessionId = (accessToken: string) => String(jwtClaims(accessToken).sid);

/**
 * Marks a family's used refresh tokens as used `seconds` ago. The reuse grace is 10 s; rather
 * than wait, this moves used_at back directly in the database, as the schema owner.
 */
async function ageUsedTokens(familyId: string, seconds: number): Promise<void> {
  const rows = await ownerQuery(
    t.database,
    `UPDATE refresh_tokens SET used_at = used_at - make_interval(secs => $2)
     WHERE family_id = $1 AND used_at IS NOT NULL RETURNING id`,
    [familyId, seconds],
  );
  expect(rows.length).toBeGreaterThan(0);
}

const cookieRefresh = (token: string, headers: Record<string, string> = CSRF) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    cookies: { [COOKIE]: token },
    headers,
  });

const newCookie = (res: LightMyRequestResponse) =>
  res.cookies.find((c) => c.name === COOKIE)?.value;

describe('refresh-token rotation', () => {
  it('rotates: a new pair for the same session, in the body and the cookie', async () => {
    const user = await createUser(t.app, admin);
    const first = pairOf(await login(t.app, user));
    const res = await refresh(t.app, first.refresh);
    const second = pairOf(res);
    expect(res.json()).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^adb_rt_/),
      user: { id: user.id },
    });
    expect(second.refresh).not.toBe(first.refresh);
    expect(newCookie(res)).toBe(second.refresh);
    expect(sessionId(second.access)).toBe(sessionId(first.access));
    const meRes = await me(t.app, second.access);
    expect(meRes.statusCode).toBe(200);
    expect(meRes.json().auth.session_id).toBe(sessionId(first.access));
    // The new refresh token rotates in turn.
    expect(pairOf(await refresh(t.app, second.refresh)).refresh).not.toBe(second.refresh);
  });

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const user = await createUser(t.app, admin);
    const { refresh: token } = pairOf(await login(t.app, user));
    const rows = await ownerQuery<{ token_hash: Uint8Array }>(
      t.database,
      'SELECT * FROM refresh_tokens WHERE owner_id = $1',
      [user.id],
    );
    const hashes = rows.map((r) => Buffer.from(r.token_hash).toString('hex'));
    expect(hashes).toContain(createHash('sha256').update(token).digest('hex'));
    const dump = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice('adb_rt_'.length));
  });

  it('refuses an unknown, malformed or missing refresh token', async () => {
    expect(outcome(await refresh(t.app, `adb_rt_${'A'.repeat(43)}`))).toBe(
      '401 invalid_refresh_token',
    );
    expect(outcome(await refresh(t.app, 'not-a-token'))).toBe('401 invalid_refresh_token');
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: {},
    });
    expect(outcome(missing)).toBe('400 refresh_token_missing');
  });

  it('revokes the whole family when a rotated token is used after the grace period', async () => {
    const user = await createUser(t.app, admin);
    const other = pairOf(await login(t.app, user)); // a second, unrelated session
    const first = pairOf(await login(t.app, user));
    const second = pairOf(await refresh(t.app, first.refresh));
    const third = pairOf(await refresh(t.app, second.refresh));
    const family = sessionId(first.access);
    await ageUsedTokens(family, 11);

    const reused = await refresh(t.app, first.refresh);
    expect(outcome(reused)).toBe('401 refresh_token_reused');
    // The failed refresh also clears the cookie.
    expect(reused.cookies.find((c) => c.name === COOKIE)?.value).toBe('');

    // The newest token of the family is dead, and so is every access token of the session.
    expect(outcome(await refresh(t.app, third.refresh))).toBe('401 invalid_refresh_token');
    for (const access of [first.access, second.access, third.access]) {
      expect(outcome(await me(t.app, access))).toBe('401 invalid_token');
    }
    // Nothing of the family comes back by replaying another old token.
    expect((await refresh(t.app, second.refresh)).statusCode).toBe(401);
    expect((await refresh(t.app, first.refresh)).statusCode).toBe(401);

    // The user's other session is untouched.
    expect((await me(t.app, other.access)).statusCode).toBe(200);
    expect((await refresh(t.app, other.refresh)).statusCode).toBe(200);
  });

  it('treats a reuse within the grace period as a lost response: a fresh pair, family kept', async () => {
    const user = await createUser(t.app, admin);
    const first = pairOf(await login(t.app, user));
    const lost = pairOf(await refresh(t.app, first.refresh)); // the client never saw this answer
    const retried = pairOf(await refresh(t.app, first.refresh));
    expect(retried.refresh).not.toBe(lost.refresh);
    expect(retried.refresh).not.toBe(first.refresh);
    expect(sessionId(retried.access)).toBe(sessionId(first.access));

    // The session lives on: its access tokens work and the new refresh token rotates.
    expect((await me(t.app, retried.access)).statusCode).toBe(200);
    expect((await me(t.app, first.access)).statusCode).toBe(200);
    const next = pairOf(await refresh(t.app, retried.refresh));
    expect((await me(t.app, next.access)).statusCode).toBe(200);
    // The unseen token it replaced is retired, without ending the session.
    expect(outcome(await refresh(t.app, lost.refresh))).toBe('401 invalid_refresh_token');
    expect((await me(t.app, next.access)).statusCode).toBe(200);
  });
});

describe('the refresh cookie', () => {
  it('refreshes from the cookie alone (no body) with the CSRF header', async () => {
    const user = await createUser(t.app, admin);
    const login1 = await login(t.app, user);
    const token = newCookie(login1) ?? '';
    const res = await cookieRefresh(token);
    expect(res.statusCode, res.body).toBe(200);
    const rotated = newCookie(res);
    expect(rotated).toBe(res.json().refresh_token);
    expect(rotated).not.toBe(token);
    // A same-origin browser call (Origin of this host) is fine too.
    const sameOrigin = await cookieRefresh(rotated ?? '', {
      ...CSRF,
      origin: 'http://localhost:80',
    });
    expect(sameOrigin.statusCode, sameOrigin.body).toBe(200);
  });

  it('refuses a cookie refresh without the CSRF header, and does not use the token up', async () => {
    const user = await createUser(t.app, admin);
    const token = newCookie(await login(t.app, user)) ?? '';
    const res = await cookieRefresh(token, {});
    expect(outcome(res)).toBe('403 csrf_failed');
    expect(newCookie(res)).toBeUndefined();
    const withBody = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      cookies: { [COOKIE]: token },
      payload: {},
    });
    expect(outcome(withBody)).toBe('403 csrf_failed');
    // The token was not consumed: a proper call still works.
    expect((await cookieRefresh(token)).statusCode).toBe(200);
  });

  it('refuses a cookie refresh from a foreign Origin', async () => {
    const user = await createUser(t.app, admin);
    const token = newCookie(await login(t.app, user)) ?? '';
    for (const origin of ['https://evil.example', 'http://localhost:8081', 'null']) {
      const res = await cookieRefresh(token, { ...CSRF, origin });
      expect({ origin, outcome: outcome(res) }).toEqual({ origin, outcome: '403 csrf_failed' });
    }
    expect((await cookieRefresh(token)).statusCode).toBe(200);
  });

  it('refuses a cookie logout without the CSRF header, leaving the session open', async () => {
    const user = await createUser(t.app, admin);
    const res = await login(t.app, user);
    const pair = pairOf(res);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      cookies: { [COOKIE]: pair.refresh },
    });
    expect(outcome(out)).toBe('403 csrf_failed');
    expect((await me(t.app, pair.access)).statusCode).toBe(200);
  });
});

describe('logout', () => {
  it('with the refresh token: it no longer refreshes and the access token stops working', async () => {
    const user = await createUser(t.app, admin);
    const other = pairOf(await login(t.app, user));
    const pair = pairOf(await login(t.app, user));
    expect((await me(t.app, pair.access)).statusCode).toBe(200);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      payload: { refresh_token: pair.refresh },
    });
    expect(res.statusCode).toBe(204);
    const cleared = res.cookies.find((c) => c.name === COOKIE);
    expect(cleared?.value).toBe('');
    expect(outcome(await refresh(t.app, pair.refresh))).toBe('401 invalid_refresh_token');
    expect(outcome(await me(t.app, pair.access))).toBe('401 invalid_token');
    // Only that session ended.
    expect((await me(t.app, other.access)).statusCode).toBe(200);
  });

  it('with only the access token (no body): the session ends, refresh token included', async () => {
    const user = await createUser(t.app, admin);
    const pair = pairOf(await login(t.app, user));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(pair.access),
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(outcome(await me(t.app, pair.access))).toBe('401 invalid_token');
    expect(outcome(await refresh(t.app, pair.refresh))).toBe('401 invalid_refresh_token');
  });

  it('with the cookie and the CSRF header: the session ends', async () => {
    const user = await createUser(t.app, admin);
    const pair = pairOf(await login(t.app, user));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      cookies: { [COOKIE]: pair.refresh },
      headers: CSRF,
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(outcome(await me(t.app, pair.access))).toBe('401 invalid_token');
  });
});

describe('GET /auth/me', () => {
  it('answers for an access token, with the session', async () => {
    const user = await createUser(t.app, admin);
    const res = await me(t.app, user.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      user: expect.objectContaining({ id: user.id, username: user.username, role: 'user' }),
      auth: { via: 'session', scopes: ['read', 'write'], session_id: sessionId(user.accessToken) },
    });
    expect(res.json().user).not.toHaveProperty('password_hash');
  });

  it('answers for a personal access token, with its scopes', async () => {
    const user = await createUser(t.app, admin);
    const pat = await createToken(t.app, user, { scopes: ['read'] });
    expect(pat.token).toMatch(/^adb_pat_/);
    const res = await me(t.app, pat.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      user: expect.objectContaining({ id: user.id }),
      auth: { via: 'token', scopes: ['read'], token_id: pat.id },
    });
  });

  it('answers 401 without credentials', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(outcome(res)).toBe('401 unauthorized');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('password change', () => {
  const change = (token: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(token),
      payload: body,
    });

  it('refuses a wrong current password, naming the field, and changes nothing', async () => {
    const user = await createUser(t.app, admin);
    const res = await change(user.accessToken, {
      current_password: randomPassword(),
      new_password: randomPassword(),
    });
    expect(outcome(res)).toBe('400 wrong_password');
    expect(res.json().errors).toEqual([
      { path: '/body/current_password', message: expect.any(String) },
    ]);
    expect((await login(t.app, user)).statusCode).toBe(200);
    expect((await me(t.app, user.accessToken)).statusCode).toBe(200);
  });

  it('refuses a new password that is too short, naming the field', async () => {
    const user = await createUser(t.app, admin);
    const res = await change(user.accessToken, {
      current_password: user.password,
      new_password: 'short',
    });
    expect(outcome(res)).toBe('400 validation_error');
    expect(res.json().errors).toContainEqual(
      expect.objectContaining({ path: '/body/new_password' }),
    );
    expect((await login(t.app, user)).statusCode).toBe(200);
  });

  it('is refused to a personal access token (403 session_required)', async () => {
    const user = await createUser(t.app, admin);
    const pat = await createToken(t.app, user, { scopes: ['read', 'write'] });
    const res = await change(pat.token, {
      current_password: user.password,
      new_password: randomPassword(),
    });
    expect(outcome(res)).toBe('403 session_required');
    expect((await login(t.app, user)).statusCode).toBe(200);
  });

  it('changes the password and ends every other session at once, keeping this one', async () => {
    const user = await createUser(t.app, admin);
    const current = { access: user.accessToken, refresh: user.refreshToken };
    const other = pairOf(await login(t.app, user));
    const newPassword = randomPassword();

    const res = await change(current.access, {
      current_password: user.password,
      new_password: newPassword,
    });
    expect(res.statusCode, res.body).toBe(204);

    expect(outcome(await login(t.app, user))).toBe('401 invalid_credentials');
    expect(
      (await login(t.app, { username: user.username, password: newPassword })).statusCode,
    ).toBe(200);

    // The other session is over: access token and refresh token.
    expect(outcome(await me(t.app, other.access))).toBe('401 invalid_token');
    expect(outcome(await refresh(t.app, other.refresh))).toBe('401 invalid_refresh_token');

    // This session keeps working, and can still refresh.
    expect((await me(t.app, current.access)).statusCode).toBe(200);
    const rotated = pairOf(await refresh(t.app, current.refresh));
    expect((await me(t.app, rotated.access)).statusCode).toBe(200);

    const [row] = await ownerQuery<{ password_hash: string }>(
      t.database,
      'SELECT password_hash FROM users WHERE id = $1',
      [user.id],
    );
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    expect(row?.password_hash).not.toContain(newPassword);
  });
});
