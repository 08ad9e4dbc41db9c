import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/http/limits.js';
import { createUser, type TestUser } from './helpers/factories.js';
import { expectProblem, ownedRows } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Imports are read in batches from an upload bounded in bytes and records (docs/api.md#limits):
 * each limit just under and just over, for every format; the answer lists the first errors
 * and counts them all; an upload refused as a whole writes nothing, even when batches before
 * the refusal were written; and a large import still writes every record right.
 */

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

const MAX = LIMITS.import.records;
const LISTED = LIMITS.import.errors;
const JSON_TYPE = { 'content-type': 'application/json' };

const count = (table: string, user: TestUser) => ownedRows(t.database, table, user.id);

const importAccounts = (user: TestUser, payload: string | Readable, type: string, query = '') =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/accounts/import${query}`,
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': type },
    payload,
  });

describe('records per upload', () => {
  // Records that fail validation (no username): read and counted, nothing written.
  const uploads: Array<{ name: string; type: string; body: (n: number) => string }> = [
    { name: 'a JSON array', type: 'application/json', body: (n) => `[${Array(n).fill('{}')}]` },
    { name: 'JSON lines', type: 'application/x-ndjson', body: (n) => '{}\n'.repeat(n) },
    { name: 'CSV', type: 'text/csv', body: (n) => `username,notes\n${',x\n'.repeat(n)}` },
    { name: 'text told from its content', type: 'text/plain', body: (n) => '{}\n'.repeat(n) },
  ];
  for (const u of uploads) {
    it(`reads ${MAX} records of ${u.name} and refuses ${MAX + 1} with 400 too_many_records`, async () => {
      const user = await createUser(t.app, admin);
      const atLimit = await importAccounts(user, u.body(MAX), u.type);
      expect(atLimit.statusCode, atLimit.body.slice(0, 300)).toBe(200);
      expect(atLimit.json()).toMatchObject({
        total: MAX,
        created: 0,
        failed: MAX,
        errors_total: MAX,
        errors_truncated: true,
      });
      expect(atLimit.json().errors).toHaveLength(LISTED);
      const over = await importAccounts(user, u.body(MAX + 1), u.type);
      expectProblem(over, 400, 'too_many_records');
      expect(over.json().detail).toContain('more than 20,000 records');
      expect(await count('accounts', user)).toBe(0);
    });
  }

  it(`reads ${MAX} card lines (comments aside) and refuses ${MAX + 1}`, async () => {
    const user = await createUser(t.app, admin);
    // Three fields: every line is an error, nothing is written.
    const body = (n: number) => `# a comment\n${'A,B,C\n'.repeat(n)}# another\n`;
    const send = (n: number) =>
      call(user, 'POST', '/cards/import', body(n), { 'content-type': 'text/plain' });
    const atLimit = await send(MAX);
    expect(atLimit.statusCode, atLimit.body.slice(0, 300)).toBe(200);
    expect(atLimit.json()).toMatchObject({
      total: MAX,
      failed: MAX,
      errors_total: MAX,
      errors_truncated: true,
    });
    expect(atLimit.json().errors[0]).toEqual({
      row: 2,
      message: 'has 3 fields; expected code1[,code2]',
    });
    expectProblem(await send(MAX + 1), 400, 'too_many_records');
    expect(await count('cards', user)).toBe(0);
  });

  it(`refuses a CSV record of more than ${LIMITS.import.csvFields} fields with 400 too_many_fields`, async () => {
    const user = await createUser(t.app, admin);
    const header = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(',');
    const atLimit = await importAccounts(user, `${header(LIMITS.import.csvFields)}\n`, 'text/csv');
    expect(atLimit.statusCode, atLimit.body).toBe(200);
    const over = await importAccounts(user, `${header(LIMITS.import.csvFields + 1)}\n`, 'text/csv');
    expectProblem(over, 400, 'too_many_fields');
    const cards = await call(user, 'POST', '/cards/import', `${','.repeat(1000)}\n`, {
      'content-type': 'text/plain',
    });
    expectProblem(cards, 400, 'too_many_fields');
  });
});

