import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncVm } from '../src/accountdb/contract.js';
import type { Agent } from '../src/agent.js';
import { contractErrors, validate } from './helpers/contract.js';
import { FakeAccountDb } from './helpers/fake-accountdb.js';
import { FakePve } from './helpers/fake-pve.js';
import { testAgent, testSettings } from './helpers/setup.js';

let pve: FakePve;
let adb: FakeAccountDb;
const agents: Agent[] = [];

function make(
  overrides: Parameters<typeof testSettings>[3] = {},
  options: Parameters<typeof testAgent>[1] = {},
) {
  const made = testAgent(testSettings(pve.url, adb.url, adb.key, overrides), options);
  agents.push(made.agent);
  return made;
}

function vm(vmid: number, body = adb.syncs.at(-1)): SyncVm {
  const found = body?.vms.find((v) => v.vmid === vmid);
  if (!found) throw new Error(`vm ${vmid} not in the sync body`);
  return found;
}

beforeEach(async () => {
  pve = new FakePve();
  adb = new FakeAccountDb();
  await Promise.all([pve.start(), adb.start()]);
  pve.addGuest({ vmid: 101 });
  pve.addGuest({ vmid: 102, status: 'stopped' });
  pve.addGuest({ vmid: 103, template: true, status: 'stopped' });
  pve.addGuest({ vmid: 104, tags: 'farm;eu' });
  pve.addGuest({ vmid: 200, type: 'lxc' });
  pve.addGuest({ vmid: 300, node: 'pve2' });
  pve.nodes.push({ name: 'pve2', online: true });
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
  await Promise.all([pve.stop(), adb.stop()]);
});

