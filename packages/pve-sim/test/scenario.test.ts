import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EDGE_CASE_NAMES,
  generateScenario,
  type PveSim,
  parsePveVersion,
  serialiseConfig,
} from '../src/index.js';
import { api, control, data, type Json, startSim } from './helpers/sim.js';

const version = parsePveVersion('8.4.1');
const scenario = (seed: number, guests = 200) =>
  generateScenario({
    guests,
    nodes: 3,
    seed,
    now: 1_750_000_000_000,
    version,
    nameDelayMs: 10_000,
  });

describe('scenario generation', () => {
  it('is deterministic by seed', () => {
    const a = scenario(42);
    const b = scenario(42);
    expect(a.guests.map((g) => serialiseConfig(g.config))).toEqual(
      b.guests.map((g) => serialiseConfig(g.config)),
    );
    expect(a.guests.map((g) => [g.vmid, g.node, g.status, g.edgeCase, g.agentMode])).toEqual(
      b.guests.map((g) => [g.vmid, g.node, g.status, g.edgeCase, g.agentMode]),
    );
    expect(a.nodes).toEqual(b.nodes);
    const c = scenario(43);
    expect(c.guests.map((g) => serialiseConfig(g.config))).not.toEqual(
      a.guests.map((g) => serialiseConfig(g.config)),
    );
  });

  it('gives unique VMIDs, unique MACs with the BC:24:11 prefix (few legacy ones)', () => {
    const { guests } = scenario(5, 2000);
    expect(new Set(guests.map((g) => g.vmid)).size).toBe(2000);
    const macs = guests.flatMap((g) =>
      Object.entries(g.config)
        .filter(([k]) => /^net\d+$/.test(k))
        .map(([, v]) => /([0-9A-F]{2}(?::[0-9A-F]{2}){5})/.exec(v)?.[1]),
    );
    expect(new Set(macs).size).toBe(macs.length);
    const proxmox = macs.filter((m) => m?.startsWith('BC:24:11:')).length;
    expect(proxmox / macs.length).toBeGreaterThan(0.9);
    expect(proxmox).toBeLessThan(macs.length);
  });

  it('places every edge case once there are enough guests, as many as fit below', () => {
    expect(
      new Set(
        scenario(1, 200)
          .guests.map((g) => g.edgeCase)
          .filter(Boolean),
      ),
    ).toEqual(new Set(EDGE_CASE_NAMES));
    const tiny = scenario(1, 10).guests;
    expect(tiny).toHaveLength(10);
    expect(tiny.map((g) => g.edgeCase)).toEqual(
      expect.arrayContaining(EDGE_CASE_NAMES.slice(0, 10)),
    );
  });
});

