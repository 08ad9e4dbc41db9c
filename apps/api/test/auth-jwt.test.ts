import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtClaims, me, outcome } from './helpers/auth-helpers.js';
import { bearer, createUser, setupAdmin, type TestUser } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Access-token hardening (SECURITY "Authentication and sessions"): one pinned algorithm, never
 * `none`, no keys from the token header, exp/iss/aud/typ checked. Tokens are forged with the
 * 'jose' package and the test app's own key, so that only the one property under test is wrong;
 * a forged token with nothing wrong is accepted (the control that makes the others meaningful).
 */
let t: TestApp;
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await setupAdmin(t.app);
  user = await createUser(t.app, admin);
});

afterAll(async () => {
  await t?.close();
});

const INVALID = '401 invalid_token';

/** The claims of a valid access token for `user`'s open session. */
function validClaims(): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: user.id,
    sid: String(jwtClaims(user.accessToken).sid),
    typ: 'access',
    iss: 'accountdb',
    aud: 'accountdb-api',
    iat: now,
    exp: now + 900,
  };
}

async function forge(
  options: { claims?: JWTPayload; drop?: string[]; alg?: string; key?: Uint8Array } = {},
): Promise<string> {
  const claims: JWTPayload = { ...validClaims(), ...options.claims };
  for (const name of options.drop ?? []) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .sign(options.key ?? t.config.jwtSecret);
}

describe('a forged access token', () => {
  it('is accepted when nothing is wrong with it (control)', async () => {
    const res = await me(t.app, await forge());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user.id).toBe(user.id);
  });

  it('is refused with alg none', async () => {
    const token = new UnsecuredJWT(validClaims()).encode();
    expect(token.endsWith('.')).toBe(true);
    expect(outcome(await me(t.app, token))).toBe(INVALID);
    // Also with the signature part of a real token glued on.
    const signature = user.accessToken.split('.')[2];
    expect(outcome(await me(t.app, `${token}${signature}`))).toBe(INVALID);
  });

  it('is refused when signed with another key', async () => {
    const token = await forge({ key: randomBytes(32) });
    expect(outcome(await me(t.app, token))).toBe(INVALID);
  });

  it('is refused with another HMAC algorithm, even with the right key', async () => {
    expect(outcome(await me(t.app, await forge({ alg: 'HS512' })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ alg: 'HS384' })))).toBe(INVALID);
  });

  it('is refused when it brings its own key in the header', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    expect(outcome(await me(t.app, token))).toBe(INVALID);
  });

  it('is refused with a wrong issuer or audience', async () => {
    expect(outcome(await me(t.app, await forge({ claims: { iss: 'evil' } })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ claims: { aud: 'other-api' } })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ drop: ['iss'] })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ drop: ['aud'] })))).toBe(INVALID);
  });

  it('is refused when expired, or without an expiry', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge({ claims: { iat: now - 1000, exp: now - 100 } });
    expect(outcome(await me(t.app, expired))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ drop: ['exp'] })))).toBe(INVALID);
  });

  it('is refused when it is not an access token', async () => {
    expect(outcome(await me(t.app, await forge({ claims: { typ: 'refresh' } })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ drop: ['typ'] })))).toBe(INVALID);
  });

  it('is refused for a session that is not open for its subject', async () => {
    // Another user's subject with this user's session, and a session that never existed.
    expect(outcome(await me(t.app, await forge({ claims: { sub: admin.id } })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ claims: { sid: randomUUID() } })))).toBe(INVALID);
    expect(outcome(await me(t.app, await forge({ claims: { sub: randomUUID() } })))).toBe(INVALID);
  });
});

describe('the Authorization header', () => {
  it('refuses a refresh token used as a bearer access token', async () => {
    const res = await me(t.app, user.refreshToken);
    expect(outcome(res)).toBe(INVALID);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses anything but the Bearer scheme', async () => {
    for (const authorization of [
      user.accessToken,
      `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
      `Token ${user.accessToken}`,
      'Bearer',
      'Bearer ',
      `Bearer ${user.accessToken} extra`,
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization },
      });
      expect({ authorization, status: res.statusCode }).toEqual({ authorization, status: 401 });
    }
    // The scheme name itself is case-insensitive.
    const lower = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `bearer ${user.accessToken}` },
    });
    expect(lower.statusCode).toBe(200);
  });

  it('is the only place a token is taken from, never the URL', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/auth/me?access_token=${encodeURIComponent(user.accessToken)}`,
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses garbage that looks like a token', async () => {
    for (const token of ['a.b.c', 'adb_pat_short', `adb_pat_${'x'.repeat(40)}`, 'x'.repeat(5000)]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: bearer(token),
      });
      expect({ token: token.slice(0, 20), status: res.statusCode }).toEqual({
        token: token.slice(0, 20),
        status: 401,
      });
    }
  });
});
