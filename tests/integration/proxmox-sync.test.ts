import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PveSim, startPveSim } from '@accountdb/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../apps/agent/src/agent.js';
import type { AgentSettings } from '../../apps/agent/src/config.js';
import { createLogger } from '../../apps/agent/src/log.js';
import {
  bearer,
  createUser,
  setupAdmin,
  type TestUser,
} from '../../apps/api/test/helpers/factories.js';
import { ownerQuery } from '../../apps/api/test/helpers/support.js';
import { createTestApp, type TestApp } from '../../apps/api/test/helpers/test-app.js';

/**
 * The whole Proxmox path: the real agent reads the simulator and pushes to the real API over
 * HTTP, on PostgreSQL when TEST_DATABASE_URL is set (else the embedded database).
 */

/** An HTTP pass-through in front of the API that can play "AccountDB is down". */
class SwitchableProxy {
  down = false;
  url = '';
  private server: Server | undefined;
  constructor(private readonly target: URL) {}
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (this.down) {
        // What a reverse proxy answers while the API behind it is gone.
        req.resume();
        res
          .writeHead(503, { 'content-type': 'text/plain', connection: 'close' })
          .end('AccountDB is down');
        return;
      }
      const upstream = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
          agent: false,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 120_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

let t: TestApp;
let sim: PveSim;
let proxy: SwitchableProxy;
let alice: TestUser;
let node: { id: string; api_key: string };
const agents: Agent[] = [];

function makeAgent(): Agent {
  const settings: AgentSettings = {
    accountdbUrl: proxy.url,
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
  };
  // A round-robin config refresh of every guest once a day: within this test, config is read
  // only for new or changed guests.
  const agent = new Agent({
    settings,
    log: createLogger('silent'),
    tuning: { configRefreshMs: 86_400_000, addressTimeoutMs: 2_000 },
    backoff: { baseMs: 10, capMs: 50 },
  });
  agents.push(agent);
  return agent;
}

const api = (method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: bearer(alice.accessToken),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const pve1Guests = () => [...sim.state.guests()].filter((g) => g.node === 'pve1');

/** VMIDs of the node's guests in the simulator and of its present VMs in AccountDB. */
async function vmidSets(): Promise<{ sim: number[]; db: number[] }> {
  const rows = await vmRows();
  return {
    sim: pve1Guests()
      .map((g) => g.vmid)
      .sort((a, b) => a - b),
    db: rows.filter((r) => r.vmid !== null && !r.absent).map((r) => r.vmid),
  };
}

async function vmRows() {
  return ownerQuery<{ vmid: number; name: string | null; absent: boolean; status: string }>(
    t.database,
    `SELECT vmid, name, absent_since IS NOT NULL AS absent, status FROM vms WHERE node_id = '${node.id}' ORDER BY vmid`,
  );
}

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const admin = await setupAdmin(t.app);
  alice = await createUser(t.app, admin);
  sim = await startPveSim({
    vms: 6000,
    nodes: 2,
    seed: 7,
    authDelayMs: 0,
    nameDelayMs: 0,
    agentNotRunningMs: 5,
    agentTimeoutMs: 10,
  });
  proxy = new SwitchableProxy(
    new URL(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`),
  );
  await proxy.start();
  node = (await api('POST', '/proxmox-nodes', { name: 'pve1' })).json();
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await proxy?.stop();
  await sim?.stop();
  await t?.close();
});

describe('agent ↔ pve-sim ↔ API', () => {
  it('fills AccountDB on the first cycle with every guest of the node, then reads their details', async () => {
    const agent = makeAgent();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    // Over 500 guests never read: the first cycle syncs the listing alone; the next ones read
    // configs and addresses 500 guests at a time until none is left.
    if (outcome.kind !== 'synced') return;
    expect(outcome.stats.detailBacklog).toBeGreaterThan(0);
    for (let backlog = outcome.stats.detailBacklog, cycles = 0; backlog > 0; cycles++) {
      expect(cycles).toBeLessThan(20);
      const next = await agent.cycle();
      if (next.kind !== 'synced') throw new Error(`cycle ${cycles + 2}: ${next.kind}`);
      expect(next.stats.detailBacklog).toBeLessThan(backlog);
      backlog = next.stats.detailBacklog;
    }
    const guests = pve1Guests();
    expect(guests.length).toBeGreaterThan(1000);
    const rows = await vmRows();
    expect(rows.map((r) => r.vmid)).toEqual(guests.map((g) => g.vmid).sort((a, b) => a - b));
    expect(rows.every((r) => !r.absent)).toBe(true);
    const n = (await api('GET', `/proxmox-nodes/${node.id}`)).json();
    expect(n).toMatchObject({ status: 'online', last_error: null });
  }, 180_000);

  it('reads config only for the 1% of guests that changed', async () => {
    const agent = agents[0] as Agent;
    const changed = pve1Guests().filter((_, i) => i % 100 === 0);
    for (const g of changed) sim.state.patchGuest(g.vmid, { name: `renamed-${g.vmid}` });
    sim.resetStats();
    const outcome = await agent.cycle();
    expect(
      outcome.kind,
      JSON.stringify(outcome, (_k, v) =>
        v instanceof Error ? { message: v.message, cause: String(v.cause) } : v,
      ),
    ).toBe('synced');
    const stats = sim.stats().requests_by_kind;
    expect(stats['cluster-resources']).toBe(1);
    const configReads = (stats['qemu-config'] ?? 0) + (stats['lxc-config'] ?? 0);
    expect(configReads).toBe(changed.length);
    const rows = await vmRows();
    for (const g of changed)
      expect(rows.find((r) => r.vmid === g.vmid)?.name).toBe(`renamed-${g.vmid}`);
  }, 120_000);

  it('marks removed guests absent and brings them back when they return', async () => {
    const agent = agents[0] as Agent;
    const gone = pve1Guests().slice(0, 5);
    // The same machines come back: same VMID, SMBIOS UUID and NICs.
    const specs = gone.map((g) => ({
      vmid: g.vmid,
      type: g.type,
      config: Object.fromEntries(
        Object.entries(g.config).filter(([k]) => /^(smbios1|net\d+|name|hostname)$/.test(k)),
      ),
    }));
    for (const g of gone) sim.state.removeGuest(g.vmid);
    expect((await agent.cycle()).kind).toBe('synced');
    let rows = await vmRows();
    expect(rows.filter((r) => r.absent).map((r) => r.vmid)).toEqual(specs.map((s) => s.vmid));
    for (const s of specs)
      sim.state.addGuest({ vmid: s.vmid, type: s.type, nameDelayMs: 0, config: s.config });
    expect((await agent.cycle()).kind).toBe('synced');
    rows = await vmRows();
    expect(rows.filter((r) => r.absent)).toEqual([]);
  }, 120_000);

  it('changes no VM when Proxmox is down, refuses the token, lacks permission, cannot reach the node or answers []', async () => {
    const agent = agents[0] as Agent;
    const before = await vmRows();
    for (const fault of [
      { down: true },
      { status: 401 },
      { status: 403 },
      { status: 595 },
      { empty: true },
    ] as const) {
      sim.state.setFaults(fault);
      const outcome = await agent.cycle();
      sim.state.clearFaults();
      expect({ fault, kind: outcome.kind }).toEqual({ fault, kind: 'pve_error' });
      expect(await vmRows()).toEqual(before);
      const n = (await api('GET', `/proxmox-nodes/${node.id}`)).json();
      expect({ fault, status: n.status, error: Boolean(n.last_error) }).toEqual({
        fault,
        status: 'error',
        error: true,
      });
    }
    expect((await agent.cycle()).kind).toBe('synced');
    expect((await api('GET', `/proxmox-nodes/${node.id}`)).json().status).toBe('online');
  }, 120_000);

  it('keeps to the whitelist on the server side', async () => {
    const agent = agents[0] as Agent;
    const kept = pve1Guests()
      .slice(0, 3)
      .map((g) => g.vmid);
    await api('PUT', `/proxmox-nodes/${node.id}/whitelist`, { vmids: kept });
    await api('PATCH', `/proxmox-nodes/${node.id}`, { sync_mode: 'whitelist' });
    const fresh = sim.state.addGuest({ node: 'pve1', nameDelayMs: 0 });
    expect((await agent.cycle()).kind).toBe('synced');
    expect((await vmRows()).some((r) => r.vmid === fresh.vmid)).toBe(false);
    const n = (await api('GET', `/proxmox-nodes/${node.id}`)).json();
    expect(n.skipped_vmids).toContain(fresh.vmid);
    await api('PATCH', `/proxmox-nodes/${node.id}`, { sync_mode: 'all' });
    expect((await agent.cycle()).kind).toBe('synced');
    expect((await vmRows()).some((r) => r.vmid === fresh.vmid)).toBe(true);
  }, 120_000);

  it('waits while AccountDB is down, then converges without duplicates', async () => {
    const agent = agents[0] as Agent;
    proxy.down = true;
    const added = sim.state.addGuest({ node: 'pve1', nameDelayMs: 0 });
    expect((await agent.cycle()).kind).toBe('accountdb_unavailable');
    expect((await agent.cycle()).kind).toBe('accountdb_unavailable');
    proxy.down = false;
    expect((await agent.cycle()).kind).toBe('synced');
    const rows = await vmRows();
    expect(rows.filter((r) => r.vmid === added.vmid)).toHaveLength(1);
    const sets = await vmidSets();
    expect(sets.db).toEqual(sets.sim);
  }, 120_000);

  it('serialises two agents with the same key syncing at once: no duplicate rows', async () => {
    const [a, b] = [makeAgent(), makeAgent()];
    sim.state.addGuest({ node: 'pve1', nameDelayMs: 0 });
    const outcomes = await Promise.all([a.cycle(), b.cycle()]);
    expect(outcomes.map((o) => o.kind)).toEqual(['synced', 'synced']);
    const rows = (await vmRows()).filter((r) => r.vmid !== null);
    expect(new Set(rows.map((r) => r.vmid)).size).toBe(rows.length);
    const sets = await vmidSets();
    expect(sets.db).toEqual(sets.sim);
  }, 180_000);
});
