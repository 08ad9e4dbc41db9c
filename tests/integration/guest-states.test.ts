import type { AddressInfo } from 'node:net';
import { type PveSim, startPveSim } from '@accountdb/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../apps/agent/src/agent.js';
import { createLogger } from '../../apps/agent/src/log.js';
import {
  bearer,
  createUser,
  setupAdmin,
  type TestUser,
} from '../../apps/api/test/helpers/factories.js';
import { createTestApp, type TestApp } from '../../apps/api/test/helpers/test-app.js';

/**
 * Every guest state from the simulator through the real agent to the API: the state is set
 * through pve-sim's control API (`PATCH /_sim/vms/{vmid}`), the agent syncs one cycle, and the
 * API lists the VM in that state, filters by it and counts it on the dashboard.
 *
 * What Proxmox reports, which the simulator follows (see packages/pve-sim/test/run-states.test.ts
 * for the sources): a QEMU guest's `status` is running|stopped, its QEMU RunState is
 * `qmpstatus`, and /cluster/resources — the one listing the agent reads — carries
 * `qmpstatus || status` (pvestatd). Hibernated is stopped with lock `suspended`. Containers
 * are running or stopped. The mapping onto AccountDB's states is docs/agent.md, "Guest states".
 */

interface Case {
  /** What the test is named for. */
  label: string;
  type: 'qemu' | 'lxc';
  /** The /_sim PATCH that puts the guest in the state. */
  sim: Record<string, unknown>;
  /** The AccountDB status it must arrive as. */
  status: string;
}

const CASES: Case[] = [
  { label: 'running', type: 'qemu', sim: { status: 'running' }, status: 'running' },
  { label: 'stopped', type: 'qemu', sim: { status: 'stopped' }, status: 'stopped' },
  { label: 'shutdown', type: 'qemu', sim: { qmpstatus: 'shutdown' }, status: 'stopped' },
  { label: 'paused', type: 'qemu', sim: { qmpstatus: 'paused' }, status: 'paused' },
  { label: 'save-vm', type: 'qemu', sim: { qmpstatus: 'save-vm' }, status: 'paused' },
  { label: 'restore-vm', type: 'qemu', sim: { qmpstatus: 'restore-vm' }, status: 'paused' },
  { label: 'debug', type: 'qemu', sim: { qmpstatus: 'debug' }, status: 'paused' },
  { label: 'colo', type: 'qemu', sim: { qmpstatus: 'colo' }, status: 'paused' },
  {
    label: 'suspended (ACPI S3)',
    type: 'qemu',
    sim: { qmpstatus: 'suspended' },
    status: 'suspended',
  },
  {
    label: 'hibernated (stopped, lock suspended)',
    type: 'qemu',
    sim: { status: 'stopped', lock: 'suspended' },
    status: 'suspended',
  },
  { label: 'io-error', type: 'qemu', sim: { qmpstatus: 'io-error' }, status: 'io-error' },
  { label: 'inmigrate', type: 'qemu', sim: { qmpstatus: 'inmigrate' }, status: 'migrating' },
  { label: 'postmigrate', type: 'qemu', sim: { qmpstatus: 'postmigrate' }, status: 'migrating' },
  {
    label: 'finish-migrate',
    type: 'qemu',
    sim: { qmpstatus: 'finish-migrate' },
    status: 'migrating',
  },
  { label: 'prelaunch', type: 'qemu', sim: { qmpstatus: 'prelaunch' }, status: 'prelaunch' },
  {
    label: 'internal-error',
    type: 'qemu',
    sim: { qmpstatus: 'internal-error' },
    status: 'internal-error',
  },
  {
    label: 'guest-panicked',
    type: 'qemu',
    sim: { qmpstatus: 'guest-panicked' },
    status: 'internal-error',
  },
  { label: 'watchdog', type: 'qemu', sim: { qmpstatus: 'watchdog' }, status: 'internal-error' },
  { label: 'container running', type: 'lxc', sim: { status: 'running' }, status: 'running' },
  { label: 'container stopped', type: 'lxc', sim: { status: 'stopped' }, status: 'stopped' },
];

let t: TestApp;
let sim: PveSim;
let alice: TestUser;
let bob: TestUser;
let agent: Agent;
const vmidOf = new Map<string, number>();

