import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// `total` of a list page (issue 15): exact when count=true is asked, and when it is free (a
// first page that holds every match); otherwise null, so that a page costs one query.

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, call } = await twoUsers());
  for (let i = 1; i <= 5; i++) {
    const res = await call(alice, 'POST', '/vms', { name: `count-${i}`, vmid: 200 + i });
    expect(res.statusCode, res.body).toBe(201);
  }
  expect((await call(bob, 'POST', '/vms', { name: 'count-b', vmid: 300 })).statusCode).toBe(201);
});
afterAll(async () => t?.close());

const page = async (user: TestUser, query: string) => {
  const res = await call(user, 'GET', `/vms?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: unknown[]; next_cursor: string | null; total: number | null };
};

describe('the total of a list page', () => {
  it('is null on a page that does not hold every match, unless count=true is asked', async () => {
    const first = await page(alice, 'limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.total).toBeNull();
    expect((await page(alice, 'limit=2&count=false')).total).toBeNull();
    expect((await page(alice, 'limit=2&count=true')).total).toBe(5);
    const next = `limit=2&cursor=${encodeURIComponent(first.next_cursor ?? '')}`;
    expect((await page(alice, next)).total).toBeNull();
    expect((await page(alice, `${next}&count=true`)).total).toBe(5);
  });

  it('is exact without asking when the first page holds every match (the other tenant not counted)', async () => {
    expect((await page(alice, 'limit=50')).total).toBe(5);
    const found = await page(alice, 'limit=50&q=count-3');
    expect(found.items.length).toBeGreaterThan(0);
    expect(found.total).toBe(found.items.length);
    expect((await page(bob, 'limit=50')).total).toBe(1);
    expect((await page(bob, 'limit=1&count=true')).total).toBe(1);
  });

  it('refuses a count that is not a boolean', async () => {
    const res = await call(alice, 'GET', '/vms?count=maybe');
    expect(res.statusCode).toBe(400);
  });
});
