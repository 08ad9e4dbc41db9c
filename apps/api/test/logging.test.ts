import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import {
  bearer,
  createToken,
  login,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { RELAXED_LIMITS, testConfig } from './helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The log: every request line carries request_id, and no line ever carries a password,
 * a token, or the Authorization / Cookie header values.
 */

type LogLine = Record<string, unknown> & { msg?: string; request_id?: string };

const raw: string[] = [];
/** A pino destination that keeps every line. */
const stream: DestinationStream = { write: (line: string) => void raw.push(line) };
const lines = (): LogLine[] => raw.map((l) => JSON.parse(l) as LogLine);

const QUERY_SECRET = `query-param-secret-${Date.now()}`;

let database: TestDatabase;
let app: FastifyInstance;
let admin: TestUser;
/** Every secret value that passed through the API in this file. */
const secrets: Array<[what: string, value: string]> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp({
    config: testConfig({ logLevel: 'trace', cookieSecure: false }),
    database,
    logStream: stream,
    limits: RELAXED_LIMITS,
  });
  // A query failing with a secret among its parameters: the 5xx log must not carry them.
  app.post('/api/v1/test-failing-query', { config: { auth: 'public' } }, async () => {
    await database.db.execute(sql`SELECT ${QUERY_SECRET}::text AS s, 1 / 0 AS boom`);
    return { ok: true };
  });
  await app.ready();

  admin = await setupAdmin(app);
  secrets.push(
    ['admin password', admin.password],
    ['setup access token', admin.accessToken],
    ['setup refresh token', admin.refreshToken],
  );

  const wrongPassword = randomPassword();
  secrets.push(['wrong password', wrongPassword]);
  const wrong = await login(app, { username: admin.username, password: wrongPassword });
  expect(wrong.statusCode).toBe(401);

  const ok = await login(app, admin);
  expect(ok.statusCode).toBe(200);
  const session = ok.json() as { access_token: string; refresh_token: string };
  secrets.push(
    ['login access token', session.access_token],
    ['login refresh token', session.refresh_token],
  );
  const setCookie = String(ok.headers['set-cookie']);
  expect(setCookie).toContain(session.refresh_token);

  const pat = await createToken(app, { ...admin, accessToken: session.access_token });
  secrets.push(['personal access token', pat.token]);

  // A request with Authorization, Cookie and X-API-Key headers.
  const cookie = `adb_refresh=${session.refresh_token}; other=cookie-value-${Date.now()}`;
  secrets.push(['cookie header', cookie], ['authorization header', `Bearer ${pat.token}`]);
  const me = await app.inject({
    method: 'GET',
    url: '/api/v1/auth/me',
    headers: { ...bearer(pat.token), cookie, 'x-api-key': pat.token },
  });
  expect(me.statusCode).toBe(200);

  // The refresh cookie used as meant, rotating it.
  const refreshed = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    headers: { cookie: `adb_refresh=${session.refresh_token}`, 'x-accountdb-csrf': '1' },
  });
  expect(refreshed.statusCode, refreshed.body).toBe(200);
  const rotated = refreshed.json() as { access_token: string; refresh_token: string };
  secrets.push(
    ['rotated access token', rotated.access_token],
    ['rotated refresh token', rotated.refresh_token],
  );

  // A password change: both passwords in the body.
  const newPassword = randomPassword();
  secrets.push(['new password', newPassword]);
  const changed = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers: bearer(rotated.access_token),
    payload: { current_password: admin.password, new_password: newPassword },
  });
  expect(changed.statusCode, changed.body).toBe(204);

  // A refused body that carries a password, and a bad bearer token.
  const invalidPassword = randomPassword();
  secrets.push(['password in an invalid body', invalidPassword]);
  const invalid = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: admin.username, password: invalidPassword, extra: 1 },
  });
  expect(invalid.statusCode).toBe(400);
  const badBearer = `not-a-valid-jwt-${Date.now()}`;
  secrets.push(['invalid bearer token', badBearer]);
  const denied = await app.inject({
    method: 'GET',
    url: '/api/v1/auth/me',
    headers: bearer(badBearer),
  });
  expect(denied.statusCode).toBe(401);

  secrets.push(['parameter of a failing query', QUERY_SECRET]);
  const failed = await app.inject({
    method: 'POST',
    url: '/api/v1/test-failing-query',
    headers: { 'x-request-id': 'failing-query-1' },
  });
  expect(failed.statusCode).toBe(500);
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe('request log lines', () => {
  it('every one carries request_id', () => {
    const requestLines = lines().filter(
      (l) => 'req' in l || 'res' in l || 'reqId' in l || 'responseTime' in l,
    );
    // At least an incoming and a completed line per request made above.
    expect(requestLines.length).toBeGreaterThanOrEqual(2 * 10);
    const without = requestLines.filter(
      (l) => typeof l.request_id !== 'string' || l.request_id === '',
    );
    expect(without).toEqual([]);
    // No line carries Fastify's default label instead.
    expect(lines().filter((l) => 'reqId' in l)).toEqual([]);
  });

  it('the 5xx error line carries the request id the client sent', () => {
    const errorLine = lines().find((l) => l.msg === 'request failed');
    expect(errorLine).toBeDefined();
    expect(errorLine?.request_id).toBe('failing-query-1');
    expect(errorLine?.level).toBe(50);
    // Still useful: the database's error and the SQL text, without the parameter values.
    expect(errorLine?.err).toMatchObject({ code: '22012', message: 'division by zero' });
    expect(errorLine?.query).toContain('1 / 0');
  });
});