describe('bytes per upload', () => {
  const bytes = LIMITS.import.bytes;
  it('reads an upload of 16 MiB and answers 413 to one byte more, with or without a length', async () => {
    const user = await createUser(t.app, admin);
    const json = (size: number) => `[{"username":"padded"}]${' '.repeat(size - 23)}`;
    const atLimit = await importAccounts(user, json(bytes), 'application/json');
    expect(atLimit.statusCode, atLimit.body).toBe(200);
    expect(atLimit.json()).toMatchObject({ created: 1, total: 1 });
    const over = await importAccounts(user, json(bytes + 1), 'application/json');
    expectProblem(over, 413, 'payload_too_large');
    expect(over.json().detail).toContain('(16 MiB)');
    // Sent as a stream: no content-length, counted as it arrives.
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    const stream = Readable.from(
      (function* () {
        yield Buffer.from('[{"username":"streamed"}');
        for (let i = 0; i < 17; i++) yield chunk;
        yield Buffer.from(']');
      })(),
    );
    const chunked = await importAccounts(user, stream, 'application/json');
    expectProblem(chunked, 413, 'payload_too_large');

    const cards = (size: number) =>
      call(user, 'POST', '/cards/import', `CODE-1\n${' '.repeat(size - 7)}`, {
        'content-type': 'text/plain',
      });
    expect((await cards(bytes)).json()).toMatchObject({ created: 1 });
    expectProblem(await cards(bytes + 1), 413, 'payload_too_large');
    expect(await count('accounts', user)).toBe(1);
    expect(await count('cards', user)).toBe(1);
  });
});

describe('the answer', () => {
  it(`lists the first ${LISTED} errors by row across batches and counts them all`, async () => {
    const user = await createUser(t.app, admin);
    // 1,200 records (three batches of 500); every fourth has no username.
    const records = Array.from({ length: 1200 }, (_, i) =>
      (i + 1) % 4 === 0 ? { notes: `bad ${i + 1}` } : { username: `ok-${i + 1}` },
    );
    const res = await importAccounts(user, JSON.stringify(records), 'application/json');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const answer = res.json();
    expect(answer).toMatchObject({
      total: 1200,
      created: 900,
      updated: 0,
      failed: 300,
      errors_total: 300,
      errors_truncated: true,
    });
    expect(answer.errors.map((e: { row: number }) => e.row)).toEqual(
      Array.from({ length: LISTED }, (_, i) => 4 * (i + 1)),
    );
    expect(answer.errors[0].message).toBe('username is required');
    expect(await count('accounts', user)).toBe(900);

    const few = await importAccounts(user, '[{"notes":"x"},{"username":"y"}]', 'application/json');
    expect(few.json()).toMatchObject({ failed: 1, errors_total: 1, errors_truncated: false });
  });
});

describe('refused as a whole', () => {
  it('writes nothing when a record breaks the JSON limits, in any format', async () => {
    const user = await createUser(t.app, admin);
    const deep = `${'['.repeat(70)}${']'.repeat(70)}`;
    const lines = `{"username":"a"}\n{"username":"b","attributes":{"x":${deep}}}\n`;
    expectProblem(await importAccounts(user, lines, 'application/x-ndjson'), 400, 'json_too_deep');
    const wide = `[{"username":"a"},{"username":"b","attributes":{"x":[${Array(10_001).fill('[]')}]}}]`;
    const complex = await importAccounts(user, wide, 'application/json');
    expectProblem(complex, 400, 'json_too_complex');
    expect(complex.json().detail).toContain('(item 2)');
    // A CSV cell is read in the second pass, after the first batches were written.
    const csv = `username,attributes\n${'u,\n'.repeat(700)}late,"{""x"":${deep}}"\n`;
    expectProblem(await importAccounts(user, csv, 'text/csv'), 400, 'json_too_deep');
    expect(await count('accounts', user)).toBe(0);
  });

  it('writes nothing when a JSON upload turns out not to be JSON after batches were written', async () => {
    const user = await createUser(t.app, admin);
    const valid = Array.from({ length: 700 }, (_, i) => `{"username":"u${i}"}`);
    const broken = `[${[...valid, "{'username':'single quotes'}"].join(',')}]`;
    const res = await importAccounts(user, broken, 'application/json');
    expectProblem(res, 400, 'invalid_json');
    // Sent as text, the upload's one error, as before; still nothing written.
    const text = await importAccounts(user, broken, 'text/plain');
    expect(text.statusCode, text.body).toBe(200);
    expect(text.json()).toMatchObject({ format: 'json', created: 0, failed: 1 });
    expect(text.json().errors).toEqual([{ row: 701, message: 'the upload is not valid JSON' }]);
    const cut = await importAccounts(user, `[${valid.slice(0, 3).join(',')}`, 'text/plain');
    expect(cut.json().errors).toEqual([
      {
        row: 3,
        message: 'the upload is not valid JSON: the JSON array is not closed (cut short?)',
      },
    ]);
    expect(await count('accounts', user)).toBe(0);
  });
});

