import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
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
import { sdaEncrypt, sdaManifest, sdaOldText } from './helpers/ma-files.js';
import { apiAs } from './helpers/support.js';
import { RELAXED_LIMITS, testConfig } from './helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The log: every request line carries request_id and the route pattern, never the URL; and no
 * line ever carries a secret the API takes, in a body, a header, a cookie or a query string.
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
    config: testConfig({ logLevel: 'trace', cookieSecure: false, registration: 'open' }),
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

  const fresh = await login(app, { username: admin.username, password: newPassword });
  expect(fresh.statusCode, fresh.body).toBe(200);
  const user = { ...admin, password: newPassword, accessToken: fresh.json().access_token };
  await exerciseUsers(user);
  await exerciseNodes(user);
  await exerciseAccounts(user);
  await exerciseCards(user);
  await exerciseQueries(user);
  await exerciseUnparsableRequest();
});

/** A value no other line could contain by chance. */
const unique = (what: string) => `${what}-${crypto.randomUUID().slice(0, 13)}`;

/** Calls /api/v1 as a user, with the (method, url, payload, headers) of apiAs. */
const as = (user: TestUser) => {
  const call = apiAs(app);
  return (method: string, url: string, payload?: unknown, headers?: Record<string, string>) =>
    call(user, method, url, payload, headers);
};

/** Registration, refresh in a body, an admin setting a user's password. */
async function exerciseUsers(user: TestUser): Promise<void> {
  const password = randomPassword();
  secrets.push(['registration password', password]);
  const username = unique('reg').replace('-', '_');
  const registered = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { username, email: `${username}@example.com`, password },
  });
  expect(registered.statusCode, registered.body).toBe(201);
  const loggedIn = await login(app, { username, password });
  expect(loggedIn.statusCode, loggedIn.body).toBe(200);
  const session = loggedIn.json() as { access_token: string; refresh_token: string };
  secrets.push(
    ['registration access token', session.access_token],
    ['registration refresh token', session.refresh_token],
  );
  const refreshed = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    payload: { refresh_token: session.refresh_token },
  });
  expect(refreshed.statusCode, refreshed.body).toBe(200);
  secrets.push(['refresh token from a body', refreshed.json().refresh_token]);

  const created = randomPassword();
  const reset = randomPassword();
  secrets.push(['password of a user an admin creates', created], ['password an admin sets', reset]);
  const other = unique('u').replace('-', '_');
  const made = await as(user)('POST', '/users', {
    username: other,
    email: `${other}@example.com`,
    password: created,
  });
  expect(made.statusCode, made.body).toBe(201);
  const patched = await as(user)('PATCH', `/users/${made.json().id}`, { password: reset });
  expect(patched.statusCode, patched.body).toBe(200);
}

/** A node's key: in the create answer and its agent configuration, then as a Bearer token. */
async function exerciseNodes(user: TestUser): Promise<void> {
  const node = await as(user)('POST', '/proxmox-nodes', { name: unique('pve') });
  expect(node.statusCode, node.body).toBe(201);
  const key = node.json().api_key as string;
  secrets.push(['node key', key]);
  const heartbeat = await app.inject({
    method: 'POST',
    url: '/api/v1/agent/heartbeat',
    headers: bearer(key),
    payload: { status: 'ok', agent_version: '0.1.0' },
  });
  expect(heartbeat.statusCode, heartbeat.body).toBe(204);
  const config = await app.inject({
    method: 'GET',
    url: '/api/v1/agent/config',
    headers: bearer(key),
  });
  expect(config.statusCode).toBe(200);
  const rotated = await as(user)('POST', `/proxmox-nodes/${node.json().id}/rotate-key`);
  expect(rotated.statusCode).toBe(200);
  secrets.push(['rotated node key', rotated.json().api_key]);
  // The old key, refused, and a node key where it is not accepted.
  const refused = await app.inject({
    method: 'GET',
    url: '/api/v1/agent/config',
    headers: bearer(key),
  });
  expect(refused.statusCode).toBe(401);
  const elsewhere = await app.inject({
    method: 'GET',
    url: '/api/v1/hardware',
    headers: bearer(rotated.json().api_key),
  });
  expect(elsewhere.statusCode).toBe(401);
}

