import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmLiveness } from '../src/db/schema.js';
import { type Actor, withTenant } from '../src/db/tenant.js';
import { bearer, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// Issue 14, part 3: a steady sync writes the VM rows that changed, not every VM row. A VM's
// last_seen_at and usage come from its node's liveness row (migration 0012); the API shows
// them as before, and a VM's ETag moves only when the VM itself changed.

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const ownerQuery = <T>(text: string, params: unknown[] = []) =>
  ownerQueryAs<T>(t.database, text, params);

const asNode = (key: string, url: string, payload: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: bearer(key),
    payload: payload as object,
  });

async function makeNode(user: TestUser) {
  const res = await call(user, 'POST', '/proxmox-nodes', { name: randomName('pve') });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; api_key: string };
}

let clock = Date.parse('2026-11-24T10:00:00Z');
function cycle(vms: unknown[], extra: Record<string, unknown> = {}) {
  clock += 60_000;
  return {
    cycle_id: randomName('cycle'),
    observed_at: new Date(clock).toISOString(),
    agent_version: '0.1.0',
    complete: true,
    vms,
    ...extra,
  };
}

const guest = (vmid: number, usage: { cpu: number; mem: number; up: number }, extra = {}) => ({
  vmid,
  type: 'qemu',
  name: `vm-${vmid}`,
  status: 'running',
  template: false,
  cpu_usage: usage.cpu,
  mem_usage: usage.mem,
  uptime_s: usage.up,
  ...extra,
});

