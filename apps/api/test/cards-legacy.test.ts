import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCardFlags, legacyCardRowBody } from '../src/modules/cards/legacy-card.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { expectProblem, ownedRows, ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * The earlier AccountDB's cards (Xenogy/SLLAB): its POST /cards took `List[List[str]]`, a
 * list of [code1] or [code1, code2] (backend/routers/cards.py); its table is
 * `cards(id serial, code1 text NOT NULL, code2 text, redeemed bool NOT NULL DEFAULT false,
 * failed text DEFAULT '', lock bool NOT NULL DEFAULT false, perm_lock bool NOT NULL DEFAULT
 * false)` plus owner_id (inits/02-cards_table.sql). A dump of it as psql's
 * `\copy cards TO … CSV HEADER` writes it: booleans t/f, NULL as an empty field, an empty
 * string as "" (PostgreSQL's COPY CSV format). The fixtures below are written from those facts.
 */

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const json = { 'content-type': 'application/json' };
const csv = { 'content-type': 'text/csv' };
const code = (p = 'c') => `${randomName(p).toUpperCase().replace(/_/g, '-')}-Q7`;

async function exportText(user: TestUser, format: string): Promise<string> {
  const res = await call(user, 'GET', `/cards/export?format=${format}&include_codes=true`);
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

describe('legacyCardRowBody', () => {
  it('maps the flags onto status and tags, and back, for every combination', () => {
    for (const redeemed of [false, true]) {
      for (const failed of ['', 'Code already used', null]) {
        for (const lock of [false, true]) {
          for (const perm_lock of [false, true]) {
            const body = legacyCardRowBody({ code1: 'A', redeemed, failed, lock, perm_lock });
            const back = legacyCardFlags({
              status: body.status,
              failure_reason: body.failure_reason,
              tags: body.tags,
            });
            expect(back, JSON.stringify({ redeemed, failed, lock, perm_lock })).toEqual({
              redeemed,
              failed: failed ?? '',
              lock,
              perm_lock,
            });
          }
        }
      }
    }
    expect(legacyCardRowBody({ code1: 'A', lock: 't' })).toMatchObject({
      status: 'disabled',
      tags: ['lock'],
    });
    expect(legacyCardRowBody({ code1: 'A', perm_lock: 't' })).toMatchObject({
      status: 'disabled',
      tags: [],
    });
    expect(legacyCardRowBody({ code1: 'A', redeemed: 't', lock: 't' })).toMatchObject({
      status: 'redeemed',
      tags: ['lock'],
    });
    expect(legacyCardRowBody({ code1: 'A', failed: '' })).toMatchObject({
      status: 'available',
      failure_reason: null,
    });
    expect(() => legacyCardRowBody({ code1: 'A', redeemed: 'yes' })).toThrow(/redeemed/);
    expect(() => legacyCardRowBody({ code1: '' })).toThrow(/code1/);
  });
});

describe('POST /cards/import: the earlier formats', () => {
  it('takes the earlier card body, a list of lists of codes, and gives it back', async () => {
    const user = await createUser(t.app, admin);
    const source = [[code(), 'PIN-ÄÖ-1'], [code()], [code(), code('p')]];
    const res = await call(user, 'POST', '/cards/import', JSON.stringify(source), json);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ format: 'codes-json', total: 3, created: 3, failed: 0 });
    expect(JSON.parse(await exportText(user, 'legacy-json'))).toEqual(source);
    const again = (await call(user, 'POST', '/cards/import', JSON.stringify(source), json)).json();
    expect(again).toMatchObject({ created: 0, updated: 0, duplicates: 3 });
  });

  it('reports a wrong element by its 1-based index and imports the others', async () => {
    const user = await createUser(t.app, admin);
    const good = code();
    const body = `[["${good}"], ["A","B","C"], [1], [""], "X", [], {"code1": ""}, {"code9": "Q"}]`;
    const res = (await call(user, 'POST', '/cards/import', body, json)).json();
    expect(res).toMatchObject({ created: 1, failed: 7, total: 8 });
    expect(res.errors).toEqual([
      { row: 2, message: 'has 3 codes; expected 1 or 2 (["CODE1","CODE2"])' },
      { row: 3, message: 'code 1 is not a string' },
      { row: 4, message: 'code 1 is empty' },
      {
        row: 5,
        message: 'is not a list of codes (["CODE1","CODE2"]) or a row of the earlier cards table',
      },
      { row: 6, message: 'has 0 codes; expected 1 or 2 (["CODE1","CODE2"])' },
      { row: 7, message: 'code1 is empty' },
      { row: 8, message: 'code9 is not a column of the earlier cards table' },
    ]);
  });

  it('writes nothing for a document that is not JSON, too big or too deep', async () => {
    const user = await createUser(t.app, admin);
    const count = async () => ownedRows(t.database, 'cards', user.id);
    for (const bad of [
      `[["${code()}"], ["B"`,
      `[["${code()}"], ["B",]]`,
      `[["${code()}"]] x`,
      '',
    ]) {
      const res = await call(user, 'POST', '/cards/import', bad, json);
      expectProblem(res, 400, 'invalid_json');
    }
    // 1000x the record limit is refused while it arrives.
    const many = `[${Array.from({ length: 20_001 }, () => '["X"]').join(',')}]`;
    expectProblem(await call(user, 'POST', '/cards/import', many, json), 400, 'too_many_records');
    const deep = `[${'['.repeat(100)}"X"${']'.repeat(100)}]`;
    expectProblem(await call(user, 'POST', '/cards/import', deep, json), 400, 'json_too_deep');
    expectProblem(
      await call(user, 'POST', '/cards/import', '{"a":1}', json),
      400,
      'validation_error',
    );
    expect(await count()).toBe(0);
    // The JSON string body of before still reads as the text.
    const text = JSON.stringify(`${code()}\n${code()},PIN\n`);
    expect((await call(user, 'POST', '/cards/import', text, json)).json()).toMatchObject({
      format: 'lines',
      created: 2,
    });
  });

  it('takes a dump of the earlier cards table and gives every field back', async () => {
    const user = await createUser(t.app, admin);
    const [a, b, c, d, e, f] = [code(), code(), code(), code(), code(), code()];
    // id and owner_id are the earlier system's own; a code with a comma and a quote, Unicode
    // in the failure message, NULL code2 (empty) against "" failure (no failure).
    const dump = [
      'id,code1,code2,redeemed,failed,lock,perm_lock,owner_id',
      `1,${a},,f,"",f,f,3`,
      `2,${b},"PIN,""7""",t,"",f,f,3`,
      `3,${c},,f,Código já usado — «rejected»,f,f,3`,
      `4,${d},X1,f,"",t,f,3`,
      `5,${e},,f,"",f,t,3`,
      `6,${f},,t,"",t,t,3`,
      '',
    ].join('\n');
    const res = await call(user, 'POST', '/cards/import', dump, csv);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ format: 'table-csv', total: 6, created: 6, failed: 0 });
    const cards = (await call(user, 'GET', '/cards?limit=10&sort=created_at')).json().items;
    expect(cards.map((x: { status: string; tags: string[] }) => [x.status, x.tags])).toEqual([
      ['available', []],
      ['redeemed', []],
      ['failed', []],
      ['disabled', ['lock']],
      ['disabled', []],
      ['redeemed', ['lock', 'perm_lock']],
    ]);
    expect(cards[2].failure_reason).toBe('Código já usado — «rejected»');
    const back = await exportText(user, 'legacy-csv');
    const expected = dump
      .split('\n')
      .map((l) => l.replace(/^(id|\d),/, '').replace(/,(owner_id|3)$/, ''))
      .join('\n');
    expect(back).toBe(expected);
    // The same dump again changes nothing.
    expect((await call(user, 'POST', '/cards/import', dump, csv)).json()).toMatchObject({
      created: 0,
      updated: 0,
      duplicates: 6,
    });
    // A later dump with other flags updates the cards it names; other tags stay.
    await call(user, 'PATCH', `/cards/${cards[0].id}`, { tags: ['batch-1'] });
    const later = `code1,redeemed,failed,lock,perm_lock\n${a},t,"",f,f\n${d},f,"",f,f\n${e},f,"",f,t\n`;
    expect((await call(user, 'POST', '/cards/import', later, csv)).json()).toMatchObject({
      updated: 2,
      duplicates: 1,
    });
    const after = (await call(user, 'GET', `/cards/${cards[0].id}`)).json();
    expect(after).toMatchObject({ status: 'redeemed', tags: ['batch-1'] });
    expect((await call(user, 'GET', `/cards/${cards[3].id}`)).json()).toMatchObject({
      status: 'available',
      tags: [],
    });
  });

  it('takes the table as JSON rows (node-postgres values) and reports bad columns by row', async () => {
    const user = await createUser(t.app, admin);
    const [a, b] = [code(), code()];
    const rows = [
      {
        id: 7,
        code1: a,
        code2: null,
        redeemed: false,
        failed: '',
        lock: true,
        perm_lock: false,
        owner_id: 2,
      },
      { id: 8, code1: b, code2: 'Z', redeemed: 'maybe', failed: '', lock: false, perm_lock: false },
    ];
    const res = (await call(user, 'POST', '/cards/import', JSON.stringify(rows), json)).json();
    expect(res).toMatchObject({ format: 'table-json', created: 1, failed: 1 });
    expect(res.errors).toEqual([{ row: 2, message: 'redeemed is not a boolean (t or f)' }]);
    const csvBack = await exportText(user, 'legacy-csv');
    expect(csvBack).toBe(`code1,code2,redeemed,failed,lock,perm_lock\n${a},,f,"",t,f\n`);
  });

  it('a dump row with the wrong number of fields is its own error; the header is no card', async () => {
    const user = await createUser(t.app, admin);
    const res = (
      await call(
        user,
        'POST',
        '/cards/import',
        `code1,code2\n${code()},P\n${code()},P,extra\n`,
        csv,
      )
    ).json();
    expect(res).toMatchObject({ format: 'table-csv', total: 2, created: 1, failed: 1 });
    expect(res.errors).toEqual([{ row: 3, message: 'has 3 fields; the header has 2' }]);
  });

  it('keeps each user to their own cards: the same dump imports apart, updates only your own', async () => {
    const a = code();
    const dump = `code1,redeemed,failed,lock,perm_lock\n${a},f,"",f,f\n`;
    expect((await call(alice, 'POST', '/cards/import', dump, csv)).json().created).toBe(1);
    const redeemed = `code1,redeemed,failed,lock,perm_lock\n${a},t,"",f,f\n`;
    expect((await call(bob, 'POST', '/cards/import', redeemed, csv)).json()).toMatchObject({
      created: 1,
      updated: 0,
    });
    const mine = (await call(alice, 'POST', '/cards/lookup', { code: a })).json();
    expect(mine.items[0].status).toBe('available');
  });

  it('exports the earlier formats only with the codes, exactly, audited', async () => {
    const user = await createUser(t.app, admin);
    const formula = `=HYPERLINK("x")-${code()}`;
    await call(user, 'POST', '/cards/import', JSON.stringify([[formula, '+1']]), json);
    expectProblem(
      await call(user, 'GET', '/cards/export?format=legacy-csv'),
      400,
      'validation_error',
    );
    expectProblem(
      await call(user, 'GET', '/cards/export?format=legacy-json'),
      400,
      'validation_error',
    );
    const back = await exportText(user, 'legacy-csv');
    expect(back).toBe(
      `code1,code2,redeemed,failed,lock,perm_lock\n"${formula.replace(/"/g, '""')}",+1,f,"",f,f\n`,
    );
    // The ordinary CSV export still defuses formulas.
    const plain = await call(user, 'GET', '/cards/export?format=csv&include_codes=true');
    expect(plain.body).toContain(`'${formula.replace(/"/g, '""')}`);
    const audit = await ownerQuery<{ details: { format: string; include_codes: boolean } }>(
      t.database,
      `SELECT details FROM audit_log WHERE owner_id = '${user.id}' AND action = 'card.export' ORDER BY at`,
    );
    expect(audit[0]?.details).toMatchObject({ format: 'legacy-csv', include_codes: true });
  });
});
