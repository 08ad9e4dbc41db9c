import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiUser,
  call,
  createUser,
  newKeys,
  setupUsers,
} from '../../api/test/helpers/api-process.js';
import { randomName } from '../../api/test/helpers/factories.js';
import {
  baseEnv,
  freePort,
  killServers,
  type Server,
  start,
  stop,
  waitHealthy,
} from '../../api/test/helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../../api/test/helpers/test-db.js';
import { ensureWebBuild, startWeb, stopWeb, type WebServer } from './helpers/web-process.js';

/**
 * The web server tells the API the truth (issue 12): the built web UI as npm start runs it, in
 * front of a real API process with TRUST_PROXY=loopback (on PostgreSQL when TEST_DATABASE_URL
 * is set, else on the embedded database). One web server believes nobody's X-Forwarded-*;
 * the other has WEB_TRUST_PROXY=127.0.0.1 (and COOKIE_SECURE=true), as behind Caddy on the
 * same host.
 */

let database: TestDatabase;
let dataDir: string;
let api: Server;
let admin: ApiUser;
let web: WebServer;
let trusting: WebServer;

/**
 * Every answer of a web server in this file (pages, static files, API answers of every kind
 * the tests above ask for), for the check that none leaks the API.
 */
const answers: Array<{ what: string; headers: Headers }> = [];

async function through(
  server: WebServer,
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  const res = await fetch(`${server.url}${url}`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(60_000),
    ...init,
  });
  answers.push({ what: `${init.method ?? 'GET'} ${url} → ${res.status}`, headers: res.headers });
  return res;
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Audit entries of every user (scope=all) for an action, straight from the API. */
async function audit(action: string): Promise<Array<{ ip: string | null; request_id: string }>> {
  const answer = await call(api, admin.token, 'GET', `/audit?action=${action}&limit=500&scope=all`);
  expect(answer.status, answer.text).toBe(200);
  return (answer.json() as { items: Array<{ ip: string | null; request_id: string }> }).items;
}

/** A new user, created by the admin straight at the API. */
const newUser = (prefix: string) => createUser(api, { adminToken: admin.token, prefix });

/**
 * Logs a user in through the trusting web server as the client `address` behind its proxy:
 * the per-address limit of 127.0.0.1 is used up by the test of that limit.
 */
function loginAs(user: { username: string; password: string }, address: string) {
  return through(trusting, '/api/v1/auth/login', {
    method: 'POST',
    ...json(user, { 'x-forwarded-for': address }),
  });
}

beforeAll(async () => {
  await ensureWebBuild();
  dataDir = mkdtempSync(path.join(tmpdir(), 'adb-forwarding-'));
  database = await createTestDatabase();
  const port = await freePort();
  api = start(
    {
      ...baseEnv(),
      ...newKeys(),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      // As npm start runs it: the API believes the web server on this machine.
      TRUST_PROXY: 'loopback',
      ...(database.url ? { DATABASE_URL: database.url } : { ACCOUNTDB_DATA_DIR: dataDir }),
    },
    port,
  );
  // Else the API opens the embedded database in the data dir.
  if (!database.url) await database.drop();
  await waitHealthy(api);
  ({ admin } = await setupUsers(api, 0));
  [web, trusting] = await Promise.all([
    startWeb({ apiPort: port, env: baseEnv() }),
    startWeb({
      apiPort: port,
      env: { ...baseEnv(), WEB_TRUST_PROXY: '127.0.0.1', COOKIE_SECURE: 'true' },
    }),
  ]);
}, 600_000);

