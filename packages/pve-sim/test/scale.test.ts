import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 20_000, nodes: 5, seed: 3 });
});
afterAll(() => sim?.stop());

describe('20,000 guests', () => {
  it('answers /cluster/resources?type=vm with every guest', async () => {
    const res = await api(sim, '/cluster/resources?type=vm');
    expect(res.status).toBe(200);
    const entries: Json[] = res.body.data;
    expect(entries).toHaveLength(20_000);
    expect(new Set(entries.map((e) => e.vmid)).size).toBe(20_000);
    expect(new Set(entries.map((e) => e.node))).toEqual(
      new Set(['pve1', 'pve2', 'pve3', 'pve4', 'pve5']),
    );
  });

  it('answers per-guest calls and control changes', async () => {
    const vm = sim.state.guest(15_000) ?? [...sim.state.guests()][15_000];
    if (!vm) throw new Error('no guest');
    const config = await api(sim, `/nodes/${vm.node}/${vm.type}/${vm.vmid}/config`);
    expect(config.status).toBe(200);
    const patched = await control(sim, 'PATCH', `/vms/${vm.vmid}`, { name: 'renamed' });
    expect(patched.body.digest).not.toBe(config.body.data.digest);
    const list = await api(sim, `/nodes/${vm.node}/${vm.type}`);
    const sameType = [...sim.state.guestsOn(vm.node)].filter((g) => g.type === vm.type);
    expect(list.body.data.length).toBe(sameType.length);
    expect(list.body.data.length).toBeGreaterThan(500);
  });
});
