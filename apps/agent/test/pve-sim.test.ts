import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PveSim, startPveSim } from '@accountdb/pve-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyncVm } from '../src/accountdb/contract.js';
import type { Agent } from '../src/agent.js';
import { contractErrors, validate } from './helpers/contract.js';
import { FakeAccountDb } from './helpers/fake-accountdb.js';
import { testAgent, testSettings } from './helpers/setup.js';

// The agent against the Proxmox simulator (packages/pve-sim): its scenario carries every edge
// case of PROXMOX.md, and its /_sim/stats counts what the agent asked.

/** A pass-through HTTP proxy in front of the simulator that measures concurrent guest-agent calls. */
class CountingProxy {
  inFlight = 0;
  peak = 0;
  agentPaths: string[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const agentCall = /\/agent\/network-get-interfaces$/.test(req.url ?? '');
      if (agentCall) {
        this.agentPaths.push(req.url ?? '');
        this.inFlight++;
        this.peak = Math.max(this.peak, this.inFlight);
      }
      let done = false;
      const finish = () => {
        if (agentCall && !done) this.inFlight--;
        done = true;
      };
      const upstream = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
          up.pipe(res);
          up.on('end', finish);
        },
      );
      upstream.on('error', () => {
        finish();
        res.destroy();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

let sim: PveSim;
let tlsSim: PveSim;
let proxy: CountingProxy;
let adb: FakeAccountDb;
const agents: Agent[] = [];

beforeAll(async () => {
  const timing = { authDelayMs: 5, agentNotRunningMs: 40, agentTimeoutMs: 150, nameDelayMs: 0 };
  [sim, tlsSim] = await Promise.all([
    startPveSim({ vms: 90, nodes: 3, seed: 11, ...timing }),
    startPveSim({ vms: 10, nodes: 1, seed: 3, tls: true, ...timing }),
  ]);
  proxy = new CountingProxy(new URL(sim.url));
  adb = new FakeAccountDb();
  await Promise.all([proxy.start(), adb.start()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([sim?.stop(), tlsSim?.stop(), proxy?.stop(), adb?.stop()]);
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
  sim.state.clearFaults();
  adb.mode = 'up';
});

function agentFor(
  target: PveSim,
  overrides: Parameters<typeof testSettings>[3] = {},
  url = proxy.url,
) {
  const { agent } = testAgent(
    testSettings(url, adb.url, adb.key, {
      pveTokenId: target.tokenId,
      pveTokenSecret: target.tokenSecret,
      ...overrides,
    }),
    { backoff: { baseMs: 20, capMs: 80 }, intervalMs: 60_000 },
  );
  agents.push(agent);
  return agent;
}

const kind = (k: string) => sim.stats().requests_by_kind[k] ?? 0;

describe('agent against pve-sim', () => {
  it('syncs node pve1 completely with one listing call, ≤ 2 guest-agent calls at a time, bodies the server accepts', async () => {
    const agent = agentFor(sim);
    sim.resetStats();
    proxy.agentPaths = [];
    const before = adb.syncs.length;
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    const body = adb.syncs[before];
    expect(contractErrors(validate.syncBody, body)).toEqual([]);
    const onNode = [...sim.state.guestsOn('pve1')];
    expect(body?.vms.map((v) => v.vmid).sort((a, b) => a - b)).toEqual(
      onNode.map((g) => g.vmid).sort((a, b) => a - b),
    );
    expect(kind('cluster-resources')).toBe(1);
    expect(kind('qemu-config') + kind('lxc-config')).toBe(onNode.length);
    expect(proxy.peak).toBeGreaterThan(0);
    expect(proxy.peak).toBeLessThanOrEqual(2);

    // Edge cases of the scenario, as the sync reports them.
    const byEdge = new Map<string, SyncVm>();
    for (const g of onNode) {
      const vm = body?.vms.find((v) => v.vmid === g.vmid);
      if (g.edgeCase && vm) byEdge.set(g.edgeCase, vm);
    }
    const rich = byEdge.get('agent-rich');
    expect(rich).toBeDefined();
    expect(rich?.ip_addresses?.length).toBeGreaterThan(0);
    expect(
      rich?.ip_addresses?.some(
        (ip) => ip.startsWith('fe80') || ip.startsWith('127.') || ip === '::1',
      ),
    ).toBe(false);
    expect(rich?.ip_addresses?.some((ip) => ip.startsWith('172.17.'))).toBe(false); // docker0
    expect(rich?.mac_addresses?.length).toBe(2); // net0 and net2 despite the gap
    // Right after boot only link-local addresses: nothing usable yet (retried later).
    expect(byEdge.get('fresh-link-local')?.ip_addresses ?? []).toEqual([]);
    const long = byEdge.get('long-description');
    expect(long?.description?.length).toBeGreaterThan(1000);
    expect(byEdge.get('migrating')?.lock).toBe('migrate');
    // The run-state edge cases on this node, in the states the agent maps them to.
    const states: Record<string, string> = {
      paused: 'paused',
      'io-error': 'io-error',
      hibernated: 'suspended',
      suspended: 'suspended',
      prelaunch: 'prelaunch',
      inmigrate: 'migrating',
      postmigrate: 'migrating',
      'internal-error': 'internal-error',
      'guest-panicked': 'internal-error',
    };
    const seen = Object.keys(states).filter((e) => byEdge.has(e));
    expect(seen.length).toBeGreaterThan(1);
    for (const e of seen) expect(byEdge.get(e)?.status, e).toBe(states[e]);
    for (const vm of body?.vms ?? []) {
      for (const mac of vm.mac_addresses ?? [])
        expect(mac).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    }
    // Never the guest agent of a template, a stopped VM or one without the agent enabled.
    const asked = new Set(proxy.agentPaths.map((p) => Number(/\/qemu\/(\d+)\//.exec(p)?.[1])));
    const never = onNode.filter(
      (g) =>
        g.type === 'qemu' &&
        (g.status !== 'running' || g.derived.template || !g.derived.agentEnabled),
    );
    expect(never.length).toBeGreaterThan(0);
    for (const g of never) expect(asked.has(g.vmid)).toBe(false);
    expect(asked.size).toBeGreaterThan(0);
    expect([...byEdge.keys()].length).toBeGreaterThan(3);
  });

  it('reads configs only for new or changed guests in the next cycles (counted by /_sim/stats)', async () => {
    const agent = agentFor(sim);
    await agent.cycle();
    sim.resetStats();
    expect((await agent.cycle()).kind).toBe('synced');
    expect(kind('cluster-resources')).toBe(1);
    expect(kind('qemu-config') + kind('lxc-config')).toBe(0);

    const target = [...sim.state.guestsOn('pve1')].find(
      (g) => g.type === 'qemu' && !g.derived.template,
    );
    if (!target) throw new Error('no qemu guest on pve1');
    sim.state.patchGuest(target.vmid, { name: 'renamed-by-test' });
    const added = sim.state.addGuest({ node: 'pve1', name: 'added-by-test' });
    sim.resetStats();
    await agent.cycle();
    expect(kind('cluster-resources')).toBe(1);
    expect(sim.stats().requests_by_path['/nodes/{node}/qemu/{vmid}/config'] ?? 0).toBe(
      added.type === 'qemu' ? 2 : 1,
    );
    const last = adb.syncs.at(-1);
    expect(last?.vms.find((v) => v.vmid === target.vmid)?.name).toBe('renamed-by-test');
    expect(last?.vms.find((v) => v.vmid === added.vmid)).toBeDefined();
    sim.state.removeGuest(added.vmid);
  });

  const faults: [string, Parameters<PveSim['state']['setFaults']>[0], RegExp][] = [
    ['401', { status: 401 }, /401/],
    ['403', { status: 403 }, /403/],
    ['595 on the listing', { status: 595, only: ['cluster-resources'] }, /595/],
    ['an empty listing (mis-scoped token)', { empty: true }, /lists 0 guest/],
    ['an HTML error page', { html: true }, /instead of JSON|HTTP 502/],
    ['Proxmox down', { down: true }, /cannot reach Proxmox/],
  ];
  for (const [what, fault, message] of faults) {
    it(`sends a heartbeat with the error and no sync after ${what}`, async () => {
      const agent = agentFor(sim);
      expect((await agent.cycle()).kind).toBe('synced');
      const syncs = adb.syncs.length;
      const heartbeats = adb.heartbeats.length;
      sim.state.setFaults(fault);
      expect((await agent.cycle()).kind).toBe('pve_error');
      expect(adb.syncs).toHaveLength(syncs);
      expect(adb.heartbeats.length).toBe(heartbeats + 1);
      expect(adb.heartbeats.at(-1)).toMatchObject({ status: 'error' });
      expect(adb.heartbeats.at(-1)?.error).toMatch(message);
    });
  }

  it('does not sync while the node is offline in the cluster', async () => {
    const agent = agentFor(sim, { pveNode: 'pve2' });
    expect((await agent.cycle()).kind).toBe('synced');
    sim.state.setNodeOnline('pve2', false);
    try {
      const syncs = adb.syncs.length;
      expect((await agent.cycle()).kind).toBe('pve_error');
      expect(adb.syncs).toHaveLength(syncs);
      expect(adb.heartbeats.at(-1)?.error).toMatch(/node "pve2" is offline/);
    } finally {
      sim.state.setNodeOnline('pve2', true);
    }
  });

  it('backs off while AccountDB is down and then sends a fresh complete sync', async () => {
    const agent = agentFor(sim);
    adb.mode = 'drop';
    const before = adb.syncs.length;
    sim.resetStats();
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    const deadline = Date.now() + 5_000;
    while (adb.requests.filter((r) => r.status === 0).length < 3) {
      if (Date.now() > deadline) throw new Error('no retries');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(kind('cluster-resources')).toBe(0);
    adb.mode = 'up';
    while (adb.syncs.length === before) {
      if (Date.now() > deadline + 5_000) throw new Error('no sync after recovery');
      await new Promise((r) => setTimeout(r, 5));
    }
    stop.abort();
    await running;
    const body = adb.syncs.at(-1);
    expect(body?.complete).toBe(true);
    expect(body?.vms).toHaveLength([...sim.state.guestsOn('pve1')].length);
    expect(kind('cluster-resources')).toBe(1);
  });
});

describe('TLS to pve-sim', () => {
  it('syncs with the pinned fingerprint and with the CA file; refuses a wrong pin', async () => {
    const fingerprint = tlsSim.fingerprint as string;
    const pinned = agentFor(tlsSim, { pveTls: { mode: 'fingerprint', fingerprint } }, tlsSim.url);
    expect((await pinned.cycle()).kind).toBe('synced');
    const withCa = agentFor(
      tlsSim,
      { pveTls: { mode: 'ca', caFile: 'sim-ca.pem', ca: tlsSim.caPem as string } },
      tlsSim.url,
    );
    expect((await withCa.cycle()).kind).toBe('synced');
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const refused = agentFor(
      tlsSim,
      { pveTls: { mode: 'fingerprint', fingerprint: wrong } },
      tlsSim.url,
    );
    const outcome = await refused.cycle();
    expect(outcome.kind).toBe('pve_error');
    if (outcome.kind === 'pve_error') expect(outcome.error.kind).toBe('tls');
  });
});