describe('streaming', () => {
  it(`imports ${MAX} records of secrets and ids right, row numbers of errors included`, {
    timeout: 600_000,
  }, async () => {
    const user = await createUser(t.app, admin);
    const id = (i: number) => `7656119800${String(i).padStart(7, '0')}`;
    const records = Array.from({ length: MAX }, (_, i) => ({
      username: `bulk-${i + 1}`,
      external_id: id(i + 1),
      password: `pw-${i + 1}`,
      tags: [`t${i % 7}`],
    }));
    // Two bad records, one in the first batch and one in the last.
    records[6] = { ...records[6], username: '' } as (typeof records)[number];
    records[MAX - 2] = { ...records[MAX - 2], external_id: id(1) } as (typeof records)[number];
    // SteamIDs as bare numbers beyond 2^53, as the old exports have them.
    const text = JSON.stringify(records).replace(/"external_id":"(\d+)"/g, '"external_id":$1');
    const res = await importAccounts(user, text, 'application/json');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json()).toMatchObject({ total: MAX, created: MAX - 2, failed: 2 });
    expect(res.json().errors).toEqual([
      { row: 7, message: 'username must NOT have fewer than 1 characters' },
      { row: MAX - 1, message: `external_id ${id(1)} was already in row 1` },
    ]);
    expect(await count('accounts', user)).toBe(MAX - 2);
    for (const i of [1, 8, 12_345, MAX]) {
      const found = await call(user, 'GET', `/accounts?external_id=${id(i)}`);
      const account = found.json().items[0];
      expect(account, `record ${i}`).toMatchObject({
        username: `bulk-${i}`,
        tags: [`t${(i - 1) % 7}`],
        has_password: true,
      });
      const secrets = await call(user, 'GET', `/accounts/${account.id}/secrets`);
      expect(secrets.json().password).toBe(`pw-${i}`);
    }
  });

  it('keeps row numbers across batches in JSON lines and CSV', async () => {
    const user = await createUser(t.app, admin);
    const n = 1100;
    const lines = Array.from({ length: n }, (_, i) =>
      i === 1049 ? '{not json}' : `{"username":"jl-${i + 1}"}`,
    );
    // A blank line counts as a line.
    const jsonl = `${lines.slice(0, 600).join('\n')}\n\n${lines.slice(600).join('\n')}\n`;
    const a = await importAccounts(user, jsonl, 'application/x-ndjson');
    expect(a.json()).toMatchObject({ format: 'jsonl', created: n - 1, failed: 1 });
    expect(a.json().errors).toEqual([{ row: 1051, message: 'is not valid JSON' }]);
    // A quoted line break makes a record two lines long.
    const rows = Array.from({ length: n }, (_, i) =>
      i === 3 ? 'csv-4,"two\nlines"' : i === 1049 ? ',no name' : `csv-${i + 1},`,
    );
    const csv = `username,notes\r\n${rows.join('\r\n')}\r\n`;
    const b = await importAccounts(user, csv, 'text/csv');
    expect(b.json()).toMatchObject({ format: 'csv', created: n - 1, failed: 1 });
    expect(b.json().errors).toEqual([{ row: 1052, message: 'username is required' }]);
    const notes = await call(user, 'GET', '/accounts?username=csv-4');
    expect(notes.json().items[0].notes).toBe('two\nlines');
  });
});

it('still answers when asked as JSON', async () => {
  const user = await createUser(t.app, admin);
  const res = await call(user, 'POST', '/accounts/import', [{ username: 'plain' }], JSON_TYPE);
  expect(res.json()).toMatchObject({ created: 1, total: 1, errors: [] });
});
