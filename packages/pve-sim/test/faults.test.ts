import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, control, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;
let vms: Json[];

beforeAll(async () => {
  sim = await startSim({ vms: 60, agentTimeoutMs: 80 });
  vms = (await control(sim, 'GET', '/vms')).body;
});
afterAll(() => sim?.stop());
afterEach(async () => {
  await control(sim, 'DELETE', '/faults');
});

const agentRich = () => vms.find((v) => v.edge_case === 'agent-rich');

describe('faults', () => {
  it('down: API connections close without an answer; /_sim keeps working', async () => {
    await control(sim, 'POST', '/faults', { down: true });
    await expect(api(sim, '/version')).rejects.toThrow();
    expect((await control(sim, 'GET', '/stats')).status).toBe(200);
    await control(sim, 'POST', '/faults', { down: false });
    expect((await api(sim, '/version')).status).toBe(200);
  });

  it('latency_ms delays every answer', async () => {
    await control(sim, 'POST', '/faults', { latency_ms: 120 });
    const res = await api(sim, '/version');
    expect(res.status).toBe(200);
    expect(res.ms).toBeGreaterThanOrEqual(110);
  });

  it('error_rate 1 fails every request; 0.5 about half (seeded)', async () => {
    await control(sim, 'POST', '/faults', { error_rate: 1 });
    const failed = await api(sim, '/cluster/resources?type=vm');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ data: null, message: 'pve-sim: injected failure\n' });
    await control(sim, 'POST', '/faults', { error_rate: 0.5, error_status: 503 });
    const statuses = await Promise.all(Array.from({ length: 60 }, () => api(sim, '/version')));
    const errors = statuses.filter((r) => r.status === 503).length;
    expect(errors).toBeGreaterThan(10);
    expect(errors).toBeLessThan(50);
  });

  it.each([
    [500, 'pve-sim: injected failure'],
    [595, 'Errors during connection establishment, proxy handshake: No route to host'],
    [596, 'Connection timed out'],
  ])('status %i answers with that code and message', async (status, message) => {
    await control(sim, 'POST', '/faults', { status });
    const res = await api(sim, '/nodes/pve1/qemu');
    expect(res.status).toBe(status);
    expect(res.reason).toBe(message);
    expect(res.body).toEqual({ data: null, message: `${message}\n` });
  });

  it('only limits a fault to endpoint kinds or path prefixes', async () => {
    await control(sim, 'POST', '/faults', { status: 595, only: ['/nodes/pve2/'] });
    expect((await api(sim, '/nodes/pve2/qemu')).status).toBe(595);
    expect((await api(sim, '/nodes/pve1/qemu')).status).toBe(200);
    expect((await api(sim, '/cluster/resources')).status).toBe(200);
    await control(sim, 'POST', '/faults', { status: 403, only: ['qemu-agent-interfaces'] });
    const vm = agentRich();
    const agent = await api(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/agent/network-get-interfaces`);
    expect(agent.status).toBe(403);
    expect((await api(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/config`)).status).toBe(200);
  });

  it('empty: /cluster/resources and the guest lists answer [] with 200 (mis-scoped token)', async () => {
    await control(sim, 'POST', '/faults', { empty: true });
    const res = await api(sim, '/cluster/resources?type=vm');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [] });
    expect((await api(sim, '/nodes/pve1/qemu')).body).toEqual({ data: [] });
    expect((await api(sim, '/nodes/pve1/lxc')).body).toEqual({ data: [] });
  });

  it('html: a reverse proxy answers text/html', async () => {
    await control(sim, 'POST', '/faults', { html: true });
    const res = await api(sim, '/cluster/resources?type=vm');
    expect(res.status).toBe(502);
    expect(res.contentType).toBe('text/html');
    expect(res.text).toContain('<title>502 Bad Gateway</title>');
    expect(res.body).toBeUndefined();
    await control(sim, 'POST', '/faults', { html_status: 200 });
    const ok = await api(sim, '/version');
    expect(ok.status).toBe(200);
    expect(ok.contentType).toBe('text/html');
  });

  it('guest_agent_timeout: agent calls time out after agentTimeoutMs', async () => {
    await control(sim, 'POST', '/faults', { guest_agent_timeout: true });
    const vm = agentRich();
    const res = await api(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/agent/network-get-interfaces`);
    expect(res.status).toBe(500);
    expect(res.body.message).toBe(
      `VM ${vm.vmid} qmp command 'guest-network-get-interfaces' failed - got timeout\n`,
    );
    expect(res.ms).toBeGreaterThanOrEqual(75);
  });

  it('POST merges fields, GET shows them, DELETE clears all; bad values are 400', async () => {
    await control(sim, 'POST', '/faults', { latency_ms: 5 });
    await control(sim, 'POST', '/faults', { empty: true });
    const faults = (await control(sim, 'GET', '/faults')).body;
    expect(faults).toMatchObject({
      latency_ms: 5,
      empty: true,
      down: false,
      status: null,
      only: [],
    });
    for (const body of [
      { error_rate: 2 },
      { status: 200 },
      { down: 'yes' },
      { latency_ms: -1 },
      { only: 'qemu-config' },
      { nope: 1 },
    ]) {
      const res = await control(sim, 'POST', '/faults', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBeTruthy();
    }
    const cleared = (await control(sim, 'DELETE', '/faults')).body;
    expect(cleared).toMatchObject({ latency_ms: 0, empty: false });
  });

  it('faults can be set without HTTP through state', async () => {
    sim.state.setFaults({ status: 596 });
    expect((await api(sim, '/version')).status).toBe(596);
    sim.state.clearFaults();
    expect((await api(sim, '/version')).status).toBe(200);
  });
});
