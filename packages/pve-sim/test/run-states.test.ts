import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, data, type Json, startSim } from './helpers/sim.js';

// Where a guest's state shows, as Proxmox answers (sources read for these facts):
// - qemu-server src/PVE/QemuServer.pm, `vmstatus` and `$vmstatus_return_properties`:
//   `status` is "QEMU process status", enum stopped|running (running when the QEMU process has
//   a pid); `qmpstatus` is the `status` of QMP `query-status` for a running guest and falls
//   back to `status` otherwise. `GET /nodes/{node}/qemu` calls vmstatus(undef, full), so
//   `qmpstatus` appears with `full=1` only; `…/status/current` always asks with full.
// - pve-manager PVE/Service/pvestatd.pm, update_qemu_status: the state it publishes for
//   /cluster/resources is `qmpstatus || status || 'stopped'`.
// - QEMU qapi/run-state.json, RunState: debug, inmigrate, internal-error, io-error, paused,
//   postmigrate, prelaunch, finish-migrate, restore-vm, running, save-vm, shutdown,
//   suspended, watchdog, guest-panicked, colo.
// - Hibernation (`qm suspend --todisk`) stops QEMU and leaves `lock: suspended`: status and
//   qmpstatus both say stopped.

const RUN_STATES = [
  'running',
  'paused',
  'suspended',
  'prelaunch',
  'inmigrate',
  'postmigrate',
  'finish-migrate',
  'io-error',
  'internal-error',
  'guest-panicked',
  'watchdog',
  'shutdown',
  'save-vm',
  'restore-vm',
  'debug',
  'colo',
];

describe('guest run states: status, qmpstatus and /cluster/resources as Proxmox answers them', () => {
  let sim: PveSim;
  let vm: Json;
  let ct: Json;

  const resource = async (vmid: number) =>
    ((await data(sim, '/cluster/resources?type=vm')) as Json[]).find((r) => r.vmid === vmid);
  const listed = async (g: Json, full: boolean) =>
    ((await data(sim, `/nodes/${g.node}/${g.type}${full ? '?full=1' : ''}`)) as Json[]).find(
      (e) => Number(e.vmid) === g.vmid,
    );
  const current = (g: Json) => data(sim, `/nodes/${g.node}/${g.type}/${g.vmid}/status/current`);

  beforeAll(async () => {
    sim = await startSim({ vms: 5, nodes: 1 });
    vm = (await control(sim, 'POST', '/vms', { vmid: 7001, name: 'states', agent: '1' })).body;
    ct = (await control(sim, 'POST', '/vms', { vmid: 7002, type: 'lxc', name: 'ct' })).body;
  });
  afterAll(() => sim?.stop());

  it.each(RUN_STATES)(
    'qmpstatus %s: status running, the state in qmpstatus and resources',
    async (state) => {
      const res = await control(sim, 'PATCH', `/vms/${vm.vmid}`, { qmpstatus: state });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ status: 'running', qmpstatus: state });
      expect(await listed(vm, false)).toMatchObject({ status: 'running' });
      expect(await listed(vm, false)).not.toHaveProperty('qmpstatus');
      expect(await listed(vm, true)).toMatchObject({ status: 'running', qmpstatus: state });
      expect(await current(vm)).toMatchObject({ status: 'running', qmpstatus: state });
      expect(await resource(vm.vmid)).toMatchObject({ status: state });
    },
  );

  it('a guest that does not execute uses no CPU and its guest agent does not answer', async () => {
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { qmpstatus: 'guest-panicked' });
    expect((await current(vm)).cpu).toBe(0);
    const res = await api(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/agent/network-get-interfaces`);
    expect(res.status).toBe(500);
    expect(res.body.message).toBe('QEMU guest agent is not running\n');
  });

  it('status running resumes; status stopped clears the run state everywhere', async () => {
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { qmpstatus: 'paused' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'running' });
    expect(await current(vm)).toMatchObject({ status: 'running', qmpstatus: 'running' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { qmpstatus: 'io-error' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'stopped' });
    expect(await current(vm)).toMatchObject({ status: 'stopped', qmpstatus: 'stopped' });
    expect(await listed(vm, true)).toMatchObject({ status: 'stopped', qmpstatus: 'stopped' });
    expect(await resource(vm.vmid)).toMatchObject({ status: 'stopped' });
  });

  it('a run state starts a stopped guest (only a QEMU process has one)', async () => {
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'stopped' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { qmpstatus: 'prelaunch' });
    expect(await current(vm)).toMatchObject({ status: 'running', qmpstatus: 'prelaunch' });
    expect((await current(vm)).pid).toEqual(expect.any(Number));
  });

  it('hibernated: stopped with lock suspended, stopped in qmpstatus and resources', async () => {
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { status: 'stopped', lock: 'suspended' });
    expect(await current(vm)).toMatchObject({
      status: 'stopped',
      qmpstatus: 'stopped',
      lock: 'suspended',
    });
    expect(await resource(vm.vmid)).toMatchObject({ status: 'stopped', lock: 'suspended' });
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { lock: null });
  });

  it('containers are running or stopped and have no qmpstatus', async () => {
    expect(await resource(ct.vmid)).toMatchObject({ status: 'running' });
    expect(await current(ct)).not.toHaveProperty('qmpstatus');
    await control(sim, 'PATCH', `/vms/${ct.vmid}`, { status: 'stopped' });
    expect(await resource(ct.vmid)).toMatchObject({ status: 'stopped' });
    expect(await current(ct)).toMatchObject({ status: 'stopped' });
  });

  it('refuses states Proxmox never reports, run states of containers and stopped run states', async () => {
    for (const [target, body] of [
      [vm, { status: 'paused' }],
      [vm, { status: 'io-error' }],
      [vm, { qmpstatus: 'stopped' }],
      [vm, { qmpstatus: 'sleeping' }],
      [vm, { qmpstatus: 7 }],
      [vm, { status: 'stopped', qmpstatus: 'paused' }],
      [ct, { qmpstatus: 'paused' }],
    ] as const) {
      const res = await control(sim, 'PATCH', `/vms/${target.vmid}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const tpl = await control(sim, 'POST', '/vms', { template: true });
    const res = await control(sim, 'PATCH', `/vms/${tpl.body.vmid}`, { qmpstatus: 'paused' });
    expect(res.status).toBe(400);
    expect(res.body.message ?? res.text).toMatch(/template/);
  });
});
