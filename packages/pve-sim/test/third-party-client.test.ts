/**
 * A Proxmox client we did not write drives the simulator: `proxmox-api` from the npm registry
 * (https://github.com/UrielCh/proxmox-api, a dev dependency without install scripts), with an
 * API token and with a user/password ticket login, listing guests and reading a config.
 */
import proxmoxApi from 'proxmox-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { control, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 30, seed: 5 });
});
afterAll(() => sim?.stop());

const common = () => ({ host: '127.0.0.1', port: sim.port, schema: 'http' as const });

async function exercise(px: ReturnType<typeof proxmoxApi>) {
  const version = await px.version.$get();
  expect(version.release).toBe('8.4');
  const resources = await px.cluster.resources.$get({ type: 'vm' });
  expect(resources).toHaveLength(30);
  const nodes = await px.nodes.$get();
  expect(nodes.map((n) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
  const vm = (await control(sim, 'GET', '/vms')).body.find(
    (v: Json) => v.edge_case === 'agent-rich',
  );
  const listed = await px.nodes.$(vm.node).qemu.$get();
  expect(listed.some((g) => g.vmid === vm.vmid)).toBe(true);
  const config = await px.nodes.$(vm.node).qemu.$(vm.vmid).config.$get();
  expect(config.digest).toBe(vm.digest);
  expect(config.name).toBe(vm.name);
  const ct = (await control(sim, 'GET', '/vms')).body.find((v: Json) => v.edge_case === 'lxc-ipv6');
  const ctConfig = await px.nodes.$(ct.node).lxc.$(ct.vmid).config.$get();
  expect(ctConfig.hostname).toBe(ct.name);
}

describe('proxmox-api (npm) against pve-sim', () => {
  it('works with an API token', async () => {
    await exercise(proxmoxApi({ ...common(), tokenID: sim.tokenId, tokenSecret: sim.tokenSecret }));
  });

  it('works with a user/password ticket login', async () => {
    sim.resetStats();
    await exercise(proxmoxApi({ ...common(), username: sim.username, password: sim.password }));
    const stats = sim.stats();
    expect(stats.requests_by_kind['access-ticket']).toBe(1);
    expect(stats.responses_by_status['401']).toBeUndefined();
  });

  it('fails cleanly with a wrong password', async () => {
    sim.state.setTiming({ authDelayMs: 0 });
    sim.resetStats();
    const px = proxmoxApi({ ...common(), username: sim.username, password: 'wrong' });
    await expect(px.version.$get()).rejects.toThrow('/api2/json/access/ticket Failed!');
    expect(sim.stats().responses_by_status['401']).toBe(1);
    expect(sim.stats().requests_by_kind.version).toBeUndefined();
  });
});
