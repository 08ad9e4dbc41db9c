import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer } from './factories.js';
import type { TestDatabase } from './test-db.js';

export { ownerQuery } from './support.js';

/**
 * Small helpers shared by the auth-*.test.ts files.
 */

/**
 * Runs one statement as the schema owner in a transaction with app.role = 'system', which the
 * users guard trigger requires for changes to role, is_active or lockout state. Tests use it to
 * change state behind the API's back (and say so and why where they do).
 */
export async function ownerUpdate(
  database: TestDatabase,
  text: string,
  params: unknown[] = [],
): Promise<number> {
  const raw = database.raw;
  const context = `SELECT set_config('app.role', 'system', true)`;
  if (raw.kind === 'pglite') {
    return raw.pglite.transaction(async (tx) => {
      await tx.query(context);
      return (await tx.query(text, params)).affectedRows ?? 0;
    });
  }
  const client = await raw.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(context);
    const result = await client.query(text, params);
    await client.query('COMMIT');
    return result.rowCount ?? 0;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** A problem body without its request_id, for comparing two answers. */
export function problemWithoutRequestId(res: LightMyRequestResponse): Record<string, unknown> {
  const body = res.json() as Record<string, unknown>;
  expect(typeof body.request_id).toBe('string');
  const { request_id: _ignored, ...rest } = body;
  return rest;
}

/** Status and code of a problem answer, e.g. "401 invalid_token", for compact assertions. */
export function outcome(res: LightMyRequestResponse): string {
  if (res.statusCode < 400) return String(res.statusCode);
  let code = '?';
  try {
    code = String((res.json() as { code?: unknown }).code);
  } catch {
    code = res.body.slice(0, 60);
  }
  return `${res.statusCode} ${code}`;
}

export function me(app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
}

export function refresh(
  app: FastifyInstance,
  refreshToken: string,
  remoteAddress = '127.0.0.1',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    payload: { refresh_token: refreshToken },
    remoteAddress,
  });
}

/** The claims of a JWT, decoded without verification. */
export function jwtClaims(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
}

export function jwtHeader(token: string): Record<string, unknown> {
  const [header] = token.split('.');
  return JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until check() returns true, or fails after the deadline: for a change made behind the
 * API's back (as the schema owner), which reaches the API's credential cache by LISTEN
 * (migration 0014) a moment after its commit, not synchronously.
 */
export async function eventually(
  check: () => Promise<boolean>,
  options: { deadlineMs?: number; what?: string } = {},
): Promise<void> {
  const until = Date.now() + (options.deadlineMs ?? 3000);
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within the deadline: ${options.what ?? 'check'}`);
    await sleep(10);
  }
}
