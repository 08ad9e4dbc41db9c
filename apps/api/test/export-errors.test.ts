import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../src/http/resource/csv.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { expectProblem, ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * An export that meets a row it cannot read (a ciphertext that does not decrypt) fails before
 * the first byte when the row is in the first page, and otherwise ends with an error trailer
 * that makes the file unmistakably incomplete, never a 200 with a truncated body.
 */

const raw: string[] = [];
const stream: DestinationStream = { write: (line: string) => void raw.push(line) };

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers({ config: { logLevel: 'info' }, logStream: stream }));
});
afterAll(async () => t?.close());

/** More than one export page (1000 rows), so that the last rows come after the answer started. */
const MANY = 1003;

/**
 * Gives the owner's row at `position` in the export's order (created_at, then id) the
 * ciphertext of their first row: bound to another row, it fails to decrypt.
 */
async function corrupt(
  table: 'cards' | 'accounts',
  ownerId: string,
  position: number,
): Promise<void> {
  const column = table === 'cards' ? 'code1_enc' : 'secrets_enc';
  const ordered = `FROM ${table} WHERE owner_id = $1 ORDER BY created_at, id`;
  await ownerQuery(
    t.database,
    `UPDATE ${table} SET ${column} = (SELECT ${column} ${ordered} LIMIT 1)
     WHERE id = (SELECT id ${ordered} OFFSET $2 LIMIT 1)`,
    [ownerId, position],
  );
}

async function cardsOf(user: TestUser, count: number): Promise<void> {
  const res = await call(user, 'POST', '/cards/bulk', {
    items: Array.from({ length: count }, () => ({ code1: randomName('code') })),
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function accountsOf(user: TestUser, count: number): Promise<void> {
  const res = await call(user, 'POST', '/accounts/bulk', {
    items: Array.from({ length: count }, () => ({
      username: randomName('a'),
      password: randomName('pw'),
    })),
  });
  expect(res.statusCode, res.body).toBe(200);
}

const logged = (requestId: string) =>
  raw
    .map((l) => JSON.parse(l))
    .find((l) => l.request_id === requestId && l.msg === 'export failed after the answer started');

describe('an export that meets a row it cannot read', () => {
  it('in the first page: a problem answer, no file', async () => {
    const user = await createUser(t.app, admin);
    await cardsOf(user, 3);
    await corrupt('cards', user.id, 1);
    for (const format of ['csv', 'json']) {
      const res = await call(user, 'GET', `/cards/export?format=${format}&include_codes=true`);
      expectProblem(res, 500, 'internal_error');
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.json().detail).toContain(res.json().request_id);
    }
    // Without the codes nothing is decrypted: the export works.
    expect((await call(user, 'GET', '/cards/export?format=json')).json()).toHaveLength(3);
  });

  it('after the first page, JSON: an error object ends it and the document is not valid JSON', async () => {
    const user = await createUser(t.app, admin);
    await cardsOf(user, MANY);
    await corrupt('cards', user.id, MANY - 2);
    const res = await call(user, 'GET', '/cards/export?format=json&include_codes=true', undefined, {
      'x-request-id': 'export-json-1',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.trailer).toBe('x-export-status');
    expect(res.trailers['x-export-status']).toBe('failed');
    expect(() => JSON.parse(res.body)).toThrow();
    const lines = res.body.trimEnd().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
      accountdb_export_error: {
        code: 'export_failed',
        detail:
          'The export stopped after 1000 row(s) because of an error; this file is incomplete. ' +
          'Quote request id export-json-1 when reporting it.',
        rows: 1000,
        request_id: 'export-json-1',
      },
    });
    // The rows before it are whole, and the array is never closed.
    expect(lines).toHaveLength(1 + 1000 + 1);
    expect(lines.slice(1, -1).every((l) => l.startsWith('{"id"') || l.startsWith(',{"id"'))).toBe(
      true,
    );
    expect(lines).not.toContain(']');
    expect(res.body.trimEnd().endsWith(']')).toBe(false);
    // The log has the cause, with the request id; the answer does not.
    expect(logged('export-json-1')).toMatchObject({
      level: 50,
      rows: 1000,
      err: { message: 'ciphertext does not decrypt with this key and context' },
    });
    expect(res.body).not.toContain('decrypt');
  });

  it('after the first page, CSV: a last record says so, with one field more than the header', async () => {
    const user = await createUser(t.app, admin);
    await accountsOf(user, MANY);
    await corrupt('accounts', user.id, MANY - 1);
    const res = await call(
      user,
      'GET',
      '/accounts/export?format=csv&include_secrets=true',
      undefined,
      {
        'x-request-id': 'export-csv-1',
      },
    );
    expect(res.statusCode).toBe(200);
    expect(res.trailers['x-export-status']).toBe('failed');
    const records = parseCsv(res.body).map((r) => r.fields);
    const [header, ...rows] = records;
    const last = rows.at(-1) ?? [];
    expect(rows).toHaveLength(1000 + 1);
    expect(last[0]).toBe(
      'EXPORT FAILED: The export stopped after 1000 row(s) because of an error; this file is incomplete. ' +
        'Quote request id export-csv-1 when reporting it.',
    );
    expect(last).toHaveLength((header?.length ?? 0) + 1);
    expect(rows.slice(0, -1).every((r) => r.length === header?.length)).toBe(true);
    expect(logged('export-csv-1')).toMatchObject({ rows: 1000 });
  });

  it('a complete export says ok in its trailer and ends as always', async () => {
    const user = await createUser(t.app, admin);
    await cardsOf(user, 2);
    const json = await call(user, 'GET', '/cards/export?format=json&include_codes=true');
    expect(json.trailers['x-export-status']).toBe('ok');
    expect(JSON.parse(json.body)).toHaveLength(2);
    const csv = await call(user, 'GET', '/cards/export?format=csv');
    expect(csv.trailers['x-export-status']).toBe('ok');
    expect(csv.body).not.toContain('EXPORT FAILED');
    const empty = await call(await createUser(t.app, admin), 'GET', '/hardware/export');
    expect(empty.body).toBe('[]\n');
  });
});
