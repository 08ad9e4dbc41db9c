import type { AddressInfo } from 'node:net';
import { type PveSim, startPveSim } from '@accountdb/pve-sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
 * "Sync now" and live updates end to end (issue 14, part 4): the real agent runs its loop
 * against pve-sim with a 60 s interval; the owner's "Sync now" makes it sync within seconds,
 * and the change reaches the owner's open event stream. On PostgreSQL when TEST_DATABASE_URL
 * is set, else on the embedded database.
 */

let t: TestApp;
let sim: PveSim;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let agent: Agent;
let node: { id: string; api_key: string };
const stop = new AbortController();
let running: Promise<void>;
let base: string;

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

const api = (user: TestUser, method: string, url: string) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: bearer(user.accessToken),
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  admin = await setupAdmin(t.app);
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
  await simControl('POST', '/vms', { vmid: 3000, type: 'qemu', name: 'live-3000' });
  node = (
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/proxmox-nodes',
      headers: bearer(alice.accessToken),
      payload: { name: 'pve1' },
    })
  ).json();
  agent = new Agent({
    settings: {
      accountdbUrl: base,
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
    configPollMs: 200,
  });
  running = agent.run(stop.signal);
  // The first cycle runs at once; the next one would be a minute later.
  await until(
    'first sync',
    async () => (agent.state.last_outcome === 'synced' ? true : undefined),
    30_000,
  );
}, 120_000);

afterAll(async () => {
  stop.abort();
  await running;
  await agent?.close();
  await sim?.stop();
  await t?.close();
});

it('a Sync now makes the agent sync on its next config poll, and the change streams live to the owner only', async () => {
  const vm = (await api(alice, 'GET', `/vms?node_id=${node.id}`)).json().items[0];
  expect(vm).toMatchObject({ vmid: 3000, status: 'running' });
  const stats = (await api(alice, 'GET', `/proxmox-nodes/${node.id}`)).json().last_sync_stats;
  expect(stats.duration_ms).toEqual(expect.any(Number));

  const streams = await Promise.all(
    [alice, bob].map(async (user) => {
      const aborted = new AbortController();
      const res = await fetch(`${base}/api/v1/events`, {
        headers: bearer(user.accessToken),
        signal: aborted.signal,
      });
      expect(res.status).toBe(200);
      const s = { text: '', close: () => aborted.abort() };
      (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as ReadableStream<Uint8Array>)
            s.text += decoder.decode(chunk, { stream: true });
        } catch {
          // closed by the test
        }
      })();
      return s;
    }),
  );
  const [mine, bobs] = streams as [
    { text: string; close: () => void },
    { text: string; close: () => void },
  ];
  try {
    await simControl('PATCH', '/vms/3000', { status: 'stopped' });
    // Only the owner may ask; Bob does not even see the node.
    expect((await api(admin, 'POST', `/proxmox-nodes/${node.id}/sync-now`)).json().code).toBe(
      'owner_only',
    );
    expect((await api(bob, 'POST', `/proxmox-nodes/${node.id}/sync-now`)).statusCode).toBe(404);
    const asked = await api(alice, 'POST', `/proxmox-nodes/${node.id}/sync-now`);
    expect(asked.statusCode, asked.body).toBe(202);
    const requested = asked.json().sync_requested_at;
    expect((await api(alice, 'GET', `/proxmox-nodes/${node.id}`)).json().sync_requested_at).toBe(
      requested,
    );

    // Well inside the agent's 60 s interval: its config poll (every 200 ms here) sees the request.
    const started = Date.now();
    await until(
      'the stopped VM on the stream',
      async () => (mine.text.includes(`"id":"${vm.id}","status":"stopped"`) ? true : undefined),
      15_000,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await api(alice, 'GET', `/vms/${vm.id}`)).json().status).toBe('stopped');
    // The sync that served the request cleared it.
    const after = (await api(alice, 'GET', `/proxmox-nodes/${node.id}`)).json();
    expect(after.sync_requested_at).toBeNull();
    expect(after.last_sync_stats.duration_ms).toEqual(expect.any(Number));
    const audit = (await api(alice, 'GET', '/audit?action=proxmox_node.sync_now')).json().items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ entity_id: node.id, actor_name: alice.username });
    // One request, one extra cycle: the agent does not sync again for the same request.
    const syncs = () =>
      /accountdb_requests_total\{endpoint="sync",result="200"\} (\d+)/.exec(
        agent.metrics.render(),
      )?.[1];
    expect(syncs()).toBe('2');
    await new Promise((r) => setTimeout(r, 1000));
    expect(syncs()).toBe('2');

    // The dashboard's node health: the last cycle's outcome and duration.
    const health = (await api(alice, 'GET', '/dashboard')).json().nodes.items;
    expect(health).toEqual([
      expect.objectContaining({
        id: node.id,
        last_cycle: { outcome: 'ok', error: null, duration_ms: expect.any(Number) },
      }),
    ]);

    expect(bobs.text).not.toContain(vm.id);
    expect(bobs.text).not.toContain(node.id);
  } finally {
    mine.close();
    bobs.close();
  }
});

it("shows a failed cycle's error on the dashboard", async () => {
  const hb = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/heartbeat',
    headers: bearer(node.api_key),
    payload: { status: 'error', error: 'Proxmox API: 401 no such token', agent_version: '0.1.0' },
  });
  expect(hb.statusCode).toBe(204);
  const [item] = (await api(alice, 'GET', '/dashboard')).json().nodes.items;
  expect(item.last_cycle).toEqual({
    outcome: 'error',
    error: 'Proxmox API: 401 no such token',
    duration_ms: expect.any(Number),
  });
});
