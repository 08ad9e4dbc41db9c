import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

let t: TestApp;

let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const ownerQuery = <T>(text: string) => ownerQueryAs<T>(t.database, text);

describe('proxmox nodes', () => {
  it('shows the agent key once, stores only its hash, and rotates it', async () => {
    const res = await call(alice, 'POST', '/proxmox-nodes', { name: 'pve1', hostname: 'pve1.lan' });
    expect(res.statusCode, res.body).toBe(201);
    const node = res.json();
    expect(node.api_key).toMatch(/^adb_node_[A-Za-z0-9_-]{43}$/);
    expect(node.agent_config).toContain(`ACCOUNTDB_NODE_KEY=${node.api_key}`);
    expect(node.agent_config).toContain('PVE_NODE=pve1');
    expect(node).toMatchObject({ status: 'pending', sync_mode: 'all', port: 8006 });
    const again = (await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json();
    expect(again.api_key).toBeUndefined();
    expect(JSON.stringify((await call(alice, 'GET', '/proxmox-nodes')).json())).not.toContain(
      node.api_key,
    );
    const rows = await ownerQuery(`SELECT * FROM proxmox_nodes WHERE id = '${node.id}'`);
    expect(JSON.stringify(rows)).not.toContain(node.api_key);
    const rotated = (await call(alice, 'POST', `/proxmox-nodes/${node.id}/rotate-key`)).json();
    expect(rotated.api_key).toMatch(/^adb_node_/);
    expect(rotated.api_key).not.toBe(node.api_key);
    expect(rotated.api_key_prefix).toBe(rotated.api_key.slice(0, 21));
  });

  it('keeps node names unique per owner and edits the whitelist idempotently', async () => {
    const node = (
      await call(alice, 'POST', '/proxmox-nodes', {
        name: 'pve-wl',
        sync_mode: 'whitelist',
        whitelist: [105, 101, 101],
      })
    ).json();
    expect(node.whitelist).toEqual([101, 105]);
    expect((await call(alice, 'POST', '/proxmox-nodes', { name: 'PVE-WL' })).statusCode).toBe(409);
    expect((await call(bob, 'POST', '/proxmox-nodes', { name: 'pve-wl' })).statusCode).toBe(201);
    expect(
      (await call(alice, 'POST', `/proxmox-nodes/${node.id}/whitelist/103`)).json().whitelist,
    ).toEqual([101, 103, 105]);
    expect(
      (await call(alice, 'POST', `/proxmox-nodes/${node.id}/whitelist/103`)).json().whitelist,
    ).toEqual([101, 103, 105]);
    expect(
      (await call(alice, 'DELETE', `/proxmox-nodes/${node.id}/whitelist/101`)).json().whitelist,
    ).toEqual([103, 105]);
    expect(
      (await call(alice, 'PUT', `/proxmox-nodes/${node.id}/whitelist`, { vmids: [7] })).json()
        .whitelist,
    ).toEqual([7]);
    expect(
      (await call(alice, 'PUT', `/proxmox-nodes/${node.id}/whitelist`, { vmids: ['x'] }))
        .statusCode,
    ).toBe(400);
    for (const [method, url, body] of [
      ['GET', `/proxmox-nodes/${node.id}`],
      ['POST', `/proxmox-nodes/${node.id}/rotate-key`],
      ['PUT', `/proxmox-nodes/${node.id}/whitelist`, { vmids: [1] }],
      ['POST', `/proxmox-nodes/${node.id}/whitelist/5`],
      ['DELETE', `/proxmox-nodes/${node.id}/whitelist/7`],
      ['DELETE', `/proxmox-nodes/${node.id}`],
    ] as Array<[string, string, unknown?]>) {
      expect({ method, url, status: (await call(bob, method, url, body)).statusCode }).toEqual({
        method,
        url,
        status: 404,
      });
    }
    expect((await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json().whitelist).toEqual([7]);
  });

  it('judges freshness by the server clock: online, stale after 3 intervals, offline after 10', async () => {
    const node = (
      await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-clock', sync_interval_s: 60 })
    ).json();
    const status = async (secondsAgo: number) => {
      await ownerQuery(
        `UPDATE proxmox_nodes SET last_seen_at = now() - interval '${secondsAgo} seconds' WHERE id = '${node.id}'`,
      );
      return (await call(alice, 'GET', `/proxmox-nodes/${node.id}`)).json().status;
    };
    expect(await status(30)).toBe('online');
    expect(await status(200)).toBe('stale');
    expect(await status(700)).toBe('offline');
    expect(
      (await call(alice, 'GET', '/proxmox-nodes?status=offline&q=pve-clock')).json().total,
    ).toBe(1);
  });
});

describe('vms', () => {
  it("links to the owner's node and account, never another user's", async () => {
    const node = (await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-vm' })).json();
    const account = (await call(alice, 'POST', '/accounts', { username: 'vm-user' })).json();
    const vm = await call(alice, 'POST', '/vms', {
      node_id: node.id,
      vmid: 101,
      name: 'farm-101',
      status: 'running',
      account_id: account.id,
      ip_addresses: ['10.0.0.5/24', 'FE80::1'],
      mac_addresses: ['bc:24:11:00:00:01'],
    });
    expect(vm.statusCode, vm.body).toBe(201);
    expect(vm.json()).toMatchObject({
      ip_addresses: ['10.0.0.5', 'fe80::1'],
      mac_addresses: ['BC:24:11:00:00:01'],
      source: 'manual',
    });
    expect((await call(alice, 'POST', '/vms', { node_id: node.id, vmid: 101 })).statusCode).toBe(
      409,
    );
    const foreign = await call(bob, 'POST', '/vms', { node_id: node.id, vmid: 102 });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().errors[0].path).toBe('/body/node_id');
    const foreignAccount = await call(bob, 'POST', '/vms', { account_id: account.id });
    expect(foreignAccount.json().errors[0].path).toBe('/body/account_id');
    const badIp = await call(alice, 'POST', '/vms', { ip_addresses: ['10.0.0.300'] });
    expect(badIp.json().errors[0].path).toBe('/body/ip_addresses/0');
    expect((await call(alice, 'GET', `/vms?node_id=${node.id}&status=running`)).json().total).toBe(
      1,
    );
  });

  it('finds VMs by MAC address in any spelling and by SMBIOS UUID, only your own', async () => {
    const body = {
      name: 'by-mac',
      mac_addresses: ['bc-24-11-5e-0a-77', 'BC:24:11:5E:0A:78'],
      smbios_uuid: '{4C4C4544-0042-3510-8052-B4C04F4E4D77}',
    };
    const mine = (await call(alice, 'POST', '/vms', body)).json();
    await call(bob, 'POST', '/vms', body);
    const names = async (user: TestUser, query: string) =>
      (await call(user, 'GET', `/vms?${query}`)).json().items.map((v: { id: string }) => v.id);
    expect(await names(alice, 'mac_address=BC2411-5E0A77')).toEqual([mine.id]);
    expect(await names(alice, 'mac_address=bc:24:11:5e:0a:78')).toEqual([mine.id]);
    expect(await names(alice, 'smbios_uuid=4c4c4544-0042-3510-8052-b4c04f4e4d77')).toEqual([
      mine.id,
    ]);
    expect(await names(alice, 'mac_address=BC:24:11:5E:0A:79')).toEqual([]);
    const bad = await call(alice, 'GET', '/vms?mac_address=not-a-mac-at-all');
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().errors)).toContain('/querystring/mac_address');
  });

  it("records every status change in the VM's history", async () => {
    const vm = (await call(alice, 'POST', '/vms', { name: 'hist', status: 'stopped' })).json();
    await call(alice, 'PATCH', `/vms/${vm.id}`, { status: 'running' });
    await call(alice, 'PATCH', `/vms/${vm.id}`, { name: 'renamed' });
    await call(alice, 'PATCH', `/vms/${vm.id}`, { status: 'paused' });
    await call(alice, 'PATCH', `/vms/${vm.id}`, { status: 'io-error' });
    const events = (await call(alice, 'GET', `/vms/${vm.id}/events`)).json().items;
    expect(
      events.map((e: { from_status: string | null; to_status: string }) => [
        e.from_status,
        e.to_status,
      ]),
    ).toEqual([
      ['paused', 'io-error'],
      ['running', 'paused'],
      ['stopped', 'running'],
      [null, 'stopped'],
    ]);
    expect((await call(bob, 'GET', `/vms/${vm.id}/events`)).statusCode).toBe(404);
  });

  it('takes every guest state, and refuses any other with the field named', async () => {
    const states = [
      'running',
      'stopped',
      'paused',
      'suspended',
      'io-error',
      'migrating',
      'prelaunch',
      'internal-error',
      'unknown',
    ];
    const vm = (await call(alice, 'POST', '/vms', { name: 'states' })).json();
    for (const status of states) {
      const res = await call(alice, 'PATCH', `/vms/${vm.id}`, { status });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe(status);
      expect((await call(alice, 'GET', `/vms?status=${status}&q=states`)).json().total).toBe(1);
    }
    for (const status of ['hibernated', 'qmp:paused', 'Running', 'guest-panicked', '']) {
      const res = await call(alice, 'PATCH', `/vms/${vm.id}`, { status });
      expect(res.statusCode, status).toBe(400);
      expect(JSON.stringify(res.json().errors)).toContain('/body/status');
    }
    const bad = await call(alice, 'POST', '/vms', { name: 'x', status: 'panicked' });
    expect(bad.statusCode).toBe(400);
    expect((await call(alice, 'GET', '/vms?status=panicked')).statusCode).toBe(400);
  });

  it('clears links when the linked node or account is deleted, keeping the VM', async () => {
    const node = (await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-del' })).json();
    const vm = (
      await call(alice, 'POST', '/vms', { node_id: node.id, vmid: 300, name: 'orphan' })
    ).json();
    expect((await call(alice, 'DELETE', `/proxmox-nodes/${node.id}`)).statusCode).toBe(204);
    const after = (await call(alice, 'GET', `/vms/${vm.id}`)).json();
    expect(after).toMatchObject({ node_id: null, owner_id: alice.id, name: 'orphan' });
  });
});