const api = (user: TestUser, url: string) =>
  t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(user.accessToken) });

async function simControl(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /_sim${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const admin = await setupAdmin(t.app);
  alice = await createUser(t.app, admin);
  bob = await createUser(t.app, admin);
  sim = await startPveSim({
    vms: 0,
    nodes: 1,
    seed: 14,
    authDelayMs: 0,
    nameDelayMs: 0,
    agentNotRunningMs: 5,
    agentTimeoutMs: 10,
  });
  // One guest per case, so that each keeps its state and the counts can be checked together.
  let vmid = 2000;
  for (const c of CASES) {
    await simControl('POST', '/vms', { vmid, type: c.type, name: `state-${vmid}` });
    vmidOf.set(c.label, vmid++);
  }
  const apiUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const node = (
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/proxmox-nodes',
      headers: bearer(alice.accessToken),
      payload: { name: 'pve1' },
    })
  ).json();
  agent = new Agent({
    settings: {
      accountdbUrl: apiUrl,
      nodeKey: node.api_key,
      accountdbCa: undefined,
      pveUrl: sim.url,
      pveTokenId: sim.tokenId,
      pveTokenSecret: sim.tokenSecret,
      pveTls: { mode: 'plain' },
      pveNode: 'pve1',
      syncIntervalS: 60,
      healthPort: undefined,
      healthHost: '127.0.0.1',
      logLevel: 'silent',
      stateFile: undefined,
    },
    log: createLogger('silent'),
    tuning: { configRefreshMs: 86_400_000, addressTimeoutMs: 2_000 },
    backoff: { baseMs: 10, capMs: 50 },
  });
  // A first cycle with every guest plainly running, so that each case is a change of state.
  expect((await agent.cycle()).kind).toBe('synced');
  for (const c of CASES) {
    await simControl('PATCH', `/vms/${vmidOf.get(c.label)}`, c.sim);
  }
  expect((await agent.cycle()).kind).toBe('synced');
}, 120_000);

afterAll(async () => {
  await agent?.close();
  await sim?.stop();
  await t?.close();
});

async function vmByVmid(vmid: number) {
  const res = await api(alice, `/vms?vmid=${vmid}`);
  expect(res.statusCode).toBe(200);
  const items = res.json().items as Array<{ id: string; vmid: number; status: string }>;
  return items.find((v) => v.vmid === vmid);
}

describe('every guest state, pve-sim → agent → API', () => {
  it.each(CASES)('$label arrives as $status, filtered and in its history', async (c) => {
    const vmid = vmidOf.get(c.label) as number;
    const vm = await vmByVmid(vmid);
    expect(vm?.status).toBe(c.status);
    const filtered = await api(alice, `/vms?status=${c.status}`);
    expect(filtered.statusCode).toBe(200);
    const rows = filtered.json().items as Array<{ vmid: number; status: string }>;
    expect(rows.some((r) => r.vmid === vmid)).toBe(true);
    expect(rows.every((r) => r.status === c.status)).toBe(true);
    const events = (await api(alice, `/vms/${vm?.id}/events`)).json().items;
    if (c.status !== 'running') {
      expect(events[0]).toMatchObject({ from_status: 'running', to_status: c.status });
    }
    // Another user sees neither the VM nor its state.
    expect((await api(bob, `/vms/${vm?.id}`)).statusCode).toBe(404);
    expect((await api(bob, `/vms?status=${c.status}`)).json().total).toBe(0);
  });

  it("counts every state on the dashboard, and only the user's own", async () => {
    const expected: Record<string, number> = {
      running: 0,
      stopped: 0,
      paused: 0,
      suspended: 0,
      'io-error': 0,
      migrating: 0,
      prelaunch: 0,
      'internal-error': 0,
      unknown: 0,
    };
    for (const c of CASES) expected[c.status] = (expected[c.status] ?? 0) + 1;
    const dash = (await api(alice, '/dashboard')).json();
    expect(dash.vms.by_status).toEqual(expected);
    const other = (await api(bob, '/dashboard')).json();
    expect(Object.values(other.vms.by_status).every((n) => n === 0)).toBe(true);
  });

  it('refuses a status filter that is not a state, naming the field', async () => {
    const res = await api(alice, '/vms?status=qmp-paused');
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('status');
  });
});