describe('sync cycle', () => {
  it('reads the node once, enriches guests, and sends one complete sync the server would accept', async () => {
    const { agent } = make();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    expect(pve.count('/cluster/resources')).toBe(1);
    expect(pve.count('/cluster/status')).toBe(1);
    expect(adb.syncs).toHaveLength(1);
    const body = adb.syncs[0];
    expect(contractErrors(validate.syncBody, body)).toEqual([]);
    expect(body?.complete).toBe(true);
    expect(body?.pve_version).toBe('8.4.1');
    // Only the agent's node (pve1), every guest of it, including the stopped one and the template.
    expect(body?.vms.map((v) => v.vmid).sort()).toEqual([101, 102, 103, 104, 200]);
    expect(vm(101)).toMatchObject({
      type: 'qemu',
      status: 'running',
      name: 'vm-101',
      template: false,
      cpu_cores: 2,
      memory_mb: 2048,
      disk_gb: 32, // the CD-ROM is not a disk
      mac_addresses: ['BC:24:11:00:00:65'],
      smbios_uuid: '00000000-0000-4000-8000-000000000101',
      ip_addresses: ['10.0.0.101'], // loopback dropped
      lock: null,
      tags: [],
    });
    expect(vm(104).tags).toEqual(['farm', 'eu']);
    expect(vm(103).template).toBe(true);
    expect(vm(200)).toMatchObject({
      type: 'lxc',
      ip_addresses: ['10.9.0.5'],
      mac_addresses: ['BC:24:11:AA:00:01'],
      disk_gb: 8,
    });
    // Guest agent only for running, non-template qemu guests with the agent on.
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(1);
    expect(pve.count(/\/qemu\/104\/agent\//)).toBe(1);
    expect(pve.count(/\/qemu\/10[23]\/agent\//)).toBe(0);
    expect(pve.count(/\/nodes\/pve2\//)).toBe(0);
    // The sync is followed by an ok heartbeat, valid per contract.
    expect(adb.heartbeats.at(-1)?.status).toBe('ok');
    expect(contractErrors(validate.heartbeat, adb.heartbeats.at(-1))).toEqual([]);
  });

  it('reads configs only for new or changed guests in later cycles, and uses the ETag', async () => {
    const { agent } = make();
    await agent.cycle();
    expect(pve.count(/\/config$/)).toBe(5);
    pve.reset();

    await agent.cycle();
    expect(pve.count('/cluster/resources')).toBe(1);
    expect(pve.count(/\/config$/)).toBe(0);
    expect(pve.count(/\/agent\//)).toBe(0);
    expect(
      adb.requests.filter((r) => r.path === '/api/v1/agent/config').map((r) => r.status),
    ).toEqual([200, 304]);
    expect(adb.syncs).toHaveLength(2);
    // The cached details are still sent in full.
    expect(vm(101).mac_addresses).toEqual(['BC:24:11:00:00:65']);
    expect(vm(101).ip_addresses).toEqual(['10.0.0.101']);
    pve.reset();

    // One renamed guest (a listed field changed) and one new guest.
    const g = pve.guests.get(104);
    if (g) g.name = 'renamed';
    pve.editConfig(104, { name: 'renamed' });
    pve.addGuest({ vmid: 105, status: 'stopped' });
    await agent.cycle();
    expect(pve.requests.filter((p) => p.endsWith('/config')).sort()).toEqual([
      '/nodes/pve1/qemu/104/config',
      '/nodes/pve1/qemu/105/config',
    ]);
    expect(vm(104).name).toBe('renamed');
    expect(vm(105).status).toBe('stopped');
  });

  it('refreshes configs round-robin and skips parsing when the digest is unchanged', async () => {
    let now = 1_000_000;
    const { agent } = make({}, { now: () => now, tuning: { configRefreshMs: 10 * 60_000 } });
    await agent.cycle();
    pve.reset();
    now += 11 * 60_000;
    pve.editConfig(102, { description: 'edited in the UI' });
    // interval 60 s, refresh 10 min, 5 guests: one due guest per cycle, oldest first.
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      await agent.cycle();
      for (const p of pve.requests.filter((r) => r.endsWith('/config'))) seen.add(p);
      pve.reset();
    }
    expect(seen.size).toBe(5);
    expect(vm(102).description).toBe('edited in the UI');
    expect(
      agent.metrics.get('accountdb_agent_config_reads_total', { result: 'unchanged' }),
    ).toBeGreaterThanOrEqual(4);
  });

  it('syncs the listing first on a large node, then reads the new guests a budget per cycle', async () => {
    const { agent } = make({}, { tuning: { detailBudget: 2 } });
    // Five guests of pve1, none read yet, more than the budget of 2: the listing alone.
    const first = await agent.cycle();
    expect(first.kind).toBe('synced');
    expect(pve.count(/\/config$/)).toBe(0);
    expect(pve.count(/\/agent\/|\/interfaces$/)).toBe(0);
    expect(adb.syncs[0]?.vms.map((v) => v.vmid).sort()).toEqual([101, 102, 103, 104, 200]);
    expect(vm(101, adb.syncs[0])).toMatchObject({ name: 'vm-101', status: 'running' });
    expect(vm(101, adb.syncs[0]).mac_addresses).toBeUndefined(); // not known yet: left out
    if (first.kind !== 'synced') return;
    expect(first.stats.detailBacklog).toBe(5);
    expect(agent.nextDelayMs(first)).toBe(1_000); // the daemon comes back at once

    // Then two guests' configs a cycle, until none is left; every sync stays complete.
    const backlogs: number[] = [];
    for (let i = 0; i < 3; i++) {
      pve.reset();
      const next = await agent.cycle();
      if (next.kind !== 'synced') throw new Error(next.kind);
      expect(pve.count(/\/config$/)).toBeLessThanOrEqual(2);
      backlogs.push(next.stats.detailBacklog);
    }
    expect(backlogs).toEqual([3, 1, 0]);
    expect(adb.syncs.every((b) => b.complete && b.vms.length === 5)).toBe(true);
    expect(vm(101).mac_addresses).toEqual(['BC:24:11:00:00:65']);
    expect(vm(200).ip_addresses).toEqual(['10.9.0.5']);

    // Steady: nothing new, nothing changed, no round-robin due yet: the listing only.
    pve.reset();
    const steady = await agent.cycle();
    if (steady.kind !== 'synced') throw new Error(steady.kind);
    expect(pve.count(/\/config$/)).toBe(0);
    expect(steady.stats.detailBacklog).toBe(0);
    expect(agent.nextDelayMs(steady)).toBeGreaterThan(1_000);
  });

  it('reads a few new guests at once once it has synced (no listing-first after the start)', async () => {
    const { agent } = make({}, { tuning: { detailBudget: 10 } });
    await agent.cycle();
    expect(pve.count(/\/config$/)).toBe(5);
    pve.reset();
    pve.addGuest({ vmid: 150 });
    await agent.cycle();
    expect(pve.requests.filter((r) => r.endsWith('/config'))).toEqual([
      '/nodes/pve1/qemu/150/config',
    ]);
  });

  it('never runs more than two guest-agent calls at a time', async () => {
    for (let vmid = 110; vmid < 120; vmid++) pve.addGuest({ vmid });
    pve.agentLatencyMs = 60;
    const { agent } = make();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    expect(pve.count(/\/agent\/network-get-interfaces$/)).toBe(12);
    expect(pve.agentPeak).toBe(2);
  });

  it('caches guest-agent failures with backoff instead of asking every cycle', async () => {
    let now = 5_000_000;
    const g = pve.guests.get(101);
    if (g) g.interfaces = undefined; // "QEMU guest agent is not running"
    const { agent } = make({}, { now: () => now });
    await agent.cycle();
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(1);
    expect(vm(101).ip_addresses).toBeUndefined(); // unknown: the server keeps what it had
    pve.reset();
    await agent.cycle();
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(0);
    now += 61_000;
    await agent.cycle();
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(1);
    pve.reset();
    now += 61_000; // second failure: the wait doubled to 120 s
    await agent.cycle();
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(0);
    if (g)
      g.interfaces = {
        result: [
          {
            name: 'ens18',
            'ip-addresses': [{ 'ip-address': '192.0.2.7', 'ip-address-type': 'ipv4' }],
          },
        ],
      };
    now += 60_000;
    await agent.cycle();
    expect(pve.count(/\/qemu\/101\/agent\//)).toBe(1);
    expect(vm(101).ip_addresses).toEqual(['192.0.2.7']);
  });

  it('retries failed address reads within the round-robin quota, the longest-waiting first', async () => {
    let now = 7_000_000;
    // Four running QEMU guests of pve1 whose guest agent is not running.
    for (const vmid of [101, 104]) {
      const g = pve.guests.get(vmid);
      if (g) g.interfaces = undefined;
    }
    for (const vmid of [110, 111]) pve.addGuest({ vmid }).interfaces = undefined;
    const { agent } = make({}, { now: () => now });
    await agent.cycle();
    expect(pve.count(/\/agent\/network-get-interfaces$/)).toBe(4);
    // 7 guests, 60 s interval, 30 min refresh: a quota of one background read a cycle.
    now += 61_000;
    pve.reset();
    const outcome = await agent.cycle();
    if (outcome.kind !== 'synced') throw new Error(outcome.kind);
    expect(pve.count(/\/agent\/network-get-interfaces$/)).toBe(1);
    expect(outcome.stats.retryReads).toBe(1);
    // The others come in the next cycles, one each, none asked twice before all were asked.
    const asked = new Set(pve.requests.filter((r) => r.includes('/agent/')));
    for (let i = 0; i < 3; i++) {
      pve.reset();
      await agent.cycle();
      for (const r of pve.requests.filter((p) => p.includes('/agent/'))) asked.add(r);
    }
    expect(asked.size).toBe(4);
  });

  it('stops guest-agent reads after a 403 and says which privilege is missing', async () => {
    pve.fail(/\/agent\/network-get-interfaces$/, {
      status: 403,
      body: JSON.stringify({
        data: null,
        message: 'Permission check failed (/vms/101, VM.Monitor)',
      }),
    });
    const { agent } = make();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    for (let vmid = 110; vmid < 116; vmid++) pve.addGuest({ vmid });
    await agent.cycle();
    // At most the two calls already in flight when the first 403 came back; none after.
    expect(pve.count(/\/agent\//)).toBeLessThanOrEqual(2);
    expect(agent.engine.addressReads.denied).toBe(true);
    expect(agent.state.guest_agent.message).toMatch(/VM\.Monitor.*VM\.GuestAgent\.Audit/);
  });

  it('falls back to the static ip= of an LXC config when the interfaces endpoint is missing (501)', async () => {
    pve.fail(/\/lxc\/\d+\/interfaces$/, {
      status: 501,
      body: JSON.stringify({
        data: null,
        message: "Method 'GET /nodes/pve1/lxc/200/interfaces' not implemented",
      }),
    });
    const { agent } = make();
    await agent.cycle();
    expect(vm(200).ip_addresses).toEqual(['10.9.0.5']);
    expect(agent.engine.addressReads.lxcInterfacesSupported).toBe(false);
  });

  it('keeps syncing when one config read fails with "does not exist" (guest migrating)', async () => {
    pve.fail(/\/qemu\/104\/config$/, {
      status: 500,
      body: JSON.stringify({
        data: null,
        message: "Configuration file 'nodes/pve1/qemu-server/104.conf' does not exist\n",
      }),
    });
    const { agent } = make();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('synced');
    expect(vm(104)).toMatchObject({ vmid: 104, status: 'running', name: 'vm-104' });
    expect(vm(104).mac_addresses).toBeUndefined();
    pve.clearFailures();
    pve.reset();
    await agent.cycle(); // not read yet, so it is asked again
    expect(pve.requests.filter((p) => p.endsWith('/config'))).toEqual([
      '/nodes/pve1/qemu/104/config',
    ]);
  });

  it('sends guests outside the whitelist with their listing only (no config or agent calls)', async () => {
    adb.config = { ...adb.config, sync_mode: 'whitelist', whitelist: [101] };
    const { agent } = make();
    await agent.cycle();
    expect(pve.requests.filter((p) => p.endsWith('/config'))).toEqual([
      '/nodes/pve1/qemu/101/config',
    ]);
    expect(adb.syncs[0]?.vms).toHaveLength(5);
    expect(vm(104).mac_addresses).toBeUndefined();
    expect(vm(101).mac_addresses).toEqual(['BC:24:11:00:00:65']);
  });

  it('uses PVE_NODE, else the AccountDB node name, else the answering node', async () => {
    const { agent } = make({ pveNode: 'pve2' });
    await agent.cycle();
    expect(adb.syncs[0]?.vms.map((v) => v.vmid)).toEqual([300]);
    adb.config = { ...adb.config, name: 'pve2' };
    const second = make();
    await second.agent.cycle();
    expect(adb.syncs[1]?.vms.map((v) => v.vmid)).toEqual([300]);
    adb.config = { ...adb.config, name: 'not-a-proxmox-name' };
    const third = make();
    await third.agent.cycle();
    expect(adb.syncs[2]?.vms.map((v) => v.vmid).sort()).toEqual([101, 102, 103, 104, 200]);
  });
});

describe('never a sync after a failed or suspicious Proxmox read', () => {
  const cases: [string, (p: FakePve) => void, RegExp][] = [
    [
      '401 (token refused)',
      (p) => {
        p.token = 'PVEAPIToken=other';
      },
      /401.*PVE_TOKEN_ID/,
    ],
    [
      '403 on /cluster/resources',
      (p) =>
        p.fail(/^\/cluster\/resources$/, {
          status: 403,
          body: JSON.stringify({ data: null, message: 'Permission check failed (/, Sys.Audit)' }),
        }),
      /403/,
    ],
    [
      '595 (node unreachable)',
      (p) => p.fail(/^\/cluster\/resources$/, { status: 595, body: '' }),
      /595/,
    ],
    [
      '596 on a config read',
      (p) => p.fail(/\/qemu\/101\/config$/, { status: 596, body: '' }),
      /596/,
    ],
    ['500 on /cluster/status', (p) => p.fail(/^\/cluster\/status$/, { status: 500 }), /500/],
    [
      'an HTML page instead of JSON',
      (p) =>
        p.fail(/^\/cluster\/resources$/, {
          status: 200,
          contentType: 'text/html',
          body: '<html>login</html>',
        }),
      /instead of JSON/,
    ],
    [
      'JSON without the data envelope',
      (p) => p.fail(/^\/cluster\/resources$/, { status: 200, body: '[]' }),
      /envelope/,
    ],
    [
      'a dropped connection',
      (p) => p.fail(/^\/cluster\/resources$/, { destroy: true }),
      /cannot reach Proxmox/,
    ],
    [
      'the node offline',
      (p) => {
        (p.nodes[0] as { online: boolean }).online = false;
      },
      /offline/,
    ],
    [
      'no quorum',
      (p) => {
        if (p.cluster) p.cluster.quorate = false;
      },
      /not quorate/,
    ],
    [
      'PVE_NODE not in the cluster',
      (p) => {
        p.nodes = [{ name: 'other', online: true, local: true }];
      },
      /PVE_NODE/,
    ],
  ];

  for (const [what, inject, message] of cases) {
    it(`heartbeats the error instead of syncing: ${what}`, async () => {
      const { agent } = make(what.startsWith('PVE_NODE') ? { pveNode: 'pve1' } : {});
      inject(pve);
      const outcome = await agent.cycle();
      expect(outcome.kind).toBe('pve_error');
      expect(adb.syncs).toHaveLength(0);
      expect(adb.heartbeats).toHaveLength(1);
      expect(adb.heartbeats[0]?.status).toBe('error');
      expect(adb.heartbeats[0]?.error).toMatch(message);
      expect(contractErrors(validate.heartbeat, adb.heartbeats[0])).toEqual([]);
      expect(agent.state.status).toBe('error');
    });
  }

  it('times out a hanging Proxmox instead of waiting forever', async () => {
    pve.fail(/^\/cluster\/resources$/, { hang: true });
    const { agent } = make({}, { pveTimeoutMs: 300 });
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('pve_error');
    if (outcome.kind === 'pve_error') expect(outcome.error.kind).toBe('timeout');
    expect(adb.syncs).toHaveLength(0);
  });

  it('refuses an empty or collapsed listing after a good sync, until the drop is accepted', async () => {
    const { agent } = make();
    for (let vmid = 120; vmid < 126; vmid++) pve.addGuest({ vmid, status: 'stopped' });
    expect((await agent.cycle()).kind).toBe('synced'); // 11 guests on pve1
    // A token that lost its ACL sees an empty list with HTTP 200.
    const saved = new Map(pve.guests);
    pve.guests.clear();
    let outcome = await agent.cycle();
    expect(outcome.kind).toBe('pve_error');
    expect(adb.heartbeats.at(-1)?.error).toMatch(/lists 0 guest.*last sync had 11/);
    // A drop of more than half.
    for (const [vmid, g] of saved) if (vmid < 104) pve.guests.set(vmid, g);
    outcome = await agent.cycle();
    expect(outcome.kind).toBe('pve_error');
    expect(adb.syncs).toHaveLength(1);
    // The operator confirms: `once --accept-drop`.
    outcome = await agent.cycle({ acceptDrop: true });
    expect(outcome.kind).toBe('synced');
    expect(adb.syncs.at(-1)?.vms).toHaveLength(3);
    expect((await agent.cycle()).kind).toBe('synced');
  });

  it('refuses a listing with unreadable guest entries of its node', async () => {
    const { agent } = make();
    pve.fail(/^\/cluster\/resources$/, {
      status: 200,
      body: JSON.stringify({
        data: [
          { id: 'qemu/101', vmid: 101, node: 'pve1', type: 'qemu', status: 'running' },
          { type: 'qemu', node: 'pve1', status: 'running' },
        ],
      }),
    });
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('pve_error');
    expect(adb.syncs).toHaveLength(0);
  });
});

describe('AccountDB answers', () => {
  it('reports AccountDB down without reading Proxmox', async () => {
    adb.mode = '503';
    adb.retryAfter = '7';
    const { agent } = make();
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('accountdb_unavailable');
    if (outcome.kind === 'accountdb_unavailable') expect(outcome.error.retryAfterMs).toBe(7000);
    expect(pve.requests).toHaveLength(0);
  });

  it('treats a refused node key as an AccountDB auth error', async () => {
    const { agent } = testAgent(testSettings(pve.url, adb.url, 'adb_node_wrongkeywrongkeywrong'));
    agents.push(agent);
    const outcome = await agent.cycle();
    expect(outcome.kind).toBe('accountdb_error');
    if (outcome.kind === 'accountdb_error') expect(outcome.error.kind).toBe('auth');
  });
});