/** Account secrets on create, update, bulk and import (JSON and CSV), revealed and exported. */
async function exerciseAccounts(user: TestUser): Promise<void> {
  const call = as(user);
  const values = {
    password: unique('acc-password'),
    email_password: unique('acc-email-password'),
    vault_password: unique('acc-vault-password'),
    // A Steam identity_secret is 20 bytes (steam-secret.ts), as is shared below.
    identity_secret: Buffer.from(unique('ident1')).toString('base64'),
    revocation_code: unique('R'),
  };
  const shared = Buffer.from(unique('shared')).toString('base64');
  const totp = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';
  for (const [field, value] of Object.entries(values)) secrets.push([`account ${field}`, value]);
  secrets.push(['account shared_secret', shared], ['account totp_secret', totp]);
  const deviceId = unique('android');
  secrets.push(['steam_guard device id', deviceId]);
  const created = await call('POST', '/accounts', {
    username: unique('acct'),
    ...values,
    shared_secret: shared,
    steam_guard: { device_id: deviceId },
  });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const patched = unique('acc-new-password');
  secrets.push(['account password in an update', patched]);
  expect(
    (await call('PATCH', `/accounts/${id}`, { password: patched, totp_secret: totp })).statusCode,
  ).toBe(200);
  const bulk = unique('acc-bulk-password');
  secrets.push(['account password in a bulk create', bulk]);
  expect(
    (await call('POST', '/accounts/bulk', { items: [{ username: unique('b'), password: bulk }] }))
      .statusCode,
  ).toBe(200);
  const imported = unique('acc-import-password');
  const importedVault = unique('acc-import-vault');
  secrets.push(
    ['account password in a JSON import', imported],
    ['vault password in a legacy import', importedVault],
  );
  const json = await call('POST', '/accounts/import', [
    { username: unique('i'), password: imported },
    {
      id: '76561198000000999',
      user: { username: unique('l'), password: imported },
      vault: { address: 'v@example.com', password: importedVault },
    },
  ]);
  expect(json.json(), json.body).toMatchObject({ failed: 0 });
  const csvPassword = unique('acc-csv-password');
  secrets.push(['account password in a CSV import', csvPassword]);
  const csv = await call(
    'POST',
    '/accounts/import',
    `username,password\n${unique('c')},${csvPassword}\n`,
    {
      'content-type': 'text/csv',
    },
  );
  expect(csv.json(), csv.body).toMatchObject({ created: 1 });
  // A refused write that carries secrets: its answer names fields, the log holds none.
  const badSecret = unique('acc-refused-password');
  secrets.push(['account password in a refused body', badSecret]);
  expect((await call('POST', '/accounts', { username: '', password: badSecret })).statusCode).toBe(
    400,
  );
  // An SDA folder: the passkey (right, then wrong) and the file's secrets in no log line.
  const passkey = unique('sda-passkey');
  const maRevocation = unique('R');
  secrets.push(['SDA passkey', passkey], ['maFile revocation_code', maRevocation]);
  const salt = randomBytes(8);
  const iv = randomBytes(16);
  const maFileText = sdaOldText({
    steamId: '76561198000000777',
    name: unique('ma'),
    serial: '1',
  }).replace('"R12345"', `"${maRevocation}"`);
  const folder = (key: string) => ({
    files: [
      {
        name: 'manifest.json',
        content: sdaManifest({
          encrypted: true,
          entries: [{ filename: 'a.maFile', steamId: '76561198000000777', salt, iv }],
        }),
      },
      { name: 'a.maFile', content: sdaEncrypt({ passkey, salt, iv, text: maFileText }) },
    ],
    passkey: key,
  });
  expect((await call('POST', '/accounts/import/mafiles', folder(passkey))).statusCode).toBe(200);
  expect((await call('POST', '/accounts/import/mafiles', folder(`${passkey}x`))).statusCode).toBe(
    400,
  );
  expect((await call('GET', `/accounts/${id}/secrets`)).statusCode).toBe(200);
  expect((await call('GET', `/accounts/${id}/totp`)).statusCode).toBe(200);
  expect((await call('GET', '/accounts/export?include_secrets=true&format=csv')).statusCode).toBe(
    200,
  );
}

/** Card codes on create, bulk, import and lookup, revealed, claimed and exported. */
async function exerciseCards(user: TestUser): Promise<void> {
  const call = as(user);
  const [code1, code2, bulk, imported, importedPin, lookedUp] = [
    'card-code1',
    'card-code2',
    'card-bulk',
    'card-import',
    'card-import-pin',
    'card-lookup',
  ].map((what) => {
    const value = unique(what).toUpperCase();
    secrets.push([what, value]);
    return value;
  }) as [string, string, string, string, string, string];
  const created = await call('POST', '/cards', { code1, code2 });
  expect(created.statusCode, created.body).toBe(201);
  expect((await call('POST', '/cards/bulk', { items: [{ code1: bulk }] })).statusCode).toBe(200);
  const text = `${imported},${importedPin}\n`;
  expect(
    (await call('POST', '/cards/import', text, { 'content-type': 'text/plain' })).json(),
  ).toMatchObject({ created: 1 });
  expect((await call('POST', '/cards/lookup', { code: code1 })).json().total).toBe(1);
  expect((await call('POST', '/cards/lookup', { code: lookedUp })).json().total).toBe(0);
  expect((await call('GET', `/cards/${created.json().id}`)).statusCode).toBe(200);
  expect((await call('POST', '/cards/claim', { lease_seconds: 60 })).statusCode).toBe(200);
  expect((await call('GET', '/cards/export?include_codes=true&format=json')).statusCode).toBe(200);
  // The lookup of earlier versions, a code in the URL: refused, and not logged.
  expect((await call('GET', `/cards?code=${encodeURIComponent(code2)}`)).statusCode).toBe(400);
}