describe('secrets in the log', () => {
  it('were really exercised', () => {
    expect(raw.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThanOrEqual(15);
    // The request with the headers was logged (so the check below means something).
    expect(
      lines().some(
        (l) => (l.req as { url?: string } | undefined)?.url === '/api/v1/auth/me' && 'req' in l,
      ),
    ).toBe(true);
  });

  it('no line carries a password, a token, or an Authorization or Cookie value', () => {
    const leaks: string[] = [];
    for (const [what, value] of secrets) {
      for (const line of raw) {
        if (line.includes(value)) leaks.push(`${what}: ${line.slice(0, 200)}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('redacts nested secret fields of a logged object', () => {
    const before = raw.length;
    app.log.info(
      {
        password: 'top-level-pw',
        account: { password: 'nested-pw', totp_secret: 'JBSWY3DPEHPK3PXP', name: 'visible' },
        deep: { session: { refresh_token: 'deep-refresh', access_token: 'deep-access' } },
        token: 'adb_pat_secretsecretsecret',
        headers: { authorization: 'Bearer header-secret', cookie: 'c=cookie-secret' },
        user: { passwordHash: '$argon2id$v=19$hash', new_password: 'np', current_password: 'cp' },
        card: { code1: 'CARD-CODE-1', code2: 'CARD-CODE-2' },
      },
      'an object with secrets',
    );
    const added = raw.slice(before);
    expect(added).toHaveLength(1);
    const line = JSON.parse(added[0] ?? '{}');
    expect(line).toMatchObject({
      password: '[redacted]',
      account: { password: '[redacted]', totp_secret: '[redacted]', name: 'visible' },
      deep: { session: { refresh_token: '[redacted]', access_token: '[redacted]' } },
      token: '[redacted]',
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
      user: {
        passwordHash: '[redacted]',
        new_password: '[redacted]',
        current_password: '[redacted]',
      },
      card: { code1: '[redacted]', code2: '[redacted]' },
    });
    for (const value of [
      'top-level-pw',
      'nested-pw',
      'JBSWY3DPEHPK3PXP',
      'deep-refresh',
      'deep-access',
      'adb_pat_secretsecretsecret',
      'header-secret',
      'cookie-secret',
      '$argon2id$',
      'CARD-CODE',
    ]) {
      expect(added[0]).not.toContain(value);
    }
  });
});
