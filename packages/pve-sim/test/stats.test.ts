import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, data, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 50 });
});
afterAll(() => sim?.stop());
beforeEach(() => sim.resetStats());

describe('request counting', () => {
  it('counts API requests by normalised path and by endpoint kind; /_sim is not counted', async () => {
    const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
    const qemu = vms.filter((v) => v.type === 'qemu').slice(0, 3);
    await api(sim, '/cluster/resources?type=vm');
    for (const vm of qemu) await api(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/config`);
    await api(sim, '/nodes/pve1/qemu/100000/config');
    await api(sim, '/no/such/thing');
    const stats = (await control(sim, 'GET', '/stats')).body;
    expect(stats.requests_total).toBe(6);
    expect(stats.requests_by_path).toEqual({
      '/cluster/resources': 1,
      '/nodes/{node}/qemu/{vmid}/config': 4,
      '/no/such/thing': 1,
    });
    expect(stats.requests_by_kind).toEqual({
      'cluster-resources': 1,
      'qemu-config': 4,
      unknown: 1,
    });
    expect(stats.responses_by_status).toEqual({ 200: 4, 500: 1, 501: 1 });
  });

  it('counts failed auth and dropped connections too', async () => {
    await api(sim, '/version', { authorization: null });
    sim.state.setFaults({ down: true });
    await expect(api(sim, '/version')).rejects.toThrow();
    sim.state.clearFaults();
    expect(sim.stats()).toMatchObject({
      requests_total: 2,
      requests_by_kind: { version: 2 },
      responses_by_status: { 401: 1, dropped: 1 },
    });
  });

  it('resets through /_sim/stats/reset and programmatically', async () => {
    await api(sim, '/version');
    expect(sim.stats().requests_total).toBe(1);
    const reset = await control(sim, 'POST', '/stats/reset');
    expect(reset.body).toEqual({
      requests_total: 0,
      requests_by_path: {},
      requests_by_kind: {},
      responses_by_status: {},
    });
    await api(sim, '/version');
    sim.resetStats();
    expect(sim.stats().requests_total).toBe(0);
  });

  it('lets a test assert O(changed) calls: one list, then configs only of changed guests', async () => {
    const resources: Json[] = await data(sim, '/cluster/resources?type=vm');
    const changed = resources.filter((r) => r.type === 'qemu').slice(0, 2);
    for (const r of changed) sim.state.patchGuest(r.vmid, { name: `changed-${r.vmid}` });
    // A client that diffs the list and fetches configs only for what changed:
    const after: Json[] = await data(sim, '/cluster/resources?type=vm');
    const differs = after.filter((r) => resources.find((b) => b.vmid === r.vmid)?.name !== r.name);
    for (const r of differs) await api(sim, `/nodes/${r.node}/${r.type}/${r.vmid}/config`);
    const stats = sim.stats();
    expect(stats.requests_by_kind['cluster-resources']).toBe(2);
    expect(stats.requests_by_kind['qemu-config']).toBe(changed.length);
  });
});