async function sync(key: string, vms: unknown[], extra: Record<string, unknown> = {}) {
  const res = await asNode(key, '/agent/sync', cycle(vms, extra));
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The stored VM rows of a node, as the schema owner sees them (what a sync wrote). */
const rowsOf = (nodeId: string) =>
  ownerQuery<{ vmid: number; xmin: string; row_version: string; updated_at: Date }>(
    'SELECT vmid, xmin::text AS xmin, row_version::text AS row_version, updated_at FROM vms WHERE node_id = $1 ORDER BY vmid',
    [nodeId],
  );

const apiVms = async (user: TestUser, nodeId: string) =>
  (await call(user, 'GET', `/vms?node_id=${nodeId}&sort=vmid`)).json().items as Array<{
    id: string;
    vmid: number;
    last_seen_at: string | null;
    cpu_usage: number | null;
    mem_usage: number | null;
    uptime_s: number | null;
    absent_since: string | null;
    status: string;
  }>;

const nodeSeenAt = async (nodeId: string) =>
  (
    await ownerQuery<{ seen_at: Date }>('SELECT seen_at FROM vm_liveness WHERE node_id = $1', [
      nodeId,
    ])
  )[0]?.seen_at;

describe('a steady sync', () => {
  it('writes no VM row when only liveness and usage moved; the API shows the new figures', async () => {
    const node = await makeNode(alice);
    const vmids = [101, 102, 103, 104];
    await sync(
      node.api_key,
      vmids.map((v) => guest(v, { cpu: 0.1, mem: 1_000_000, up: 100 })),
    );
    const before = await rowsOf(node.id);
    const etagBefore = (await call(alice, 'GET', `/vms/${(await apiVms(alice, node.id))[0]?.id}`))
      .headers.etag;

    // Usage and uptime move on every guest: no VM changed.
    const result = await sync(
      node.api_key,
      vmids.map((v) => guest(v, { cpu: 0.5 + v / 1000, mem: 2_000_000 + v, up: 160 })),
    );
    expect(result).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    const after = await rowsOf(node.id);
    // Not one VM row written: same tuple (xmin), same version, same updated_at.
    expect(after).toEqual(before);

    const seenAt = await nodeSeenAt(node.id);
    expect(seenAt).toBeInstanceOf(Date);
    const shown = await apiVms(alice, node.id);
    expect(shown.map((v) => [v.vmid, v.cpu_usage, v.mem_usage, v.uptime_s])).toEqual(
      vmids.map((v) => [v, 0.5 + v / 1000, 2_000_000 + v, 160]),
    );
    for (const v of shown) expect(v.last_seen_at).toBe(seenAt?.toISOString());
    // GET one VM: the same figures, and the ETag did not move (uptime alone is no change).
    const one = await call(alice, 'GET', `/vms/${shown[0]?.id}`);
    expect(one.json()).toMatchObject({ cpu_usage: 0.601, uptime_s: 160 });
    expect(one.headers.etag).toBe(etagBefore);

    // One guest really changes: exactly its row is written, its ETag moves.
    await sync(node.api_key, [
      guest(101, { cpu: 0.2, mem: 5, up: 220 }, { name: 'renamed' }),
      ...vmids.slice(1).map((v) => guest(v, { cpu: 0.3, mem: 6, up: 220 })),
    ]);
    const third = await rowsOf(node.id);
    expect(third.filter((r, i) => r.xmin !== after[i]?.xmin).map((r) => r.vmid)).toEqual([101]);
    expect(third[0]?.row_version).toBe(String(Number(after[0]?.row_version) + 1));
    const renamed = await call(alice, 'GET', `/vms/${shown[0]?.id}`);
    expect(renamed.headers.etag).not.toBe(etagBefore);
    expect(renamed.json()).toMatchObject({ name: 'renamed', cpu_usage: 0.2, uptime_s: 220 });
  });

  it('keeps the time a missing VM was last seen, and its last usage', async () => {
    const node = await makeNode(alice);
    await sync(node.api_key, [
      guest(201, { cpu: 0.1, mem: 10, up: 50 }),
      guest(202, { cpu: 0.1, mem: 10, up: 50 }),
    ]);
    await sync(node.api_key, [
      guest(201, { cpu: 0.7, mem: 77, up: 110 }),
      guest(202, { cpu: 0.2, mem: 20, up: 110 }),
    ]);
    const lastSeen = await nodeSeenAt(node.id);
    // Later syncs with a real gap in time (everything above happened an hour ago): 202 is gone.
    await ownerQuery(
      "UPDATE vm_liveness SET seen_at = seen_at - interval '1 hour' WHERE node_id = $1",
      [node.id],
    );
    await ownerQuery(
      "UPDATE vms SET last_seen_at = last_seen_at - interval '1 hour' WHERE node_id = $1",
      [node.id],
    );
    const expectedSeen = await nodeSeenAt(node.id);
    expect(expectedSeen?.getTime()).toBe((lastSeen?.getTime() ?? 0) - 3_600_000);
    const result = await sync(node.api_key, [guest(201, { cpu: 0.4, mem: 40, up: 170 })]);
    expect(result.absent).toBe(1);
    await sync(node.api_key, [guest(201, { cpu: 0.4, mem: 40, up: 230 })]);
    const [present, gone] = await apiVms(alice, node.id);
    expect(gone).toMatchObject({ vmid: 202, cpu_usage: 0.2, mem_usage: 20, uptime_s: 110 });
    expect(gone?.absent_since).not.toBeNull();
    expect(gone?.last_seen_at).toBe(expectedSeen?.toISOString());
    expect(present?.last_seen_at).toBe((await nodeSeenAt(node.id))?.toISOString());
    expect(present?.uptime_s).toBe(230);

    // It comes back: seen again, with its new usage.
    await sync(node.api_key, [
      guest(201, { cpu: 0.4, mem: 40, up: 290 }),
      guest(202, { cpu: 0.9, mem: 90, up: 5 }),
    ]);
    const back = (await apiVms(alice, node.id))[1];
    expect(back).toMatchObject({ vmid: 202, absent_since: null, cpu_usage: 0.9, uptime_s: 5 });
    expect(back?.last_seen_at).toBe((await nodeSeenAt(node.id))?.toISOString());
  });

  it('sorts by the derived last_seen_at', async () => {
    const node = await makeNode(alice);
    await sync(node.api_key, [guest(301, { cpu: 0, mem: 0, up: 0 })]);
    const manual = await call(alice, 'POST', '/vms', {
      name: 'by hand',
      node_id: node.id,
      vmid: 999,
    });
    expect(manual.statusCode, manual.body).toBe(201);
    await ownerQuery(
      "UPDATE vms SET last_seen_at = now() - interval '1 day' WHERE node_id = $1 AND vmid = 301",
      [node.id],
    );
    await ownerQuery(
      "UPDATE vms SET last_seen_at = now() - interval '1 hour' WHERE node_id = $1 AND vmid = 999",
      [node.id],
    );
    // 301's own row says a day ago, its node's last sync says now: it sorts as now.
    const items = (await call(alice, 'GET', `/vms?node_id=${node.id}&sort=-last_seen_at`)).json()
      .items as Array<{ vmid: number }>;
    expect(items.map((v) => v.vmid)).toEqual([301, 999]);
  });
});

describe('a deleted node', () => {
  it('leaves its VMs the time they were last seen and their last usage', async () => {
    const node = await makeNode(alice);
    await sync(node.api_key, [
      guest(701, { cpu: 0.1, mem: 1, up: 1 }),
      guest(702, { cpu: 0.1, mem: 1, up: 1 }),
    ]);
    await sync(node.api_key, [
      guest(701, { cpu: 0.25, mem: 2500, up: 61 }),
      guest(702, { cpu: 0.5, mem: 5000, up: 61 }),
    ]);
    const before = await apiVms(alice, node.id);
    const seenAt = (await nodeSeenAt(node.id))?.toISOString();
    await ownerQuery(
      "UPDATE vms SET last_seen_at = last_seen_at - interval '1 hour' WHERE node_id = $1",
      [node.id],
    );
    expect((await call(alice, 'DELETE', `/proxmox-nodes/${node.id}`)).statusCode).toBe(204);
    for (const vm of before) {
      const after = (await call(alice, 'GET', `/vms/${vm.id}`)).json();
      expect(after).toMatchObject({
        node_id: null,
        last_seen_at: seenAt,
        cpu_usage: vm.cpu_usage,
        mem_usage: vm.mem_usage,
        uptime_s: 61,
      });
    }
  });
});

describe('new guests, inserted in sets', () => {
  it('takes a listing-only guest (sizes and addresses unknown) and fills it in later', async () => {
    const node = await makeNode(alice);
    await sync(node.api_key, [{ vmid: 501, type: 'lxc', status: 'stopped' }]);
    const [bare] = await apiVms(alice, node.id);
    expect(bare).toMatchObject({ vmid: 501, status: 'stopped', cpu_usage: null });
    const full = (await call(alice, 'GET', `/vms/${bare?.id}`)).json();
    expect(full).toMatchObject({
      type: 'lxc',
      name: null,
      template: false,
      ip_addresses: [],
      mac_addresses: [],
      pve_tags: [],
      memory_mb: null,
      source: 'agent',
    });
    await sync(node.api_key, [
      guest(
        501,
        { cpu: 0, mem: 0, up: 0 },
        {
          type: 'lxc',
          status: 'stopped',
          mac_addresses: ['bc:24:11:00:05:01'],
          ip_addresses: ['10.5.0.1/24'],
          tags: ['Web'],
        },
      ),
    ]);
    expect((await call(alice, 'GET', `/vms/${bare?.id}`)).json()).toMatchObject({
      name: 'vm-501',
      mac_addresses: ['BC:24:11:00:05:01'],
      ip_addresses: ['10.5.0.1'],
      pve_tags: ['Web'],
    });
  });

  it('refuses a guest holding a NUL character with a 400 naming it, and writes nothing', async () => {
    const node = await makeNode(alice);
    const res = await asNode(
      node.api_key,
      '/agent/sync',
      cycle([
        guest(601, { cpu: 0, mem: 0, up: 0 }),
        guest(602, { cpu: 0, mem: 0, up: 0 }, { description: 'a\u0000b' }),
      ]),
    );
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors).toEqual([
      expect.objectContaining({ path: '/body/vms/1/description' }),
    ]);
    expect(await rowsOf(node.id)).toEqual([]);
  });
});

