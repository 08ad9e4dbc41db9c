import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// Keyset pages are built as a row comparison when every sort key runs one way, and as OR
// branches when directions are mixed; both must return every row exactly once, ties included.

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

async function walk(user: TestUser, query: string): Promise<Array<{ name: string; vmid: number }>> {
  const seen: Array<{ name: string; vmid: number }> = [];
  let cursor: string | null = null;
  do {
    const res = await call(
      user,
      'GET',
      `/vms?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    seen.push(
      ...page.items.map((v: { name: string; vmid: number }) => ({ name: v.name, vmid: v.vmid })),
    );
    cursor = page.next_cursor;
  } while (cursor);
  return seen;
}

describe('keyset pagination', () => {
  it('returns every row once in one direction and in mixed directions, with ties', async () => {
    const owner = await createUser(t.app, admin);
    // Three names over seven VMs: the name key ties, the id (or vmid) breaks the tie.
    for (let i = 1; i <= 7; i++) {
      const res = await call(owner, 'POST', '/vms', { name: `vm-${i % 3}`, vmid: 100 + i });
      expect(res.statusCode, res.body).toBe(201);
    }
    const asc = await walk(owner, 'sort=name');
    expect(asc.map((v) => v.name)).toEqual([
      'vm-0',
      'vm-0',
      'vm-1',
      'vm-1',
      'vm-1',
      'vm-2',
      'vm-2',
    ]);
    expect(new Set(asc.map((v) => v.vmid)).size).toBe(7);

    const desc = await walk(owner, 'sort=-name,-vmid');
    expect(desc.map((v) => v.vmid)).toEqual([105, 102, 107, 104, 101, 106, 103]);

    const mixed = await walk(owner, 'sort=name,-vmid');
    expect(mixed.map((v) => v.vmid)).toEqual([106, 103, 107, 104, 101, 105, 102]);
  });
});