/**
 * Secrets in query strings, by every name a secret goes by and by none, on matched routes
 * (with and without a query schema), on a refused one and on no route at all.
 */
async function exerciseQueries(user: TestUser): Promise<void> {
  const names = ['code', 'token', 'password', 'secret', 'key', 'api_key', 'access_token', 'q'];
  const query = () => {
    const pairs = names.map((name) => {
      const value = unique(`query-${name}`);
      secrets.push([`?${name}=`, value]);
      return `${name}=${encodeURIComponent(value)}`;
    });
    const bare = unique('bare-query-name');
    secrets.push(['a query name alone', bare]);
    return `${pairs.join('&')}&${bare}`;
  };
  for (const path of [
    '/api/v1/hardware',
    '/api/v1/auth/me',
    '/api/v1/cards',
    '/api/health',
    '/api/v1/no-such-route',
    `/api/v1/hardware/${crypto.randomUUID()}`,
  ]) {
    const res = await app.inject({
      method: 'GET',
      url: `${path}?${query()}`,
      headers: bearer(user.accessToken),
    });
    expect(res.statusCode, path).toBeLessThan(500);
  }
  const searched = unique('search-term');
  secrets.push(['a search term', searched]);
  expect((await as(user)('GET', `/hardware?q=${searched}&limit=5`)).statusCode).toBe(200);
}

/**
 * A request Node cannot parse: Fastify logs the client error (at trace), whose `rawPacket`
 * holds the request's bytes, URL and Authorization header included.
 */
async function exerciseUnparsableRequest(): Promise<void> {
  const value = unique('raw-packet-token');
  const authorization = unique('raw-packet-bearer');
  secrets.push(
    ['query of an unparsable request', value],
    ['bearer of an unparsable request', authorization],
  );
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = new URL(address);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `GET /api/v1/hardware?token=${value} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${authorization}\r\nBad\u0001Header: y\r\n\r\n`,
      );
    });
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  expect(raw.some((line) => line.includes('"msg":"client error"'))).toBe(true);
}

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

describe('what a request line says of the request', () => {
  const requests = () =>
    lines()
      .filter((l) => l.msg === 'incoming request')
      .map((l) => l.req as Record<string, unknown>);

  it('the route pattern, never the URL', () => {
    expect(requests().length).toBeGreaterThan(40);
    expect(requests().filter((r) => 'url' in r)).toEqual([]);
    expect(requests().map((r) => r.route)).toEqual(
      expect.arrayContaining(['/api/v1/hardware/:id', '/api/v1/auth/me', '/api/v1/cards/lookup']),
    );
  });

  it('the names of the query parameters the route declares, and how many others came', () => {
    const lists = requests().filter((r) => r.route === '/api/v1/hardware');
    expect(lists).toContainEqual(expect.objectContaining({ query: ['q', 'limit'] }));
    // The probe with secrets: q is declared (its value is not logged), the rest only counted.
    expect(lists).toContainEqual(expect.objectContaining({ query: ['q'], query_other: 8 }));
    expect(
      requests().find((r) => r.route === '/api/v1/auth/me' && 'query_other' in r),
    ).toMatchObject({ query_other: 9 });
  });

  it('a request no route matched: its path without the query', () => {
    const unmatched = requests().filter((r) => r.route === null);
    expect(unmatched).toContainEqual(
      expect.objectContaining({ path: '/api/v1/no-such-route', query_other: 9 }),
    );
    expect(unmatched.filter((r) => String(r.path).includes('?'))).toEqual([]);
  });

  it('the client error of an unparsable request, without its raw bytes', () => {
    const line = lines().find((l) => l.msg === 'client error');
    expect(line?.err).toMatchObject({ rawPacket: '[omitted]' });
  });
});

describe('URLs quoted in messages and errors', () => {
  it('lose their query', () => {
    const before = raw.length;
    const [inMessage, inError, inStack] = ['msg', 'err', 'stack'].map((w) => unique(`quoted-${w}`));
    app.log.warn(`Reply was already sent for GET /api/v1/cards?code=${inMessage}&limit=5`);
    const error = new Error(`could not fetch https://example.com/x?token=${inError}`);
    error.stack = `Error: at /api/v1/hardware?password=${inStack}\n    at somewhere (file.js:1:1)`;
    app.log.error({ err: error }, 'quoting');
    const added = raw.slice(before).join('\n');
    expect(added).toContain('GET /api/v1/cards?…');
    expect(added).toContain('https://example.com/x?…');
    for (const value of [inMessage, inError, inStack]) expect(added).not.toContain(value);
  });
});

describe('secrets in the log', () => {
  it('were really exercised', () => {
    expect(raw.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThanOrEqual(15);
    // The request with the headers was logged (so the check below means something).
    expect(
      lines().some((l) => (l.req as { route?: string } | undefined)?.route === '/api/v1/auth/me'),
    ).toBe(true);
    expect(secrets.length).toBeGreaterThanOrEqual(80);
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
