import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const asNode = (
  key: string,
  method: string,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: { ...bearer(key), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const ownerQuery = <T>(text: string) => ownerQueryAs<T>(t.database, text);

async function makeNode(user: TestUser, body: Record<string, unknown> = {}) {
  const res = await call(user, 'POST', '/proxmox-nodes', { name: randomName('pve'), ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; api_key: string; name: string };
}

let clock = Date.parse('2026-11-24T10:00:00Z');
function cycle(vms: unknown[], extra: Record<string, unknown> = {}) {
  clock += 60_000;
  return {
    cycle_id: randomName('cycle'),
    observed_at: new Date(clock).toISOString(),
    agent_version: '0.1.0',
    pve_version: '8.4.1',
    complete: true,
    vms,
    ...extra,
  };
}

const guest = (vmid: number, extra: Record<string, unknown> = {}) => ({
  vmid,
  type: 'qemu',
  name: `vm-${vmid}`,
  status: 'running',
  template: false,
  cpu_cores: 2,
  memory_mb: 2048,
  smbios_uuid: `00000000-0000-4000-8000-${String(vmid).padStart(12, '0')}`,
  mac_addresses: [
    `BC:24:11:00:${String(Math.floor(vmid / 100) % 100).padStart(2, '0')}:${String(vmid % 100).padStart(2, '0')}`,
  ],
  ip_addresses: [`10.0.${Math.floor(vmid / 250)}.${vmid % 250}`],
  tags: ['farm'],
  cpu_usage: Math.random(),
  uptime_s: 100,
  ...extra,
});

const vmsOf = async (user: TestUser, nodeId: string) =>
  (await call(user, 'GET', `/vms?node_id=${nodeId}&sort=vmid&limit=500`)).json().items as Array<
    Record<string, unknown>
  >;

describe('agent authentication', () => {
  it('takes only a valid node key, and stops taking it after rotation or owner deactivation', async () => {
    const node = await makeNode(alice);
    expect((await asNode(node.api_key, 'GET', '/agent/config')).statusCode).toBe(200);
    expect((await call(alice, 'GET', '/agent/config')).statusCode).toBe(401);
    expect(
      (await asNode(`${node.api_key.slice(0, -3)}xyz`, 'GET', '/agent/config')).statusCode,
    ).toBe(401);
    // A node key is good for nothing but the agent routes.
    expect((await asNode(node.api_key, 'GET', '/vms')).statusCode).toBe(401);
    await call(alice, 'POST', `/proxmox-nodes/${node.id}/rotate-key`);
    expect((await asNode(node.api_key, 'GET', '/agent/config')).statusCode).toBe(401);
    const user = await createUser(t.app, admin);
    const other = await makeNode(user);
    await call(admin, 'PATCH', `/users/${user.id}`, { is_active: false });
    expect(
      (
        await asNode(other.api_key, 'POST', '/agent/heartbeat', {
          status: 'ok',
          agent_version: '0.1.0',
        })
      ).statusCode,
    ).toBe(401);
  });

  it('answers the configuration with an ETag and 304 when unchanged', async () => {
    const node = await makeNode(alice, { sync_mode: 'whitelist', whitelist: [101] });
    const first = await asNode(node.api_key, 'GET', '/agent/config');
    expect(first.json()).toEqual({
      node_id: node.id,
      name: node.name,
      sync_mode: 'whitelist',
      whitelist: [101],
      interval_s: 60,
      sync_requested_at: null,
    });
    const etag = first.headers.etag as string;
    expect(
      (await asNode(node.api_key, 'GET', '/agent/config', undefined, { 'if-none-match': etag }))
        .statusCode,
    ).toBe(304);
    await call(alice, 'POST', `/proxmox-nodes/${node.id}/whitelist/102`);
    const changed = await asNode(node.api_key, 'GET', '/agent/config', undefined, {
      'if-none-match': etag,
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().whitelist).toEqual([101, 102]);
    // A "Sync now" changes the configuration too: the agent's next poll sees it.
    await call(alice, 'POST', `/proxmox-nodes/${node.id}/sync-now`);
    const asked = await asNode(node.api_key, 'GET', '/agent/config', undefined, {
      'if-none-match': changed.headers.etag as string,
    });
    expect(asked.statusCode).toBe(200);
    expect(asked.json().sync_requested_at).toEqual(expect.any(String));
  });
});

describe('agent sync', () => {
  it('creates, updates, marks absent and brings back guests; never touches user notes or tags', async () => {
    const node = await makeNode(alice);
    const first = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(101), guest(102), guest(103)]),
    );
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({
      created: 3,
      updated: 0,
      unchanged: 0,
      absent: 0,
      returned: 0,
      ignored: 0,
      stale: false,
    });
    const [vm101] = await vmsOf(alice, node.id);
    await call(alice, 'PATCH', `/vms/${vm101?.id}`, { notes: 'my note', tags: ['mine'] });

    const second = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(101, { status: 'stopped', tags: ['farm', 'new'] }), guest(102)]),
    );
    expect(second.json()).toMatchObject({ created: 0, updated: 1, unchanged: 1, absent: 1 });
    const after = await vmsOf(alice, node.id);
    expect(after.find((v) => v.vmid === 101)).toMatchObject({
      status: 'stopped',
      notes: 'my note',
      tags: ['mine'],
      pve_tags: ['farm', 'new'],
      source: 'agent',
    });
    expect(after.find((v) => v.vmid === 103)?.absent_since).not.toBeNull();
    const events = (await call(alice, 'GET', `/vms/${vm101?.id}/events`)).json().items;
    expect(events.map((e: { to_status: string }) => e.to_status)).toEqual(['stopped', 'running']);

    const third = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(101, { status: 'stopped', tags: ['farm', 'new'] }), guest(102), guest(103)]),
    );
    expect(third.json()).toMatchObject({ returned: 1, absent: 0 });
    expect((await vmsOf(alice, node.id)).find((v) => v.vmid === 103)?.absent_since).toBeNull();
    const node1 = (await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json();
    expect(node1).toMatchObject({
      status: 'online',
      agent_version: '0.1.0',
      pve_version: '8.4.1',
      last_error: null,
    });
    expect(node1.last_sync_stats).toMatchObject({ returned: 1, guests: 3 });
  });

  it('keeps fields the agent did not observe, and usage figures do not count as changes', async () => {
    const node = await makeNode(alice);
    await asNode(node.api_key, 'POST', '/agent/sync', cycle([guest(201)]));
    const before = (await vmsOf(alice, node.id))[0];
    const { ip_addresses: _ip, ...withoutIps } = guest(201);
    const res = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([{ ...withoutIps, cpu_usage: 0.5, uptime_s: 500 }]),
    );
    expect(res.json()).toMatchObject({ unchanged: 1, updated: 0 });
    const after = (await vmsOf(alice, node.id))[0];
    expect(after?.ip_addresses).toEqual(before?.ip_addresses);
    expect(after).toMatchObject({ cpu_usage: 0.5, uptime_s: 500, updated_at: before?.updated_at });
  });

  it('is idempotent per cycle_id, refuses a reused cycle_id with another body, ignores stale snapshots', async () => {
    const node = await makeNode(alice);
    const body = cycle([guest(301)]);
    const a = await asNode(node.api_key, 'POST', '/agent/sync', body);
    const b = await asNode(node.api_key, 'POST', '/agent/sync', body);
    expect(b.json()).toEqual(a.json());
    expect(
      await ownerQuery(
        `SELECT 1 FROM vm_status_events e JOIN vms v ON v.id = e.vm_id WHERE v.node_id = '${node.id}'`,
      ),
    ).toHaveLength(1);
    const conflict = await asNode(node.api_key, 'POST', '/agent/sync', {
      ...body,
      vms: [guest(301), guest(302)],
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('cycle_conflict');
    const old = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([], { observed_at: '2020-01-01T00:00:00.000Z' }),
    );
    expect(old.json()).toMatchObject({ stale: true, absent: 0 });
    expect((await vmsOf(alice, node.id))[0]?.absent_since).toBeNull();
  });

  it('enforces the whitelist server-side and reports the skipped VMIDs', async () => {
    const node = await makeNode(alice, { sync_mode: 'whitelist', whitelist: [401] });
    const res = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(401), guest(402), guest(403)]),
    );
    expect(res.json()).toMatchObject({ created: 1, ignored: 2 });
    expect((await vmsOf(alice, node.id)).map((v) => v.vmid)).toEqual([401]);
    expect((await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json().skipped_vmids).toEqual([
      402, 403,
    ]);
  });

  it('treats an empty complete sync as suspicious: nothing marked absent, the node shows an error', async () => {
    const node = await makeNode(alice);
    await asNode(node.api_key, 'POST', '/agent/sync', cycle([guest(501), guest(502)]));
    const res = await asNode(node.api_key, 'POST', '/agent/sync', cycle([]));
    expect(res.json()).toMatchObject({ absent: 0 });
    expect((await vmsOf(alice, node.id)).every((v) => v.absent_since === null)).toBe(true);
    const n = (await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json();
    expect(n.status).toBe('error');
    expect(n.last_error).toContain('no guests');
  });

  it('keeps a reused VMID apart from the guest that had it before', async () => {
    const node = await makeNode(alice);
    await asNode(node.api_key, 'POST', '/agent/sync', cycle([guest(601)]));
    const old = (await vmsOf(alice, node.id))[0];
    await call(alice, 'PATCH', `/vms/${old?.id}`, { notes: 'the old one' });
    const res = await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(601, { smbios_uuid: '11111111-1111-4111-8111-111111111111', name: 'new-601' })]),
    );
    expect(res.json()).toMatchObject({ created: 1 });
    const oldNow = (await call(alice, 'GET', `/vms/${old?.id}`)).json();
    expect(oldNow).toMatchObject({ vmid: null, notes: 'the old one' });
    expect(oldNow.absent_since).not.toBeNull();
    expect((await vmsOf(alice, node.id)).find((v) => v.vmid === 601)?.name).toBe('new-601');
  });

  it('follows a VM that migrated to another node of the same owner, keeping its id, links and history', async () => {
    const a = await makeNode(alice);
    const b = await makeNode(alice);
    await asNode(a.api_key, 'POST', '/agent/sync', cycle([guest(701)]));
    const vm = (await vmsOf(alice, a.id))[0];
    const account = (
      await call(alice, 'POST', '/accounts', { username: randomName('acc') })
    ).json();
    await call(alice, 'PATCH', `/vms/${vm?.id}`, { account_id: account.id, notes: 'keep me' });
    const res = await asNode(
      b.api_key,
      'POST',
      '/agent/sync',
      cycle([guest(701, { status: 'stopped' })]),
    );
    expect(res.json()).toMatchObject({ created: 0, updated: 1 });
    const moved = (await call(alice, 'GET', `/vms/${vm?.id}`)).json();
    expect(moved).toMatchObject({
      node_id: b.id,
      account_id: account.id,
      notes: 'keep me',
      status: 'stopped',
    });
    // The old node no longer has it: its next complete sync marks nothing absent.
    expect(
      (await asNode(a.api_key, 'POST', '/agent/sync', cycle([guest(702)]))).json(),
    ).toMatchObject({ absent: 0, created: 1 });
    // Another owner's node with the same SMBIOS UUID and VMID does not take it.
    const c = await makeNode(bob);
    expect(
      (await asNode(c.api_key, 'POST', '/agent/sync', cycle([guest(701)]))).json(),
    ).toMatchObject({ created: 1 });
    expect((await call(alice, 'GET', `/vms/${vm?.id}`)).json().node_id).toBe(b.id);
  });

  it("links the owner's hardware record by SMBIOS UUID or MAC, creating none", async () => {
    const node = await makeNode(alice);
    const g = guest(801);
    const hw = (await call(alice, 'POST', '/hardware', { smbios_uuid: g.smbios_uuid })).json();
    const byMac = (
      await call(alice, 'POST', '/hardware', { mac_address: guest(802).mac_addresses[0] })
    ).json();
    const before = (await call(alice, 'GET', '/hardware')).json().total;
    await asNode(
      node.api_key,
      'POST',
      '/agent/sync',
      cycle([g, guest(802, { smbios_uuid: null })]),
    );
    const vms = await vmsOf(alice, node.id);
    expect((await call(alice, 'GET', `/hardware/${hw.id}`)).json().vm_id).toBe(
      vms.find((v) => v.vmid === 801)?.id,
    );
    expect((await call(alice, 'GET', `/hardware/${byMac.id}`)).json().vm_id).toBe(
      vms.find((v) => v.vmid === 802)?.id,
    );
    expect((await call(alice, 'GET', '/hardware')).json().total).toBe(before);
  });

  it('serialises two agents with the same key syncing at once: no duplicate rows', async () => {
    const node = await makeNode(alice);
    const guests = Array.from({ length: 40 }, (_, i) => guest(900 + i));
    const [x, y] = await Promise.all([
      asNode(node.api_key, 'POST', '/agent/sync', cycle(guests)),
      asNode(node.api_key, 'POST', '/agent/sync', cycle(guests)),
    ]);
    expect([x?.statusCode, y?.statusCode]).toEqual([200, 200]);
    const created = [x?.json().created, y?.json().created].sort();
    expect(created).toEqual([0, 40]);
    const rows = await ownerQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM vms WHERE node_id = '${node.id}'`,
    );
    expect(rows[0]?.n).toBe(40);
  });

  it('shows heartbeats: an error report marks the node error, an ok one clears it', async () => {
    const node = await makeNode(alice);
    const bad = await asNode(node.api_key, 'POST', '/agent/heartbeat', {
      status: 'error',
      error: 'Proxmox answered 401',
      agent_version: '0.1.0',
    });
    expect(bad.statusCode).toBe(204);
    expect((await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json()).toMatchObject({
      status: 'error',
      last_error: 'Proxmox answered 401',
    });
    await asNode(node.api_key, 'POST', '/agent/heartbeat', {
      status: 'ok',
      agent_version: '0.1.0',
    });
    expect((await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json()).toMatchObject({
      status: 'online',
      last_error: null,
    });
  });
});

describe('agent config over a real socket', () => {
  it('answers 304 without a body or content-length, so keep-alive clients do not wait', async () => {
    const node = await makeNode(alice);
    const first = await asNode(node.api_key, 'GET', '/agent/config');
    const again = await asNode(node.api_key, 'GET', '/agent/config', undefined, {
      'if-none-match': first.headers.etag as string,
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers['content-length']).toBeUndefined();
  });
});
