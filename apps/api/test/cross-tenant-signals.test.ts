import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemWithoutRequestId } from './helpers/auth-helpers.js';
import { randomName } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import { type TwoUsers, twoUsers } from './helpers/two-users.js';

/**
 * Signals that crossed tenants although row-level security hid the rows themselves (issue 12,
 * findings 4 and 6): a status code that told whether another user's node has a VMID, and ETags
 * that counted every tenant's writes.
 */
let s: TwoUsers;
let bobNode: string;

beforeAll(async () => {
  s = await twoUsers();
  const node = await s.call(s.bob, 'POST', '/proxmox-nodes', { name: randomName('pve') });
  expect(node.statusCode, node.body).toBe(201);
  bobNode = node.json().id;
  const vm = await s.call(s.bob, 'POST', '/vms', { node_id: bobNode, vmid: 101, name: 'bob' });
  expect(vm.statusCode, vm.body).toBe(201);
});

afterAll(async () => {
  await s?.t.close();
});

/** An answer as status + problem body without its request id, for comparing two answers. */
const shape = (res: LightMyRequestResponse) => ({
  status: res.statusCode,
  body: problemWithoutRequestId(res),
});

describe("another user's VMIDs", () => {
  it('answer exactly like a node that does not exist, whether the VMID is taken there or not', async () => {
    const taken = await s.call(s.alice, 'POST', '/vms', { node_id: bobNode, vmid: 101 });
    const free = await s.call(s.alice, 'POST', '/vms', { node_id: bobNode, vmid: 999 });
    const nowhere = await s.call(s.alice, 'POST', '/vms', { node_id: randomUUID(), vmid: 101 });
    expect(taken.statusCode).toBe(422);
    expect(shape(taken)).toEqual(shape(nowhere));
    expect(shape(free)).toEqual(shape(nowhere));
  });

  it('cannot be enumerated with a partial bulk create', async () => {
    const res = await s.call(s.alice, 'POST', '/vms/bulk?partial=true', {
      items: [99, 100, 101, 102].map((vmid) => ({ node_id: bobNode, vmid })),
    });
    expect(res.statusCode, res.body).toBeLessThan(500);
    const errors = (res.json().errors ?? []) as Array<{ row: number }>;
    // Every row fails, and the failures differ in nothing but their position.
    expect(errors.map((e) => e.row)).toEqual([0, 1, 2, 3]);
    const withoutPosition = errors.map(({ row: _row, ...rest }) =>
      JSON.stringify(rest).replace(/\/items\/\d+/g, '/items/N'),
    );
    expect(new Set(withoutPosition).size).toBe(1);
  });

  it('still collide within one owner: the same VMID twice on your own node is a conflict', async () => {
    const again = await s.call(s.bob, 'POST', '/vms', { node_id: bobNode, vmid: 101 });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('duplicate');
  });
});

describe('ETags', () => {
  const etag = async (path: string, user = s.alice) => {
    const res = await s.call(user, 'GET', path);
    expect(res.statusCode, res.body).toBe(200);
    return String(res.headers.etag);
  };

  it('do not move when another user writes, and move when the row itself changes', async () => {
    const mine = await s.call(s.alice, 'POST', '/hardware', { pcname: randomName('pc') });
    expect(mine.statusCode, mine.body).toBe(201);
    const path = `/hardware/${mine.json().id}`;
    const first = await etag(path);
    expect(first).toBe('"1"');

    for (let i = 0; i < 5; i++) {
      const theirs = await s.call(s.bob, 'POST', '/hardware', { pcname: randomName('pc') });
      expect(theirs.statusCode).toBe(201);
      await s.call(s.bob, 'PATCH', `/hardware/${theirs.json().id}`, { notes: 'busy' });
    }
    expect(await etag(path)).toBe(first);

    const changed = await s.call(s.alice, 'PATCH', path, { notes: 'mine' }, { 'if-match': first });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.headers.etag).toBe('"2"');
    const stale = await s.call(s.alice, 'PATCH', path, { notes: 'again' }, { 'if-match': first });
    expect(stale.statusCode).toBe(412);
  });

  it('of a VM move with its fields, not with the usage figures a sync refreshes', async () => {
    const created = await s.call(s.alice, 'POST', '/vms', { name: randomName('vm') });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const before = await etag(`/vms/${id}`);
    // What an agent sync writes every minute for a running guest.
    await ownerQuery(
      s.t.database,
      'UPDATE vms SET cpu_usage = 0.5, mem_usage = 1024, uptime_s = 60, last_seen_at = now() WHERE id = $1',
      [id],
    );
    expect(await etag(`/vms/${id}`)).toBe(before);
    await ownerQuery(s.t.database, `UPDATE vms SET status = 'running' WHERE id = $1`, [id]);
    expect(await etag(`/vms/${id}`)).not.toBe(before);
  });
});
