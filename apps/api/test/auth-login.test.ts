import * as argon2 from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as passwords from '../src/crypto/passwords.js';
import {
  jwtClaims,
  jwtHeader,
  me,
  ownerQuery,
  problemWithoutRequestId,
} from './helpers/auth-helpers.js';
import {
  bearer,
  createUser,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// argon2's verify, wrapped so the tests can count calls and see which hash was verified. It
// still does the real work: the login answers below come from real password checks.
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@node-rs/argon2')>();
  return { ...actual, verify: vi.fn(actual.verify) };
});

/**
 * POST /auth/login (DESIGN §5 "Auth", SECURITY "Authentication and sessions"): by username or
 * e-mail, the token pair and its cookie, and the same answer for an unknown name and a wrong
 * password, with the same argon2 work.
 */
let t: TestApp;
let secure: TestApp;
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  // Same database, cookies with Secure and the __Host- prefix (as in production).
  secure = await createTestApp({ database: t.database, config: { cookieSecure: true } });
  admin = await setupAdmin(t.app);
  user = await createUser(t.app, admin);
});

afterAll(async () => {
  await secure?.close();
  await t?.close();
});

const verifyMock = vi.mocked(argon2.verify);

const LOGIN_RESPONSE_KEYS = [
  'access_token',
  'expires_in',
  'refresh_expires_at',
  'refresh_token',
  'token_type',
  'user',
];

describe('login', () => {
  it('answers the user as of this login: last_login_at is now, not the login before', async () => {
    await ownerQuery(
      t.database,
      "UPDATE users SET last_login_at = '2020-01-01T00:00:00Z' WHERE id = $1",
      [user.id],
    );
    const res = await login(t.app, { username: user.username, password: user.password });
    expect(res.statusCode, res.body).toBe(200);
    const sinceLogin = Date.now() - Date.parse(res.json().user.last_login_at);
    expect(sinceLogin).toBeGreaterThanOrEqual(-5_000);
    expect(sinceLogin).toBeLessThan(60_000);
  });

  it('logs in by username, ignoring case, with the documented response', async () => {
    const res = await login(t.app, {
      username: user.username.toUpperCase(),
      password: user.password,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(LOGIN_RESPONSE_KEYS);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^adb_rt_[A-Za-z0-9_-]{43}$/),
      user: { id: user.id, username: user.username, email: user.email, role: 'user' },
    });
    expect(body.user).not.toHaveProperty('password_hash');
    expect(body.user.last_login_at).not.toBeNull();
    expect(res.headers['cache-control']).toBe('no-store');

    // The access token: HS256, 15 minutes, our issuer and audience, an access token of this user.
    expect(jwtHeader(body.access_token).alg).toBe('HS256');
    const claims = jwtClaims(body.access_token);
    expect(claims).toMatchObject({
      sub: user.id,
      iss: 'accountdb',
      aud: 'accountdb-api',
      typ: 'access',
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect((await me(t.app, body.access_token)).statusCode).toBe(200);
  });

  it('logs in by e-mail, ignoring case', async () => {
    const res = await login(t.app, { username: user.email.toUpperCase(), password: user.password });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user.id).toBe(user.id);
  });

  it('sets the refresh token as an HttpOnly, SameSite=Strict cookie on path /', async () => {
    const res = await login(t.app, user);
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'adb_refresh');
    expect(cookie).toMatchObject({
      value: res.json().refresh_token,
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
    });
    expect(cookie).not.toHaveProperty('domain');
    const raw = String(res.headers['set-cookie']);
    expect(raw).toMatch(/;\s*HttpOnly/i);
    expect(raw).toMatch(/;\s*SameSite=Strict/i);
    expect(raw).toMatch(/;\s*Path=\/(;|$)/);
  });

  it('marks the cookie Secure with the __Host- prefix outside plain-HTTP mode', async () => {
    const res = await login(secure.app, user);
    expect(res.statusCode).toBe(200);
    expect(res.cookies.map((c) => c.name)).toEqual(['__Host-adb_refresh']);
    expect(res.cookies[0]).toMatchObject({
      value: res.json().refresh_token,
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
    });
    expect(res.cookies[0]).not.toHaveProperty('domain');
  });

  it('accepts a long passphrase', async () => {
    const username = randomName('long');
    const password = `${'correct horse battery staple '.repeat(8)}${randomPassword()}`;
    expect(password.length).toBeGreaterThan(200);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin.accessToken),
      payload: { username, email: `${username}@example.com`, password },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect((await login(t.app, { username, password })).statusCode).toBe(200);
    expect((await login(t.app, { username, password: password.slice(0, -1) })).statusCode).toBe(
      401,
    );
  });

  it('names the field of a bad body and rejects unknown fields', async () => {
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toContainEqual(
      expect.objectContaining({ path: '/body/password' }),
    );
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: user.username, password: user.password, remember: true },
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors).toContainEqual(expect.objectContaining({ path: '/body/remember' }));
  });
});