afterAll(async () => {
  await Promise.all([web, trusting].filter(Boolean).map((w) => stopWeb(w)));
  killServers();
  if (database?.url) await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the web server in front of the API', () => {
  it('keeps the per-address login limit whatever X-Forwarded-For says, and audits 127.0.0.1', async () => {
    const forgedLogin = await through(web, '/api/v1/auth/login', {
      method: 'POST',
      ...json(
        { username: admin.username, password: 'wrong, and from a made-up address' },
        { 'x-forwarded-for': '203.0.113.250', 'x-request-id': `forged-admin-${admin.id}` },
      ),
    });
    expect(forgedLogin.status).toBe(401);

    const requestIds: string[] = [];
    const answers25: Array<{ status: number; retryAfter: string | null }> = [];
    for (let i = 1; i <= 25; i++) {
      const requestId = `forged-${i}-${randomName('req')}`;
      requestIds.push(requestId);
      const res = await through(web, '/api/v1/auth/login', {
        method: 'POST',
        ...json(
          { username: randomName('nobody'), password: 'wrong password 123' },
          {
            'x-forwarded-for': `203.0.113.${i}`,
            'x-real-ip': `203.0.113.${i}`,
            forwarded: `for=203.0.113.${i}`,
            'x-request-id': requestId,
          },
        ),
      });
      await res.arrayBuffer();
      answers25.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
    }
    const statuses = answers25.map((a) => a.status);
    const first429 = statuses.indexOf(429);
    // 20 attempts a minute from one address (some used above and by the setup): the limit
    // comes by the 21st attempt, and stays.
    expect(first429, statuses.join(' ')).toBeGreaterThanOrEqual(0);
    expect(first429, statuses.join(' ')).toBeLessThan(21);
    expect(statuses.slice(0, first429).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    expect(answers25[first429]?.retryAfter).toMatch(/^[1-9]\d*$/);

    // The audit log has the socket's address, never the claimed one.
    const failed = (await audit('auth.login_failed')).filter((e) =>
      [`forged-admin-${admin.id}`, ...requestIds].includes(e.request_id),
    );
    expect(failed.length).toBe(first429 + 1);
    expect(failed.map((e) => e.ip)).toEqual(failed.map(() => '127.0.0.1'));
  });

  it('believes X-Forwarded-For from a proxy named in WEB_TRUST_PROXY, as far as it is trusted', async () => {
    const { username, password } = await newUser('proxied');
    // The client claimed 198.51.100.7 to the proxy on 127.0.0.1, which added the address it saw.
    const viaProxy = await through(trusting, '/api/v1/auth/login', {
      method: 'POST',
      ...json(
        { username, password },
        { 'x-forwarded-for': '198.51.100.7, 203.0.113.200', 'x-request-id': `proxied-${username}` },
      ),
    });
    // The per-address limit of 127.0.0.1, used up above, is not the client's.
    expect(viaProxy.status).toBe(200);
    const entry = (await audit('auth.login')).find((e) => e.request_id === `proxied-${username}`);
    expect(entry?.ip).toBe('203.0.113.200');
  });

  it('passes answers through: cookies, Location, ETag/If-Match, problems, exports, body limits', async () => {
    const login = await loginAs(await newUser('fwd'), '203.0.113.31');
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('adb_refresh='));
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };

    const post = await through(web, '/api/v1/accounts', {
      method: 'POST',
      ...json({ username: randomName('acct'), notes: 'first' }, auth),
    });
    expect(post.status).toBe(201);
    const id = ((await post.json()) as { id: string }).id;
    expect(post.headers.get('location')).toBe(`/api/v1/accounts/${id}`);
    const etag = post.headers.get('etag') ?? '';
    expect(etag).not.toBe('');

    const stale = await through(web, `/api/v1/accounts/${id}`, {
      method: 'PATCH',
      ...json({ notes: 'second' }, { ...auth, 'if-match': '"stale"' }),
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const patched = await through(web, `/api/v1/accounts/${id}`, {
      method: 'PATCH',
      ...json({ notes: 'second' }, { ...auth, 'if-match': etag }),
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).not.toBe(etag);

    // The export streams through unchanged.
    const viaWeb = await through(web, '/api/v1/accounts/export?format=csv', { headers: auth });
    const direct = await fetch(`${api.url}/api/v1/accounts/export?format=csv`, { headers: auth });
    expect(viaWeb.status).toBe(200);
    expect(viaWeb.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    expect(viaWeb.headers.get('content-disposition')).toMatch(/attachment; filename=/);
    expect(await viaWeb.text()).toBe(await direct.text());

    // Bodies reach the API whole (12 MiB gets past the 10 MiB that a Next.js proxy buffers),
    // and the API's limits apply: the notes are refused for their length, not cut off.
    const big = await through(web, '/api/v1/accounts/bulk', {
      method: 'POST',
      ...json({ items: [{ username: 'big', notes: 'n'.repeat(12 * 1024 * 1024) }] }, auth),
    });
    const bigText = await big.text();
    expect([400, 422], bigText).toContain(big.status);
    expect(bigText).toMatch(/notes/);
    // An answer the API gives before reading a body (here: no token) reaches the client, which
    // may finish sending; its connection is not cut.
    for (let i = 0; i < 4; i++) {
      const early = await through(web, '/api/v1/accounts/bulk', {
        method: 'POST',
        ...json({ items: [{ username: 'early', notes: 'n'.repeat(8 * 1024 * 1024) }] }),
      });
      expect(early.status).toBe(401);
      expect(await early.json()).toMatchObject({ status: 401 });
    }
  });

  it("tells the API the scheme and host it saw: the refresh cookie's Origin check holds", async () => {
    const login = await loginAs(await newUser('origin'), '203.0.113.32');
    expect(login.status).toBe(200);
    let cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const refresh = (server: WebServer, headers: Record<string, string>) =>
      through(server, '/api/v1/auth/refresh', {
        method: 'POST',
        ...json({}, { cookie, 'x-accountdb-csrf': '1', ...headers }),
      });

    // A page on http://… that claims https (or another host) to the API is refused …
    const forged = await refresh(web, {
      origin: `https://127.0.0.1:${web.port}`,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': `127.0.0.1:${web.port}`,
    });
    expect(forged.status, await forged.text()).toBe(403);
    // … the truth passes …
    const honest = await refresh(web, { origin: `http://127.0.0.1:${web.port}` });
    expect(honest.status, await honest.clone().text()).toBe(200);
    cookie = (honest.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    // … and behind a trusted proxy, the scheme and host it reports are the truth.
    const proxied = await refresh(trusting, {
      origin: 'https://accountdb.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'accountdb.example',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(proxied.status, await proxied.text()).toBe(200);
  });

  it('gives every page a strict Content Security Policy with a fresh nonce', async () => {
    const policies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await through(web, '/login');
      expect(page.status).toBe(200);
      const policy = page.headers.get('content-security-policy') ?? '';
      policies.push(policy);
      const nonce = /'nonce-([^']+)'/.exec(policy)?.[1] ?? '';
      expect(nonce.length).toBeGreaterThanOrEqual(16);
      const scriptSrc = policy.split('; ').find((d) => d.startsWith('script-src ')) ?? '';
      expect(scriptSrc).toBe(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
      for (const directive of [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ]) {
        expect(policy.split('; ')).toContain(directive);
      }
      expect(policy).not.toContain('upgrade-insecure-requests');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      // Plain HTTP (COOKIE_SECURE unset): no HSTS.
      expect(page.headers.get('strict-transport-security')).toBeNull();
      // Next.js put this answer's nonce on every script of the page.
      const html = await page.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    }
    expect(policies[0]).not.toBe(policies[1]);

    // Served over TLS (COOKIE_SECURE=true, as the API reads it): HSTS and https subresources.
    const secure = await through(trusting, '/login');
    expect(secure.headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(secure.headers.get('content-security-policy')).toMatch(/; upgrade-insecure-requests$/);
    await secure.arrayBuffer();
  });

  it("sends no internal header and nothing of the API's address", async () => {
    const login = await (await through(web, '/login')).text();
    const chunk = /src="(\/_next\/static\/[^"]+\.js)"/.exec(login)?.[1];
    expect(chunk).toBeDefined();
    for (const url of ['/', '/nope', chunk ?? '', '/api/health', '/api/docs', '/api/v1/nope']) {
      await (await through(web, url)).arrayBuffer();
    }
    const apiAddress = `:${api.port}`;
    for (const { what, headers } of answers) {
      for (const [name, value] of headers) {
        expect(name, what).not.toMatch(/^x-middleware-/);
        expect(value, `${what}: ${name}`).not.toContain(apiAddress);
      }
    }
  });

  it('answers 502 with a problem when the API is down, without naming it', async () => {
    expect(await stop(api)).toBe(0);
    const res = await through(web, '/api/health');
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ status: 502, code: 'api_unreachable' });
    expect(body).not.toContain(String(api.port));
  });
});