describe('edge cases in a default scenario (200 guests, 3 nodes)', () => {
  let sim: PveSim;
  let vms: Json[];
  let resources: Json[];
  let rawResources: string;
  const edge = (name: string) => {
    const vm = vms.find((v) => v.edge_case === name);
    if (!vm) throw new Error(`no ${name} guest`);
    return vm;
  };
  const configOf = (g: Json) => data(sim, `/nodes/${g.node}/${g.type}/${g.vmid}/config`);
  const agentOf = (g: Json) =>
    api(sim, `/nodes/${g.node}/qemu/${g.vmid}/agent/network-get-interfaces`);
  const resourceOf = (g: Json) => resources.find((r) => r.vmid === g.vmid);

  beforeAll(async () => {
    sim = await startSim({ nameDelayMs: 60_000 });
    vms = (await control(sim, 'GET', '/vms')).body;
    const res = await api(sim, '/cluster/resources?type=vm');
    rawResources = res.text;
    resources = res.body.data;
  });
  afterAll(() => sim?.stop());

  it('templates: template 1 in resources, stopped, agent configured but VM not running', async () => {
    const tpl = edge('template');
    expect(resourceOf(tpl)).toMatchObject({ template: 1, status: 'stopped' });
    expect(resources.filter((r) => r.template === 0).length).toBeGreaterThan(150);
    const res = await agentOf(tpl);
    expect(res.status).toBe(500);
    expect(res.body.message).toBe(`VM ${tpl.vmid} is not running\n`);
    expect(resourceOf(edge('lxc-template'))).toMatchObject({ template: 1, type: 'lxc' });
  });

  it('locks: backup, migrate, suspended (hibernated = stopped)', () => {
    expect(resourceOf(edge('locked-backup'))).toMatchObject({ lock: 'backup', hastate: 'started' });
    expect(resourceOf(edge('migrating'))).toMatchObject({ lock: 'migrate', hastate: 'migrate' });
    expect(resourceOf(edge('hibernated'))).toMatchObject({ lock: 'suspended', status: 'stopped' });
  });

  it('paused VMs and odd QMP states; the agent of a paused VM is not running', async () => {
    expect(resourceOf(edge('paused')).status).toBe('paused');
    const ioError = edge('io-error');
    const status = await data(sim, `/nodes/${ioError.node}/qemu/${ioError.vmid}/status/current`);
    expect(status).toMatchObject({ status: 'running', qmpstatus: 'io-error' });
    expect(resourceOf(ioError).status).toBe('io-error');
    for (const state of [
      'suspended',
      'prelaunch',
      'inmigrate',
      'postmigrate',
      'internal-error',
      'guest-panicked',
    ]) {
      expect(resourceOf(edge(state)).status, state).toBe(state);
    }
    const res = await agentOf(edge('paused'));
    expect(res.body.message).toBe('QEMU guest agent is not running\n');
  });

  it('missing names: nameless config lists "VM <id>"; a new VM lacks name in resources', async () => {
    const nameless = edge('nameless');
    expect(nameless.name).toBeNull();
    expect(resourceOf(nameless).name).toBe(`VM ${nameless.vmid}`);
    expect((await configOf(nameless)).name).toBeUndefined();
    const fresh = resourceOf(edge('fresh-link-local'));
    expect(fresh).not.toHaveProperty('name');
    expect(fresh.status).toBe('running');
    expect(resourceOf(edge('lxc-nameless-stopped')).name).toBe(
      `CT${edge('lxc-nameless-stopped').vmid}`,
    );
  });

  it('names are not unique', () => {
    expect(edge('duplicate-name').name).toBe(edge('agent-rich').name);
  });

  it('type drift: memory as string, current=…, absent; booleans as integers; tags separators', async () => {
    expect(typeof (await configOf(edge('agent-rich'))).memory).toBe('string');
    expect((await configOf(edge('agent-not-running'))).memory).toBe('current=4096');
    const fresh = await configOf(edge('fresh-link-local'));
    expect(fresh.memory).toBeUndefined();
    expect(resourceOf(edge('fresh-link-local')).maxmem).toBe(512 * 1024 * 1024);
    expect(fresh.onboot).toBe(1);
    expect((await configOf(edge('locked-backup'))).cores).toEqual(expect.any(Number));
    expect(resourceOf(edge('nameless')).tags).toBe('Windows,Prod');
    expect(resourceOf(edge('lxc-ipv6')).tags).toBe('dev lxc');
    expect(resourceOf(edge('agent-rich')).tags).toBe('prod;web');
  });

  it('type drift: byte counters in scientific notation, maxmem above 2^31, maxdisk 0', () => {
    const many = edge('many-interfaces');
    expect(rawResources).toMatch(new RegExp(`"vmid":${many.vmid},[^}]*"netin":\\d\\.\\d+e\\+15`));
    expect(resourceOf(many).netin).toBeGreaterThan(1e15);
    expect(resourceOf(many).maxmem).toBe(65536 * 1024 * 1024);
    expect(resourceOf(many).maxdisk).toBe(1024 ** 4);
    expect(resourceOf(edge('diskless')).maxdisk).toBe(0);
  });

  it('NIC gaps: net0 and net2 without net1', async () => {
    const config = await configOf(edge('agent-rich'));
    expect(Object.keys(config).filter((k) => /^net\d+$/.test(k))).toEqual(['net0', 'net2']);
  });

  it('agent values: "1", "enabled=1,fstrim_cloned_disks=1", "1,fstrim_cloned_disks=1", "enabled=0", absent', async () => {
    expect((await configOf(edge('agent-rich'))).agent).toBe('1');
    expect((await configOf(edge('agent-not-running'))).agent).toBe(
      'enabled=1,fstrim_cloned_disks=1',
    );
    expect((await configOf(edge('agent-timeout'))).agent).toBe('1,fstrim_cloned_disks=1');
    expect((await configOf(edge('agent-disabled'))).agent).toBe('enabled=0');
    expect((await configOf(edge('nameless'))).agent).toBeUndefined();
    expect(edge('agent-timeout').agent_enabled).toBe(true);
    expect(edge('agent-disabled').agent_enabled).toBe(false);
  });

  it('agent errors: not configured, not running (after a delay), timeout (after a delay)', async () => {
    for (const name of ['agent-disabled', 'nameless']) {
      const res = await agentOf(edge(name));
      expect(res.status).toBe(500);
      expect(res.reason).toBe('No QEMU guest agent configured');
    }
    const notRunning = await agentOf(edge('agent-not-running'));
    expect(notRunning.body.message).toBe('QEMU guest agent is not running\n');
    expect(notRunning.ms).toBeGreaterThanOrEqual(25);
    const timeout = await agentOf(edge('agent-timeout'));
    expect(timeout.body.message).toMatch(
      /^VM \d+ qmp command 'guest-network-get-interfaces' failed - got timeout\n$/,
    );
    expect(timeout.ms).toBeGreaterThanOrEqual(55);
  });

  it('agent payloads: only link-local IPv6 after boot, 50+ interfaces, Windows names', async () => {
    const fresh = (await agentOf(edge('fresh-link-local'))).body.data.result as Json[];
    const nic = fresh.find((i) => i.name === 'ens18');
    expect(nic['ip-addresses'].map((a: Json) => a['ip-address'].slice(0, 6))).toEqual(['fe80::']);
    const many = (await agentOf(edge('many-interfaces'))).body.data.result as Json[];
    expect(many.length).toBeGreaterThan(50);
    expect(
      many.filter((i) => i['hardware-address'] === 'ee:ee:ee:ee:ee:ee').length,
    ).toBeGreaterThan(50);
    const windows = (await agentOf(edge('windows'))).body.data.result as Json[];
    expect(windows.map((i) => i.name)).toContain('Ethernet');
    const loopback = windows.find((i) => i.name === 'Loopback Pseudo-Interface 1');
    expect(loopback['hardware-address']).toBeUndefined();
  });

  it('IPv6: static and SLAAC addresses in guests and containers', async () => {
    const cloud = (await agentOf(edge('cloudinit'))).body.data.result as Json[];
    const ens18 = cloud.find((i) => i.name === 'ens18');
    expect(ens18['ip-addresses'].map((a: Json) => a['ip-address'])).toContain(
      `2001:db8:1::${edge('cloudinit').vmid.toString(16)}`,
    );
    const ct = edge('lxc-ipv6');
    const list = await data(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/interfaces`);
    expect(list.find((i: Json) => i.name === 'eth1').inet6).toMatch(/^2001:db8:2:0:be24:11ff:fe/);
  });

  it('disks: sizes in M/G/T, CD-ROM and cloud-init drives, EFI/TPM disks', async () => {
    const cloud = await configOf(edge('cloudinit'));
    expect(cloud.scsi0).toMatch(/size=512M$/);
    expect(resourceOf(edge('cloudinit')).maxdisk).toBe(512 * 1024 * 1024);
    const diskless = await configOf(edge('diskless'));
    expect(diskless.ide2).toBe('none,media=cdrom');
    const windows = await configOf(edge('windows'));
    expect(windows.efidisk0).toMatch(/efitype=4m/);
    expect(windows.smbios1).toMatch(/^base64=1,manufacturer=[A-Za-z0-9+/=]+,.*uuid=[0-9a-f-]{36}$/);
  });

  it('legacy MACs, link_down NICs, an 8 KiB description', async () => {
    const legacy = await configOf(edge('legacy-mac'));
    expect(legacy.net0).toMatch(/^e1000=(?!BC:24:11)[0-9A-F:]{17},bridge=vmbr0$/);
    expect(legacy.net1).toMatch(/link_down=1$/);
    const long = await configOf(edge('long-description'));
    expect(Buffer.byteLength(long.description)).toBeGreaterThan(7000);
    expect(Buffer.byteLength(long.description)).toBeLessThanOrEqual(8192);
  });

  it('HA states and pools', () => {
    expect(resourceOf(edge('ha-error')).hastate).toBe('error');
    expect(resourceOf(edge('locked-backup')).pool).toBe('customers');
  });
});

describe('older Proxmox versions', () => {
  let sim: PveSim;
  beforeAll(async () => {
    sim = await startSim({ vms: 60, pveVersion: '6.4-13' });
  });
  afterAll(() => sim?.stop());

  it('reports the version and release', async () => {
    expect(await data(sim, '/version')).toMatchObject({ version: '6.4-13', release: '6.4' });
  });

  it('memory is a number in qemu configs', async () => {
    const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
    const vm = vms.find((v) => v.edge_case === 'agent-not-running');
    const config = await data(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/config`);
    expect(config.memory).toBe(4096);
  });

  it('lists some container vmids as strings', async () => {
    const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
    const ct = vms.find((v) => v.edge_case === 'lxc-ipv6');
    const list = await data(sim, `/nodes/${ct.node}/lxc`);
    expect(list.find((e: Json) => Number(e.vmid) === ct.vmid).vmid).toBe(String(ct.vmid));
  });

  it('answers 501 for lxc interfaces (endpoint unknown before 7.1)', async () => {
    const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
    const ct = vms.find((v) => v.edge_case === 'lxc-ipv6');
    const res = await api(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/interfaces`);
    expect(res.status).toBe(501);
    expect(res.body.message).toMatch(/not implemented/);
  });
});
