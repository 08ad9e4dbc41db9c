import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, data, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;

beforeAll(async () => {
  sim = await startSim({ vms: 90 });
});
afterAll(() => sim?.stop());

const onNode = (resources: Json[], node: string) => resources.filter((r) => r.node === node);

describe('offline node', () => {
  it('goes stale, then unknown; its API calls answer 595; it comes back', async () => {
    const before: Json[] = await data(sim, '/cluster/resources?type=vm');
    const victims = onNode(before, 'pve3');
    expect(victims.length).toBeGreaterThan(5);
    const running = victims.find((r) => r.status === 'running');

    const res = await control(sim, 'POST', '/nodes/pve3', { online: false, unknown_after_ms: 400 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ node: 'pve3', online: false, unknown_after_ms: 400 });

    // Stale: still listed with the last statistics, frozen.
    const stale: Json[] = await data(sim, '/cluster/resources?type=vm');
    expect(stale).toHaveLength(before.length);
    const staleRunning = stale.find((r) => r.vmid === running.vmid);
    expect(staleRunning).toMatchObject({ status: 'running', name: running.name });
    // A status change while offline is not seen (statistics are not refreshed).
    sim.state.patchGuest(running.vmid, { status: 'stopped' });
    const stillStale: Json[] = await data(sim, '/cluster/resources?type=vm');
    expect(stillStale.find((r) => r.vmid === running.vmid)).toEqual(staleRunning);

    // The node itself: offline, no stats; cluster status online 0, still quorate (2 of 3).
    const nodes: Json[] = await data(sim, '/nodes');
    const pve3 = nodes.find((n) => n.node === 'pve3');
    expect(pve3.status).toBe('offline');
    expect(pve3.cpu).toBeUndefined();
    expect(pve3.ssl_fingerprint).toBeTruthy();
    const status: Json[] = await data(sim, '/cluster/status');
    expect(status.find((e) => e.name === 'pve3').online).toBe(0);
    expect(status[0].quorate).toBe(1);

    // Calls proxied to the node fail with 595.
    const proxied = await api(sim, `/nodes/pve3/qemu/${running.vmid}/config`);
    expect(proxied.status).toBe(595);
    expect((await api(sim, '/nodes/pve3/qemu')).status).toBe(595);
    expect((await api(sim, '/nodes/pve3/status')).status).toBe(595);

    // Unknown after the expiry: {id, vmid, node, type, status: "unknown"} only.
    await delay(450);
    const unknown: Json[] = await data(sim, '/cluster/resources?type=vm');
    for (const entry of onNode(unknown, 'pve3')) {
      expect(Object.keys(entry).sort()).toEqual(['id', 'node', 'status', 'type', 'vmid']);
      expect(entry.status).toBe('unknown');
    }
    expect(onNode(unknown, 'pve1').every((r) => r.status !== 'unknown')).toBe(true);

    // Back online: live again.
    await control(sim, 'POST', '/nodes/pve3', { online: true });
    const live: Json[] = await data(sim, '/cluster/resources?type=vm');
    expect(live.find((r) => r.vmid === running.vmid)).toMatchObject({
      status: 'stopped',
      name: running.name,
    });
    expect((await api(sim, '/nodes/pve3/qemu')).status).toBe(200);
  });

  it('stays live for stale_after_ms, then freezes', async () => {
    const vm = (await data(sim, '/cluster/resources?type=vm')).find(
      (r: Json) => r.node === 'pve2' && r.status === 'running' && !r.lock && r.template === 0,
    );
    sim.state.setNodeOnline('pve2', false, { staleAfterMs: 150, unknownAfterMs: 60_000 });
    sim.state.patchGuest(vm.vmid, { status: 'stopped' });
    const early: Json[] = await data(sim, '/cluster/resources?type=vm');
    expect(early.find((r) => r.vmid === vm.vmid).status).toBe('stopped');
    await delay(200);
    sim.state.patchGuest(vm.vmid, { status: 'running' });
    const frozen: Json[] = await data(sim, '/cluster/resources?type=vm');
    expect(frozen.find((r) => r.vmid === vm.vmid).status).toBe('stopped');
    sim.state.setNodeOnline('pve2', true);
  });

  it('loses quorum with 2 of 3 nodes offline', async () => {
    sim.state.setNodeOnline('pve2', false);
    sim.state.setNodeOnline('pve3', false);
    const status: Json[] = await data(sim, '/cluster/status');
    expect(status[0].quorate).toBe(0);
    sim.state.setNodeOnline('pve2', true);
    sim.state.setNodeOnline('pve3', true);
  });

  it('refuses to take the node serving the API offline, and unknown nodes', async () => {
    expect((await control(sim, 'POST', '/nodes/pve1', { online: false })).status).toBe(409);
    expect((await control(sim, 'POST', '/nodes/pve9', { online: false })).status).toBe(404);
    expect((await control(sim, 'POST', '/nodes/pve2', {})).status).toBe(400);
  });

  it('can start with a node offline', async () => {
    const other = await startSim({ vms: 30, offlineNodes: ['pve2'], unknownAfterMs: 0 });
    try {
      const resources: Json[] = await data(other, '/cluster/resources?type=vm');
      expect(onNode(resources, 'pve2').every((r) => r.status === 'unknown')).toBe(true);
      const nodes = (await control(other, 'GET', '/nodes')).body;
      expect(nodes.find((n: Json) => n.node === 'pve2')).toMatchObject({ online: false });
    } finally {
      await other.stop();
    }
  });
});
