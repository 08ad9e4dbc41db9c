import { networkInterfaces } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../src/http/request-utils.js';
import { type PveSim, startPveSim } from '../src/index.js';
import { api, control, data, FAST, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 40 });
});
afterAll(() => sim?.stop());

const resource = async (vmid: number) =>
  (await data(sim, '/cluster/resources?type=vm')).find((r: Json) => r.vmid === vmid);

describe('/_sim/vms', () => {
  it('lists guests and shows one with its raw config', async () => {
    const list = await control(sim, 'GET', '/vms');
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(40);
    expect(list.body[0]).toMatchObject({
      vmid: expect.any(Number),
      type: expect.stringMatching(/^(qemu|lxc)$/),
      node: expect.stringMatching(/^pve\d$/),
      status: expect.any(String),
      digest: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const one = await control(sim, 'GET', `/vms/${list.body[0].vmid}`);
    expect(one.body.config).toEqual(expect.any(Object));
    expect((await control(sim, 'GET', '/vms/99999')).status).toBe(404);
  });

  it('creates a guest (next free VMID, qemu, running, node pve1) that the API then lists', async () => {
    const created = await control(sim, 'POST', '/vms', { name: 'new-vm', tags: ['farm', 'new'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'qemu',
      node: 'pve1',
      name: 'new-vm',
      status: 'running',
      tags: 'farm;new',
      guest_agent: 'ok',
      agent_enabled: true,
    });
    const vmid = created.body.vmid;
    expect(await resource(vmid)).toMatchObject({
      name: 'new-vm',
      status: 'running',
      tags: 'farm;new',
    });
    const config = await data(sim, `/nodes/pve1/qemu/${vmid}/config`);
    expect(config.net0).toMatch(/^virtio=BC:24:11:/);
    const agent = await data(sim, `/nodes/pve1/qemu/${vmid}/agent/network-get-interfaces`);
    expect(agent.result.length).toBeGreaterThan(1);
  });

  it('creates containers and guests with options; new guests lack name for name_delay_ms', async () => {
    const ct = await control(sim, 'POST', '/vms', {
      vmid: 5000,
      type: 'lxc',
      node: 'pve2',
      name: 'ct-new',
      status: 'stopped',
      memory: 2048,
      name_delay_ms: 60_000,
    });
    expect(ct.status).toBe(201);
    const entry = await resource(5000);
    expect(entry).toMatchObject({
      type: 'lxc',
      node: 'pve2',
      status: 'stopped',
      maxmem: 2048 * 1024 ** 2,
    });
    expect(entry).not.toHaveProperty('name');
    expect((await data(sim, '/nodes/pve2/lxc/5000/config')).hostname).toBe('ct-new');
  });

  it('rejects duplicates, bad values and unknown fields', async () => {
    expect((await control(sim, 'POST', '/vms', { vmid: 5000 })).status).toBe(409);
    for (const body of [
      { vmid: 50 },
      { type: 'docker' },
      { node: 'pve9' },
      { status: 'sleeping' },
      { lock: 'forever' },
      { tags: ['bad tag'] },
      { memory: -1 },
      { config: { 'Bad Key': '1' } },
      { colour: 'red' },
    ]) {
      const res = await control(sim, 'POST', '/vms', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const res = await fetch(`${sim.url}/_sim/vms`, { method: 'POST', body: '{nope' });
    expect(res.status).toBe(400);
  });

  it('PATCH changes status, lock and template; a template cannot run', async () => {
    const { body: vm } = await control(sim, 'POST', '/vms', { name: 'patch-me' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'stopped', lock: 'backup' });
    expect(await resource(vm.vmid)).toMatchObject({ status: 'stopped', lock: 'backup', uptime: 0 });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { lock: null, status: 'running' });
    const running = await resource(vm.vmid);
    expect(running.lock).toBeUndefined();
    expect(running.status).toBe('running');
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { template: true });
    expect(await resource(vm.vmid)).toMatchObject({ template: 1, status: 'stopped' });
    expect((await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'running' })).status).toBe(
      400,
    );
    expect((await control(sim, 'PATCH', '/vms/99999', { status: 'running' })).status).toBe(404);
  });

  it('PATCH node migrates: the old node answers 500 "does not exist"', async () => {
    const { body: vm } = await control(sim, 'POST', '/vms', { name: 'mover', node: 'pve1' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { node: 'pve3' });
    expect((await resource(vm.vmid)).node).toBe('pve3');
    const old = await api(sim, `/nodes/pve1/qemu/${vm.vmid}/config`);
    expect(old.status).toBe(500);
    expect(old.body.message).toMatch(/does not exist/);
    expect((await api(sim, `/nodes/pve3/qemu/${vm.vmid}/config`)).status).toBe(200);
  });

  it('DELETE removes a guest', async () => {
    const { body: vm } = await control(sim, 'POST', '/vms', { name: 'doomed' });
    expect((await control(sim, 'DELETE', `/vms/${vm.vmid}`)).status).toBe(204);
    expect(await resource(vm.vmid)).toBeUndefined();
    expect((await api(sim, `/nodes/pve1/qemu/${vm.vmid}/config`)).status).toBe(500);
    expect((await control(sim, 'DELETE', `/vms/${vm.vmid}`)).status).toBe(404);
  });

  it('reuse recreates a VMID with a new smbios1 uuid, vmgenid and MACs', async () => {
    const { body: vm } = await control(sim, 'POST', '/vms', { name: 'reused' });
    const before = await data(sim, `/nodes/pve1/qemu/${vm.vmid}/config`);
    const reused = await control(sim, 'POST', `/vms/${vm.vmid}/reuse`, {});
    expect(reused.status).toBe(201);
    expect(reused.body).toMatchObject({ vmid: vm.vmid, name: 'reused', node: 'pve1' });
    expect(reused.body.smbios_uuid).not.toBe(vm.smbios_uuid);
    expect(reused.body.macs).not.toEqual(vm.macs);
    const after = await data(sim, `/nodes/pve1/qemu/${vm.vmid}/config`);
    expect(after.vmgenid).not.toBe(before.vmgenid);
    expect(after.digest).not.toBe(before.digest);
  });

  it('the same operations work through state without HTTP', async () => {
    const guest = sim.state.addGuest({ vmid: 7000, name: 'direct', status: 'stopped' });
    expect(guest.status).toBe('stopped');
    expect((await resource(7000)).name).toBe('direct');
    sim.state.patchGuest(7000, { status: 'running' });
    expect((await resource(7000)).status).toBe('running');
    expect(sim.state.removeGuest(7000)).toBe(true);
    expect(await resource(7000)).toBeUndefined();
  });
});

describe('/_sim drift, timing, info', () => {
  it('a drift step flips the status of a fraction of guests', async () => {
    const before = new Map(
      (await control(sim, 'GET', '/vms')).body.map((v: Json) => [v.vmid, v.status]),
    );
    const step = await control(sim, 'POST', '/drift/step', { fraction: 0.2 });
    expect(step.body.changed.length).toBeGreaterThan(0);
    const after: Json[] = (await control(sim, 'GET', '/vms')).body;
    for (const vmid of step.body.changed) {
      const vm = after.find((v) => v.vmid === vmid);
      expect(vm.status).not.toBe(before.get(vmid));
      expect(vm.template).toBe(false);
      expect(vm.lock).toBeNull();
    }
  });

  it('drift runs periodically until stopped', async () => {
    const snapshot = async () =>
      JSON.stringify((await control(sim, 'GET', '/vms')).body.map((v: Json) => v.status));
    const before = await snapshot();
    const started = await control(sim, 'POST', '/drift', { every_ms: 50, fraction: 0.1 });
    expect(started.body).toEqual({ every_ms: 50, fraction: 0.1 });
    await delay(180);
    await control(sim, 'POST', '/drift', { every_ms: 0 });
    expect(await snapshot()).not.toBe(before);
    expect((await control(sim, 'GET', '/drift')).body.every_ms).toBe(0);
    expect((await control(sim, 'POST', '/drift', { every_ms: 10 })).status).toBe(400);
  });

  it('timing can be changed at run time', async () => {
    const res = await control(sim, 'POST', '/timing', { auth_delay_ms: 0, unknown_after_ms: 1000 });
    expect(res.body).toMatchObject({ auth_delay_ms: 0, unknown_after_ms: 1000 });
    const unauth = await api(sim, '/version', { authorization: null });
    expect(unauth.status).toBe(401);
    expect((await control(sim, 'POST', '/timing', { auth_delay_ms: -5 })).status).toBe(400);
  });

  it('GET /_sim describes the simulation; /_sim/tls is 404 without TLS; unknown paths 404/405', async () => {
    expect((await control(sim, 'GET', '')).body).toMatchObject({
      pve_version: '8.4.1',
      nodes: ['pve1', 'pve2', 'pve3'],
      tls: false,
    });
    expect((await control(sim, 'GET', '/tls')).status).toBe(404);
    expect((await control(sim, 'GET', '/nothing')).status).toBe(404);
    expect((await control(sim, 'PUT', '/stats')).status).toBe(405);
  });
});

describe('/_sim is loopback only', () => {
  it('recognises loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:192.168.1.1', 'fe80::1', undefined])
      expect(isLoopback(a)).toBe(false);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it.skipIf(!external)('answers 403 to a client on another address', async () => {
    const open = await startPveSim({ ...FAST, vms: 5, host: '0.0.0.0' });
    try {
      const remote = await fetch(`http://${external}:${open.port}/_sim/stats`);
      expect(remote.status).toBe(403);
      const local = await fetch(`http://127.0.0.1:${open.port}/_sim/stats`);
      expect(local.status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
