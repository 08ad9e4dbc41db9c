import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { VERSION } from '../src/version.js';
import { bearer, randomName, setupAdmin, type TestUser } from './helpers/factories.js';
import { createTestApp, RELAXED_LIMITS, type TestApp, testConfig } from './helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The HTTP core every route shares: health, problem+json errors, validation, body limits,
 * request ids, the 5xx and database-error answers, security headers, CORS and OpenAPI.
 */

const THROWN_MESSAGE = 'boom: secret internal detail 7f3a';
const PROBE_CONSTRAINT = 'http_core_probe_secret_constraint_name';
const ALLOWED_ORIGIN = 'https://allowed.example.com';

let database: TestDatabase;
/** The app exactly as shipped (CORS closed). */
let t: TestApp;
/** The app with an allowed CORS origin and extra test-only routes. */
let custom: FastifyInstance;
let admin: TestUser;

async function exec(text: string): Promise<void> {
  const raw = database.raw;
  if (raw.kind === 'pglite') await raw.pglite.exec(text);
  else await raw.pool.query(text);
}

function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    request_id: res.headers['x-request-id'],
  });
  expect(body.request_id).toEqual(expect.any(String));
  return body as {
    detail: string;
    errors?: Array<{ path: string; message: string }>;
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  t = await createTestApp({ database });
  admin = await setupAdmin(t.app);

  await exec(`CREATE TABLE http_core_probe (k text CONSTRAINT ${PROBE_CONSTRAINT} UNIQUE)`);

  custom = await buildApp({
    config: testConfig({ corsOrigins: [ALLOWED_ORIGIN] }),
    database,
    logStream: false,
    limits: RELAXED_LIMITS,
  });
  custom.get('/api/v1/test-boom', { config: { auth: 'public' } }, async () => {
    const err = new Error(THROWN_MESSAGE);
    throw err;
  });
  // A unique violation raised through Drizzle (the way every route queries).
  custom.post('/api/v1/test-unique-drizzle', { config: { auth: 'public' } }, async () => {
    await database.ownerDb.execute(sql.raw(`INSERT INTO http_core_probe (k) VALUES ('same')`));
    await database.ownerDb.execute(sql.raw(`INSERT INTO http_core_probe (k) VALUES ('same')`));
    return { ok: true };
  });
  // The same violation raised by the driver itself (no Drizzle wrapper).
  custom.post('/api/v1/test-unique-raw', { config: { auth: 'public' } }, async () => {
    await exec(`INSERT INTO http_core_probe (k) VALUES ('raw')`);
    await exec(`INSERT INTO http_core_probe (k) VALUES ('raw')`);
    return { ok: true };
  });
  await custom.ready();
});

afterAll(async () => {
  await custom?.close();
  await t?.close();
  await database?.drop();
});

describe('health', () => {
  it('GET /api/health answers status ok, db ok and the version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      db: 'ok',
      version: VERSION,
      // The test config turns the Steam time source off (steam-time.test.ts covers it on).
      steam_time: { enabled: false, source: 'local', offset_s: 0, checked_at: null },
    });
  });
});

describe('problem+json errors', () => {
  it('an unknown route is 404 route_not_found', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/no-such-thing' });
    const body = expectProblem(res, 404, 'route_not_found');
    expect(body.detail).toContain('/api/v1/no-such-thing');
  });

  it('a body with an unknown field is 400 validation_error naming /body/<field>', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'someone', password: 'something long', is_admin: true },
    });
    const body = expectProblem(res, 400, 'validation_error');
    expect(body.errors).toContainEqual({ path: '/body/is_admin', message: expect.any(String) });
  });

  it('a missing required field is named', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'someone' },
    });
    const body = expectProblem(res, 400, 'validation_error');
    expect(body.errors).toContainEqual({ path: '/body/password', message: 'is required' });
  });

  it('a field of the wrong type is named', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: { nested: 'object' }, password: 'something long' },
    });
    const body = expectProblem(res, 400, 'validation_error');
    expect(body.errors?.map((e) => e.path)).toContain('/body/username');
    expect(body.detail).toContain('/body/username');
  });

  it('invalid JSON is 400 invalid_json', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "a", "password": ',
    });
    expectProblem(res, 400, 'invalid_json');
  });

  it('a body over 1 MiB is 413 payload_too_large', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'a', password: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('a body just under 1 MiB is not refused for its size', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'a', password: 'x'.repeat(1000 * 1000) }),
    });
    // Refused by the password length cap, not by the body limit.
    expectProblem(res, 400, 'validation_error');
  });

  it('an unsupported content type is 415', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/xml' },
      payload: '<login><username>a</username></login>',
    });
    expectProblem(res, 415, 'unsupported_media_type');
  });
});

