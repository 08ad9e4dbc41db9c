import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// Fault test (issue 7): the agent's clock a day off. Freshness (online/stale/offline,
// last_seen_at, last_sync_at) follows the server's clock, and the snapshot ordering on the
// agent's observed_at never freezes a node: a clock a day ahead that gets corrected, or a
// clock a day behind, still has its syncs applied.

const DAY = 86_400_000;

let t: TestApp;
let alice: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, call } = await twoUsers());
});
afterAll(async () => t?.close());

async function makeNode() {
  const res = await call(alice, 'POST', '/proxmox-nodes', {
    name: randomName('pve-skew'),
    sync_interval_s: 60,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; api_key: string };
}

const guest = (vmid: number, status: 'running' | 'stopped') => ({
  vmid,
  type: 'qemu',
  name: `vm-${vmid}`,
  status,
  template: false,
  smbios_uuid: `00000000-0000-4000-8000-${String(vmid).padStart(12, '0')}`,
});

/** POST /agent/sync with a snapshot the agent stamped `observedAt` (its own clock). */
async function sync(key: string, observedAt: number, vms: unknown[]) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/sync',
    headers: bearer(key),
    payload: {
      cycle_id: randomName('cycle'),
      observed_at: new Date(observedAt).toISOString(),
      agent_version: '0.1.0',
      complete: true,
      vms,
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  // Let the server's clock move past this transaction's start before the next request.
  await new Promise((r) => setTimeout(r, 5));
  return res.json() as { stale: boolean; created: number; updated: number; absent: number };
}

const vmStates = async (nodeId: string) =>
  (
    (await call(alice, 'GET', `/vms?node_id=${nodeId}&sort=vmid`)).json().items as Array<{
      vmid: number;
      status: string;
      absent_since: string | null;
    }>
  ).map((v) => `${v.vmid}:${v.status}${v.absent_since ? ':absent' : ''}`);

const nodeOf = async (id: string) =>
  (await call(alice, 'GET', `/proxmox-nodes/${id}`)).json() as {
    status: string;
    last_seen_at: string;
    last_sync_at: string;
  };

/** The node's times are the server's: within a minute of now, whatever the agent's clock. */
function expectServerTimes(node: { last_seen_at: string; last_sync_at: string }): void {
  for (const at of [node.last_seen_at, node.last_sync_at]) {
    expect(Math.abs(Date.parse(at) - Date.now())).toBeLessThan(60_000);
  }
}

describe('agent clock a day off', () => {
  it('freshness follows the server clock: a day ahead is not fresh for a day, a day behind is not stale', async () => {
    const ahead = await makeNode();
    expect((await sync(ahead.api_key, Date.now() + DAY, [guest(101, 'running')])).stale).toBe(
      false,
    );
    const aheadNode = await nodeOf(ahead.id);
    expect(aheadNode.status).toBe('online');
    expectServerTimes(aheadNode);
    // Silent for 10 intervals by the server's clock: offline, though the agent's last
    // snapshot claims to be from tomorrow.
    await ownerQueryAs(
      t.database,
      `UPDATE proxmox_nodes SET last_seen_at = now() - interval '700 seconds' WHERE id = '${ahead.id}'`,
    );
    expect((await nodeOf(ahead.id)).status).toBe('offline');

    const behind = await makeNode();
    expect((await sync(behind.api_key, Date.now() - DAY, [guest(101, 'running')])).stale).toBe(
      false,
    );
    const behindNode = await nodeOf(behind.id);
    expect(behindNode.status).toBe('online');
    expectServerTimes(behindNode);
  });

  it('a clock a day ahead, then corrected: the next syncs are applied, older snapshots still ignored', async () => {
    const node = await makeNode();
    await sync(node.api_key, Date.now() + DAY, [guest(201, 'running'), guest(202, 'running')]);
    expect(await vmStates(node.id)).toEqual(['201:running', '202:running']);

    // NTP corrects the agent's clock: its snapshots are now "older" than tomorrow's.
    const corrected = Date.now();
    const applied = await sync(node.api_key, corrected, [
      guest(201, 'stopped'),
      guest(203, 'running'),
    ]);
    expect(applied).toMatchObject({ stale: false, created: 1, updated: 1, absent: 1 });
    expect(await vmStates(node.id)).toEqual(['201:stopped', '202:running:absent', '203:running']);
    const events = await ownerQueryAs<{ to_status: string }>(
      t.database,
      `SELECT e.to_status FROM vm_status_events e JOIN vms v ON v.id = e.vm_id
        WHERE v.node_id = '${node.id}' AND v.vmid = 201 ORDER BY e.at, e.to_status`,
    );
    expect(events.map((e) => e.to_status)).toEqual(['running', 'stopped']);

    const later = Date.now();
    expect((await sync(node.api_key, later, [guest(201, 'running')])).stale).toBe(false);
    expect(await vmStates(node.id)).toEqual([
      '201:running',
      '202:running:absent',
      '203:running:absent',
    ]);
    // The ordering still guards against a snapshot older than the last applied one.
    const old = await sync(node.api_key, corrected - 1, [guest(201, 'stopped')]);
    expect(old).toMatchObject({ stale: true, absent: 0 });
    expect((await vmStates(node.id))[0]).toBe('201:running');
    const fresh = await nodeOf(node.id);
    expect(fresh.status).toBe('online');
    expectServerTimes(fresh);
  });

  it('a clock a day behind: every sync is applied in its own order', async () => {
    const node = await makeNode();
    const skewed = Date.now() - DAY;
    expect((await sync(node.api_key, skewed, [guest(301, 'running')])).created).toBe(1);
    const second = await sync(node.api_key, skewed + 60_000, [guest(301, 'stopped')]);
    expect(second).toMatchObject({ stale: false, updated: 1 });
    const third = await sync(node.api_key, skewed + 120_000, [
      guest(301, 'running'),
      guest(302, 'running'),
    ]);
    expect(third).toMatchObject({ stale: false, created: 1, updated: 1 });
    expect(await vmStates(node.id)).toEqual(['301:running', '302:running']);
    expect((await sync(node.api_key, skewed + 90_000, [])).stale).toBe(true);
    expect(await vmStates(node.id)).toEqual(['301:running', '302:running']);
    const fresh = await nodeOf(node.id);
    expect(fresh.status).toBe('online');
    expectServerTimes(fresh);
  });
});