describe('a failed login', () => {
  it('answers an unknown name and a wrong password identically', async () => {
    const unknown = await login(t.app, {
      username: randomName('ghost'),
      password: randomPassword(),
    });
    const wrong = await login(t.app, { username: user.username, password: randomPassword() });
    for (const res of [unknown, wrong]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('invalid_credentials');
      expect(res.cookies).toEqual([]);
    }
    expect(problemWithoutRequestId(unknown)).toEqual(problemWithoutRequestId(wrong));
    for (const header of ['content-type', 'www-authenticate', 'cache-control']) {
      expect({ header, value: unknown.headers[header] }).toEqual({
        header,
        value: wrong.headers[header],
      });
    }
    // Reset the wrong-password user's failure count so later tests start clean.
    expect((await login(t.app, user)).statusCode).toBe(200);
  });

  it('answers a deactivated user with the right password like any other failure', async () => {
    const victim = await createUser(t.app, admin);
    const off = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${victim.id}`,
      headers: bearer(admin.accessToken),
      payload: { is_active: false },
    });
    expect(off.statusCode, off.body).toBe(200);
    const inactive = await login(t.app, victim);
    const unknown = await login(t.app, {
      username: randomName('ghost'),
      password: randomPassword(),
    });
    expect(inactive.statusCode).toBe(401);
    expect(problemWithoutRequestId(inactive)).toEqual(problemWithoutRequestId(unknown));
  });

  it('does the same argon2id verification for an unknown name as for a wrong password', async () => {
    const [stored] = await ownerQuery<{ password_hash: string }>(
      t.database,
      'SELECT password_hash FROM users WHERE id = $1',
      [user.id],
    );
    // "$argon2id$v=19$m=19456,t=2,p=1$": algorithm, version and cost of the user's real hash.
    const costPrefix = stored?.password_hash.split('$').slice(0, 4).join('$') ?? '';
    expect(costPrefix).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+$/);

    const burn = vi.spyOn(passwords, 'burnPasswordCheck');
    try {
      const ghostPassword = randomPassword();
      verifyMock.mockClear();
      const unknown = await login(t.app, {
        username: randomName('ghost'),
        password: ghostPassword,
      });
      expect(unknown.statusCode).toBe(401);
      expect(burn).toHaveBeenCalledTimes(1);
      expect(burn).toHaveBeenCalledWith(ghostPassword);
      // One real argon2 verification, against a dummy hash of the same algorithm and cost.
      expect(verifyMock).toHaveBeenCalledTimes(1);
      const [dummyHash, checked] = verifyMock.mock.calls[0] ?? [];
      expect(String(dummyHash).startsWith(`${costPrefix}$`)).toBe(true);
      expect(checked).toBe(ghostPassword);
      await expect(verifyMock.mock.results[0]?.value).resolves.toBe(false);

      burn.mockClear();
      verifyMock.mockClear();
      const wrong = await login(t.app, { username: user.username, password: randomPassword() });
      expect(wrong.statusCode).toBe(401);
      expect(burn).not.toHaveBeenCalled();
      expect(verifyMock).toHaveBeenCalledTimes(1);
      expect(verifyMock.mock.calls[0]?.[0]).toBe(stored?.password_hash);
    } finally {
      burn.mockRestore();
    }
    expect((await login(t.app, user)).statusCode).toBe(200);
  });

  it('refuses a megabyte-class password before hashing anything', async () => {
    verifyMock.mockClear();
    const res = await login(t.app, { username: user.username, password: 'x'.repeat(1025) });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
    expect(res.json().errors).toContainEqual(expect.objectContaining({ path: '/body/password' }));
    expect(verifyMock).not.toHaveBeenCalled();
    const huge = await login(t.app, { username: user.username, password: 'x'.repeat(900_000) });
    expect(huge.statusCode).toBe(400);
    expect(verifyMock).not.toHaveBeenCalled();
  });
});
