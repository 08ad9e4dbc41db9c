import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/http/limits.js';
import { createUser, type TestUser } from './helpers/factories.js';
import { expectProblem, ownedRows } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * JSON limits of every body (docs/api.md#limits): nesting and the number of objects and arrays
 * are checked on the text before it is parsed, so a value deep enough to overflow a parser or
 * the jsonb encoder is a 400, never a 500; free-form fields (attributes, steam_guard) have
 * their own, smaller depth and size. Each limit is tried just under and just over.
 */

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

/** {"a":{"a":…{"a":1}…}} with `levels` objects. */
const nested = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const JSON_TYPE = { 'content-type': 'application/json' };

const accountCount = (user: TestUser) => ownedRows(t.database, 'accounts', user.id);

describe('JSON nesting', () => {
  it('refuses 5,000-deep attributes with 400 json_too_deep on create, update, bulk and import, writing nothing', async () => {
    const user = await createUser(t.app, admin);
    const created = await call(user, 'POST', '/accounts', { username: 'deep-target' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const deep = nested(5000);
    const attempts: Array<[string, string, string]> = [
      ['POST', '/accounts', `{"username":"deep","attributes":${deep}}`],
      ['PATCH', `/accounts/${id}`, `{"attributes":${deep}}`],
      ['POST', '/accounts/bulk', `{"items":[{"username":"deep","attributes":${deep}}]}`],
      ['POST', '/accounts/import', `[{"username":"deep","attributes":${deep}}]`],
      ['POST', '/hardware/bulk', `{"items":[${deep}]}`],
    ];
    for (const [method, url, payload] of attempts) {
      const res = await call(user, method, url, payload, JSON_TYPE);
      expectProblem(res, 400, 'json_too_deep');
      expect(res.json().detail, url).toContain(`${LIMITS.json.depth} levels`);
    }
    expect(await accountCount(user)).toBe(1);
    const after = await call(user, 'GET', `/accounts/${id}`);
    expect(after.json().attributes).toEqual({});
  });

  it('parses a body nested exactly 64 levels and refuses 65', async () => {
    const user = await createUser(t.app, admin);
    // The body object and attributes are two of the levels.
    const body = (levels: number) => `{"username":"edge","attributes":${nested(levels - 1)}}`;
    const atLimit = await call(user, 'POST', '/accounts', body(LIMITS.json.depth), JSON_TYPE);
    // Past the parser, attributes are refused by their own, smaller depth limit.
    expectProblem(atLimit, 400, 'validation_error');
    expect(atLimit.json().errors).toEqual([
      {
        path: '/body/attributes',
        message: `must not be nested deeper than ${LIMITS.freeJson.depth} levels`,
      },
    ]);
    const over = await call(user, 'POST', '/accounts', body(LIMITS.json.depth + 1), JSON_TYPE);
    expectProblem(over, 400, 'json_too_deep');
    expect(await accountCount(user)).toBe(0);
  });

  it('takes attributes nested 32 levels, refuses 33 on create, update, bulk and import', async () => {
    const user = await createUser(t.app, admin);
    const max = LIMITS.freeJson.depth;
    const ok = await call(user, 'POST', '/accounts', {
      username: 'deep-ok',
      attributes: JSON.parse(nested(max)),
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = ok.json().id as string;
    expect(JSON.stringify(ok.json().attributes)).toBe(nested(max));

    const tooDeep = JSON.parse(nested(max + 1));
    const create = await call(user, 'POST', '/accounts', { username: 'x', attributes: tooDeep });
    expectProblem(create, 400, 'validation_error');
    expect(create.json().errors[0].path).toBe('/body/attributes');
    const update = await call(user, 'PATCH', `/accounts/${id}`, { attributes: tooDeep });
    expectProblem(update, 400, 'validation_error');
    const guard = await call(user, 'PATCH', `/accounts/${id}`, { steam_guard: tooDeep });
    expectProblem(guard, 400, 'validation_error');
    expect(guard.json().errors[0].path).toBe('/body/steam_guard');
    const bulk = await call(user, 'POST', '/accounts/bulk', {
      items: [{ username: 'y', attributes: tooDeep }],
    });
    expectProblem(bulk, 422, 'bulk_failed');
    expect(bulk.json().errors[0].path).toBe('/body/items/0/attributes');
    const imported = await call(
      user,
      'POST',
      '/accounts/import',
      JSON.stringify([{ username: 'z', attributes: tooDeep }]),
      JSON_TYPE,
    );
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ created: 0, failed: 1 });
    expect(imported.json().errors[0].message).toContain(`deeper than ${max} levels`);
    expect(await accountCount(user)).toBe(1);
  });
});

describe('JSON size', () => {
  it('takes attributes of 16 KiB as JSON, refuses one byte more', async () => {
    const user = await createUser(t.app, admin);
    const max = LIMITS.freeJson.bytes;
    // {"n":"xxx…"} is 8 bytes around the string.
    const attributes = (bytes: number) => ({ n: 'x'.repeat(bytes - 8) });
    expect(Buffer.byteLength(JSON.stringify(attributes(max)))).toBe(max);
    const ok = await call(user, 'POST', '/accounts', {
      username: 'a',
      attributes: attributes(max),
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const over = await call(user, 'POST', '/accounts', {
      username: 'b',
      attributes: attributes(max + 1),
    });
    expectProblem(over, 400, 'validation_error');
    expect(over.json().errors).toEqual([
      { path: '/body/attributes', message: 'must not be longer than 16 KiB as JSON' },
    ]);
  });

  it('parses 200,000 objects and arrays in a body and refuses 200,001 with 400 json_too_complex', async () => {
    const user = await createUser(t.app, admin);
    const max = LIMITS.json.containers;
    // The body, attributes and its array are three; the rest are empty arrays inside.
    const body = (containers: number) =>
      `{"username":"many","attributes":{"a":[${Array(containers - 3)
        .fill('[]')
        .join(',')}]}}`;
    const atLimit = await call(user, 'POST', '/accounts', body(max), JSON_TYPE);
    // Parsed, then refused by the size of attributes.
    expectProblem(atLimit, 400, 'validation_error');
    const over = await call(user, 'POST', '/accounts', body(max + 1), JSON_TYPE);
    expectProblem(over, 400, 'json_too_complex');
    expect(over.json().detail).toContain('200,000 objects and arrays');
    expect(await accountCount(user)).toBe(0);
  });
});
