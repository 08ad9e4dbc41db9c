import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { bearer, type TestUser } from './factories.js';
import type { TestDatabase } from './test-db.js';

/** Asserts an application/problem+json answer with the given status and stable code. */
export function expectProblem(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json().code, res.body).toBe(code);
}

/**
 * A raw query as the schema owner, outside the request role and outside any tenant context:
 * for inspecting what the database really stores, and for setting up states the API cannot
 * produce (say, a token whose expiry has passed). Never a path the application takes.
 */
export async function ownerQuery<T = Record<string, unknown>>(
  database: TestDatabase,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const raw = database.raw;
  if (raw.kind === 'pglite') return (await raw.pglite.query<T>(text, params)).rows;
  return (await raw.pool.query(text, params)).rows as T[];
}

/** How many rows of `table` belong to the owner, read as the schema owner (no RLS). */
export async function ownedRows(database: TestDatabase, table: string, ownerId: string) {
  const rows = await ownerQuery<{ n: number }>(
    database,
    `SELECT count(*)::int AS n FROM ${table} WHERE owner_id = $1`,
    [ownerId],
  );
  return rows[0]?.n ?? -1;
}

const binaryText = (b: Buffer): string =>
  [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')].join(
    ' ',
  );

/** A row as searchable text: binary columns appear as hex, base64, base64url and latin1 text. */
export function searchableText(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_key, value: unknown) => {
    // PGlite returns bytea as a Uint8Array; a pg Buffer reaches here already as its toJSON().
    if (value instanceof Uint8Array) return binaryText(Buffer.from(value));
    const json = value as { type?: unknown; data?: unknown } | null;
    if (json && typeof json === 'object' && json.type === 'Buffer' && Array.isArray(json.data)) {
      return binaryText(Buffer.from(json.data as number[]));
    }
    return value;
  });
}

/** Every audit_log row, read as the owner (no RLS), as searchable text. */
export async function allAuditText(database: TestDatabase): Promise<string> {
  const rows = await ownerQuery(database, 'SELECT * FROM audit_log');
  return rows.map(searchableText).join('\n');
}

/**
 * Calls /api/v1 as a user: call(alice, 'PATCH', '/vms/…', body, headers). A string payload is
 * sent as is (set its content-type in headers).
 */
export function apiAs(app: FastifyInstance) {
  return (
    user: TestUser,
    method: string,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { ...bearer(user.accessToken), ...headers },
      ...(payload === undefined
        ? {}
        : typeof payload === 'string'
          ? { payload }
          : { payload: payload as object }),
    });
}