describe('vm_liveness tenancy', () => {
  const asUser = (u: TestUser): Actor => ({
    kind: 'user',
    userId: u.id,
    username: u.username,
    role: 'user',
    via: 'session',
    scopes: ['read', 'write'],
  });

  it("shows a user their own nodes' rows only, and lets an agent write its own node's only", async () => {
    const aliceNode = await makeNode(alice);
    const bobNode = await makeNode(bob);
    await sync(aliceNode.api_key, [guest(401, { cpu: 0.1, mem: 1, up: 1 })]);
    await sync(bobNode.api_key, [guest(401, { cpu: 0.2, mem: 2, up: 2 })]);

    const seenBy = async (actor: Actor) =>
      (await withTenant(t.database, actor, (tx) => tx.select().from(vmLiveness))).map(
        (r) => r.nodeId,
      );
    expect(await seenBy(asUser(alice))).toContain(aliceNode.id);
    expect(await seenBy(asUser(alice))).not.toContain(bobNode.id);
    expect(await seenBy(asUser(bob))).toEqual([bobNode.id]);

    // Bob's agent may neither read nor overwrite Alice's node's row.
    const bobAgent: Actor = { kind: 'node', nodeId: bobNode.id, ownerId: bob.id };
    expect(await seenBy(bobAgent)).toEqual([bobNode.id]);
    const updated = await withTenant(t.database, bobAgent, (tx) =>
      tx.execute(
        sql`UPDATE vm_liveness SET usage = '{"401":[1,1,1]}'::jsonb WHERE node_id = ${aliceNode.id}::uuid RETURNING node_id`,
      ),
    );
    expect((updated as unknown as { rows?: unknown[] }).rows ?? updated).toHaveLength(0);
    await expect(
      withTenant(t.database, bobAgent, (tx) =>
        tx.execute(
          sql`INSERT INTO vm_liveness (node_id, owner_id, usage) VALUES (${aliceNode.id}::uuid, ${alice.id}::uuid, '{}')`,
        ),
      ),
    ).rejects.toThrow();
    // Alice still sees her own figure, Bob his.
    expect((await apiVms(alice, aliceNode.id))[0]?.cpu_usage).toBe(0.1);
    expect((await apiVms(bob, bobNode.id))[0]?.cpu_usage).toBe(0.2);
    expect((await apiVms(bob, aliceNode.id)).length).toBe(0);
  });
});
