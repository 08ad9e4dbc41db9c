import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatorFor } from '../src/http/body-validator.js';
import { formatBytes, LIMITS } from '../src/http/limits.js';
import { SyncBody } from '../src/modules/agent/schemas.js';
import { bearer, createUser, randomName, type TestUser } from './helpers/factories.js';
import { operations } from './helpers/openapi-operations.js';
import { expectProblem, ownedRows } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Byte and item limits of the routes that take a body (docs/api.md#limits), each just under
 * and just over: over the byte limit is 413 naming it, over an item limit a 400 naming the
 * field, and neither writes anything.
 */

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

const JSON_TYPE = { 'content-type': 'application/json' };
/** The JSON text, padded with spaces to exactly `bytes` bytes. */
const padded = (value: unknown, bytes: number): string => {
  const text = JSON.stringify(value);
  expect(Buffer.byteLength(text)).toBeLessThan(bytes);
  return text + ' '.repeat(bytes - Buffer.byteLength(text));
};

const count = (table: string, user: TestUser) => ownedRows(t.database, table, user.id);

describe('byte limits', () => {
  const cases: Array<{ name: string; url: string; bytes: number; body: unknown; ok: number }> = [
    { name: 'a create', url: '/hardware', bytes: LIMITS.bodyBytes, body: { pcname: 'a' }, ok: 201 },
    {
      name: 'an account create (its own JSON parser)',
      url: '/accounts',
      bytes: LIMITS.bodyBytes,
      body: { username: 'a' },
      ok: 201,
    },
    {
      name: 'a bulk create',
      url: '/hardware/bulk',
      bytes: LIMITS.bulk.bytes,
      body: { items: [{ pcname: 'a' }] },
      ok: 200,
    },
  ];
  for (const c of cases) {
    it(`takes ${c.name} body of ${formatBytes(c.bytes)} and answers 413 to one byte more`, async () => {
      const user = await createUser(t.app, admin);
      const table = c.url.split('/')[1] as string;
      const atLimit = await call(user, 'POST', c.url, padded(c.body, c.bytes), JSON_TYPE);
      expect(atLimit.statusCode, atLimit.body.slice(0, 300)).toBe(c.ok);
      const over = await call(user, 'POST', c.url, padded(c.body, c.bytes + 1), JSON_TYPE);
      expectProblem(over, 413, 'payload_too_large');
      expect(over.json().detail).toContain(`(${formatBytes(c.bytes)})`);
      expect(await count(table, user)).toBe(1);
    });
  }

  it(`takes an agent sync of ${formatBytes(LIMITS.sync.bytes)} and answers 413 to one byte more`, async () => {
    const user = await createUser(t.app, admin);
    const node = await call(user, 'POST', '/proxmox-nodes', { name: randomName('pve') });
    const key = node.json().api_key as string;
    const sync = (bytes: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/agent/sync',
        headers: { ...bearer(key), ...JSON_TYPE },
        payload: padded(
          {
            cycle_id: randomName('cycle'),
            observed_at: new Date().toISOString(),
            agent_version: '0.1.0',
            complete: false,
            vms: [{ vmid: 101, type: 'qemu', status: 'running' }],
          },
          bytes,
        ),
      });
    const atLimit = await sync(LIMITS.sync.bytes);
    expect(atLimit.statusCode, atLimit.body).toBe(200);
    expectProblem(await sync(LIMITS.sync.bytes + 1), 413, 'payload_too_large');
    expect(await count('vms', user)).toBe(1);
  });

  it('states every route’s byte and JSON limits in its OpenAPI description', () => {
    const bodyRoutes = operations(t.app).filter((op) =>
      ['POST', 'PUT', 'PATCH'].includes(op.method),
    );
    expect(bodyRoutes.length).toBeGreaterThan(30);
    const bulk = bodyRoutes.find((op) => op.path === '/api/v1/hardware/bulk');
    expect(bulk?.description).toContain(`a body of at most ${formatBytes(LIMITS.bulk.bytes)}`);
    const plain = bodyRoutes.find((op) => op.path === '/api/v1/hardware');
    expect(plain?.description).toContain('a body of at most 1 MiB');
    const missing = bodyRoutes
      .filter(
        (op) =>
          !/Limits: a body of at most \d+ [KM]iB.*nested at most 64 levels/.test(
            op.description ?? '',
          ),
      )
      .map((op) => `${op.method} ${op.path}`);
    expect(missing).toEqual([]);
  });
});

describe('item limits', () => {
  it(`validates a bulk of ${LIMITS.bulk.items} items and refuses ${LIMITS.bulk.items + 1} with 400`, async () => {
    const user = await createUser(t.app, admin);
    // The last item is bad, so the full-size bulk is validated item by item and writes nothing.
    const items = (n: number) => [
      ...Array.from({ length: n - 1 }, (_, i) => ({ pcname: `pc-${i}` })),
      { pcname: 'last', colour: 'red' },
    ];
    const atLimit = await call(user, 'POST', '/hardware/bulk', { items: items(LIMITS.bulk.items) });
    expectProblem(atLimit, 422, 'bulk_failed');
    expect(atLimit.json().errors).toEqual([
      { path: `/body/items/${LIMITS.bulk.items - 1}/colour`, message: 'is not a known field' },
    ]);
    const over = await call(user, 'POST', '/hardware/bulk', {
      items: items(LIMITS.bulk.items + 1),
    });
    expectProblem(over, 400, 'validation_error');
    expect(over.json().errors).toEqual([
      { path: '/body/items', message: `must NOT have more than ${LIMITS.bulk.items} items` },
    ]);
    const ids = Array.from({ length: LIMITS.bulk.items + 1 }, () => crypto.randomUUID());
    const deleteOver = await call(user, 'POST', '/hardware/bulk-delete', { ids });
    expectProblem(deleteOver, 400, 'validation_error');
    const deleteAtLimit = await call(user, 'POST', '/hardware/bulk-delete', { ids: ids.slice(1) });
    expect(deleteAtLimit.statusCode, deleteAtLimit.body.slice(0, 300)).toBe(200);
    expect(deleteAtLimit.json().not_found).toHaveLength(LIMITS.bulk.items);
    expect(await count('hardware', user)).toBe(0);
  });

  it(`takes ${LIMITS.sync.vms} guests in one sync and refuses ${LIMITS.sync.vms + 1} with 400`, async () => {
    const body = (n: number) => ({
      cycle_id: 'c',
      observed_at: new Date().toISOString(),
      agent_version: '0.1.0',
      complete: true,
      vms: Array.from({ length: n }, (_, i) => ({
        vmid: i + 100,
        type: 'qemu',
        status: 'running',
      })),
    });
    // The schema the route validates with, at the limit (applying 20,000 guests is the sync
    // benchmark's business); one more over HTTP.
    expect(validatorFor(SyncBody)(body(LIMITS.sync.vms), 'body')).toEqual([]);
    const user = await createUser(t.app, admin);
    const node = await call(user, 'POST', '/proxmox-nodes', { name: randomName('pve') });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/sync',
      headers: bearer(node.json().api_key),
      payload: body(LIMITS.sync.vms + 1),
    });
    expectProblem(res, 400, 'validation_error');
    expect(res.json().errors[0]).toEqual({
      path: '/body/vms',
      message: `must NOT have more than ${LIMITS.sync.vms} items`,
    });
    expect(await count('vms', user)).toBe(0);
  });
});