describe('request ids', () => {
  it('echoes a sane x-request-id from the client', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/nowhere',
      headers: { 'x-request-id': 'client-req.42:abc_DEF' },
    });
    expect(res.headers['x-request-id']).toBe('client-req.42:abc_DEF');
    expect(res.json().request_id).toBe('client-req.42:abc_DEF');
  });

  it('generates one when the client sends none', async () => {
    const a = await t.app.inject({ method: 'GET', url: '/api/health' });
    const b = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('replaces an insane x-request-id (log injection, overlong) with a generated one', async () => {
    for (const bad of ['evil id\twith tab', 'x'.repeat(129), 'a"b{c}']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/health',
        headers: { 'x-request-id': bad },
      });
      expect(res.headers['x-request-id']).not.toBe(bad);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('server errors and database errors', () => {
  it('a 5xx answers internal_error without the thrown message or stack', async () => {
    const res = await custom.inject({ method: 'GET', url: '/api/v1/test-boom' });
    const body = expectProblem(res, 500, 'internal_error');
    expect(res.body).not.toContain('boom');
    expect(res.body).not.toContain('7f3a');
    expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack frame
    expect(res.body).not.toContain('stack');
    expect(body.detail).toContain(res.headers['x-request-id'] as string);
  });

  it('a unique violation raised through Drizzle is 409 without the constraint name', async () => {
    const res = await custom.inject({ method: 'POST', url: '/api/v1/test-unique-drizzle' });
    expectProblem(res, 409, 'conflict');
    expect(res.body).not.toContain(PROBE_CONSTRAINT);
    expect(res.body).not.toContain('http_core_probe');
    expect(res.body).not.toContain('INSERT');
  });

  it('a unique violation raised by the driver is 409 without the constraint name', async () => {
    const res = await custom.inject({ method: 'POST', url: '/api/v1/test-unique-raw' });
    expectProblem(res, 409, 'conflict');
    expect(res.body).not.toContain(PROBE_CONSTRAINT);
    expect(res.body).not.toContain('http_core_probe');
  });

  it('a duplicate username through the API is 409 without the constraint name', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin.accessToken),
      payload: {
        username: admin.username.toUpperCase(),
        email: `${randomName('other')}@example.com`,
        password: 'a long enough password',
        role: 'user',
      },
    });
    expectProblem(res, 409, 'username_taken');
    expect(res.body).not.toContain('users_username_lower_key');
    expect(res.body).not.toMatch(/constraint|duplicate key|23505/i);
  });
});

describe('GET /api/v1/auth/setup', () => {
  it('is limited per client address, apart from login attempts (429 with Retry-After)', async () => {
    const remoteAddress = '10.9.8.7';
    for (let i = 0; i < 120; i++) {
      const res = await custom.inject({ method: 'GET', url: '/api/v1/auth/setup', remoteAddress });
      expect(res.statusCode).toBe(200);
    }
    const limited = await custom.inject({
      method: 'GET',
      url: '/api/v1/auth/setup',
      remoteAddress,
    });
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    const other = await custom.inject({
      method: 'GET',
      url: '/api/v1/auth/setup',
      remoteAddress: '10.9.8.6',
    });
    expect(other.statusCode).toBe(200);
  });
});

describe('security headers', () => {
  it('API responses carry nosniff and a CSP with frame-ancestors none', async () => {
    for (const url of ['/api/health', '/api/v1/auth/setup', '/api/v1/nowhere']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['content-security-policy'], url).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('/api/v1 responses carry Cache-Control: no-store, errors included', async () => {
    const ok = await t.app.inject({ method: 'GET', url: '/api/v1/auth/setup' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(admin.accessToken),
    });
    expect(me.statusCode).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    const unauth = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(unauth.statusCode).toBe(401);
    expect(unauth.headers['cache-control']).toBe('no-store');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: admin.username, password: admin.password },
    });
    expect(login.statusCode).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
  });
});

describe('CORS', () => {
  it('is closed by default: an Origin gets no access-control-allow-origin', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/setup',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: {
        origin: 'https://evil.example.com',
        'access-control-request-method': 'POST',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an origin in corsOrigins is allowed, a foreign one is not', async () => {
    const allowed = await custom.inject({
      method: 'GET',
      url: '/api/v1/auth/setup',
      headers: { origin: ALLOWED_ORIGIN },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const preflight = await custom.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);

    const foreign = await custom.inject({
      method: 'GET',
      url: '/api/v1/auth/setup',
      headers: { origin: 'https://allowed.example.com.evil.net' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const foreignPreflight = await custom.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(foreignPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('OpenAPI and docs', () => {
  type Operation = {
    summary?: string;
    description?: string;
    responses?: Record<string, unknown>;
  };
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
  };

  beforeAll(async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });

  it('is OpenAPI 3.1.0 with a bearer security scheme', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('every /api/v1 operation has a summary, a description and a 4xx response', () => {
    const methods = ['get', 'post', 'put', 'patch', 'delete'];
    const operations: string[] = [];
    const missing: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!methods.includes(method)) continue;
        const name = `${method.toUpperCase()} ${path}`;
        operations.push(name);
        if (!op.summary?.trim()) missing.push(`${name}: summary`);
        if (!op.description?.trim()) missing.push(`${name}: description`);
        if (!Object.keys(op.responses ?? {}).some((s) => /^4\d\d$/.test(s))) {
          missing.push(`${name}: 4xx response`);
        }
      }
    }
    // The core routes are in the document at all.
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/login',
        'GET /api/v1/auth/me',
        'GET /api/v1/users',
        'POST /api/v1/tokens',
      ]),
    );
    expect(missing).toEqual([]);
  });

  it('GET /api/docs/ serves the interactive docs as HTML', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
