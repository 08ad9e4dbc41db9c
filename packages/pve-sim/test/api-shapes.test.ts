import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSim } from '../src/index.js';
import { api, data, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;
let vms: Json[];

beforeAll(async () => {
  sim = await startSim();
  vms = (await (await fetch(`${sim.url}/_sim/vms`)).json()) as Json[];
});
afterAll(() => sim?.stop());

const byEdge = (name: string) => {
  const vm = vms.find((v) => v.edge_case === name);
  if (!vm) throw new Error(`no ${name} guest`);
  return vm;
};

describe('envelope', () => {
  it('answers {data: …} as application/json', async () => {
    const res = await api(sim, '/version');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json;charset=UTF-8');
    expect(Object.keys(res.body)).toEqual(['data']);
  });

  it('answers errors as {data: null, message: "…\\n"} with the message as reason phrase', async () => {
    const res = await api(sim, '/nodes/pve1/qemu/999999/config');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      data: null,
      message: "Configuration file 'nodes/pve1/qemu-server/999999.conf' does not exist\n",
    });
    expect(res.reason).toBe(
      "Configuration file 'nodes/pve1/qemu-server/999999.conf' does not exist",
    );
  });

  it('answers 400 "Parameter verification failed." with errors per parameter', async () => {
    const bad = await api(sim, '/cluster/resources?type=vms');
    expect(bad.status).toBe(400);
    expect(bad.reason).toBe('Parameter verification failed.');
    expect(bad.body.errors).toEqual({
      type: "value 'vms' does not have a value in the enumeration 'vm, storage, node, sdn'",
    });
    const vmid = await api(sim, '/nodes/pve1/qemu/abc/status/current');
    expect(vmid.body.errors).toEqual({ vmid: "type check ('integer') failed - got 'abc'" });
    const extra = await api(sim, '/nodes?foo=1');
    expect(Object.keys(extra.body.errors)).toEqual(['foo']);
    const full = await api(sim, '/nodes/pve1/qemu?full=maybe');
    expect(full.body.errors).toEqual({ full: "type check ('boolean') failed - got 'maybe'" });
  });

  it('answers 501 for unknown endpoints and methods', async () => {
    const unknown = await api(sim, '/nodes/pve1/ceph/status');
    expect(unknown.status).toBe(501);
    expect(unknown.reason).toBe("Method 'GET /api2/json/nodes/pve1/ceph/status' not implemented");
    const post = await api(sim, '/nodes', { method: 'POST' });
    expect(post.status).toBe(501);
  });

  it('answers 500 for an unknown node (hostname lookup)', async () => {
    const res = await api(sim, '/nodes/nosuchnode/qemu');
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/^hostname lookup 'nosuchnode' failed/);
  });
});

describe('endpoints', () => {
  it('GET /version', async () => {
    expect(await data(sim, '/version')).toEqual({
      version: '8.4.1',
      release: '8.4',
      repoid: expect.stringMatching(/^[0-9a-f]{16}$/),
      console: 'html5',
    });
  });

  it('GET /nodes lists every node with stats and a distinct ssl_fingerprint', async () => {
    const nodes = await data(sim, '/nodes');
    expect(nodes.map((n: Json) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
    for (const n of nodes) {
      expect(n).toMatchObject({ status: 'online', type: 'node', id: `node/${n.node}` });
      for (const key of ['cpu', 'maxcpu', 'mem', 'maxmem', 'disk', 'maxdisk', 'uptime']) {
        expect(typeof n[key]).toBe('number');
      }
      expect(n.ssl_fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    }
    expect(new Set(nodes.map((n: Json) => n.ssl_fingerprint)).size).toBe(3);
  });

  it('GET /cluster/status: the cluster entry then one entry per node', async () => {
    const status = await data(sim, '/cluster/status');
    expect(status[0]).toMatchObject({ type: 'cluster', nodes: 3, quorate: 1 });
    expect(typeof status[0].version).toBe('number');
    expect(status.slice(1)).toEqual([
      expect.objectContaining({ type: 'node', name: 'pve1', nodeid: 1, local: 1, online: 1 }),
      expect.objectContaining({ type: 'node', name: 'pve2', local: 0, online: 1 }),
      expect.objectContaining({ type: 'node', name: 'pve3', local: 0, online: 1 }),
    ]);
    expect(status[1].ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('GET /cluster/status of a standalone node has only its own entry', async () => {
    const single = await startSim({ nodes: 1, vms: 10 });
    try {
      const status = await data(single, '/cluster/status');
      expect(status).toEqual([expect.objectContaining({ type: 'node', name: 'pve1', local: 1 })]);
    } finally {
      await single.stop();
    }
  });

  it('GET /cluster/resources?type=vm lists every guest of the cluster', async () => {
    const resources = await data(sim, '/cluster/resources?type=vm');
    expect(resources).toHaveLength(200);
    const running = resources.find((r: Json) => r.status === 'running' && r.type === 'qemu');
    expect(running).toMatchObject({
      id: `qemu/${running.vmid}`,
      vmid: expect.any(Number),
      node: expect.stringMatching(/^pve[123]$/),
      type: 'qemu',
      name: expect.any(String),
      template: 0,
    });
    for (const key of [
      'maxcpu',
      'cpu',
      'maxmem',
      'mem',
      'maxdisk',
      'disk',
      'netin',
      'netout',
      'diskread',
      'diskwrite',
      'uptime',
    ]) {
      expect(typeof running[key]).toBe('number');
    }
    expect(running.uptime).toBeGreaterThan(0);
    const stopped = resources.find((r: Json) => r.status === 'stopped');
    expect(stopped).toMatchObject({ cpu: 0, mem: 0, uptime: 0 });
    expect(new Set(resources.map((r: Json) => r.type))).toEqual(new Set(['qemu', 'lxc']));
    expect(resources.some((r: Json) => r.lock)).toBe(true);
    expect(resources.some((r: Json) => r.tags)).toBe(true);
    expect(resources.some((r: Json) => r.pool)).toBe(true);
    expect(resources.some((r: Json) => r.hastate)).toBe(true);
  });

  it('GET /cluster/resources without type adds node and storage entries', async () => {
    const all = await data(sim, '/cluster/resources');
    const types = new Set(all.map((r: Json) => r.type));
    expect(types).toEqual(new Set(['qemu', 'lxc', 'node', 'storage']));
    expect(await data(sim, '/cluster/resources?type=node')).toHaveLength(3);
    expect(await data(sim, '/cluster/resources?type=storage')).toHaveLength(6);
  });

  it('GET /nodes/{node}/qemu lists that node only; template only when 1; disk 0', async () => {
    const list = await data(sim, '/nodes/pve2/qemu');
    const expected = vms.filter((v) => v.node === 'pve2' && v.type === 'qemu');
    expect(list.map((e: Json) => e.vmid).sort()).toEqual(expected.map((v) => v.vmid).sort());
    for (const e of list) {
      expect(e.disk).toBe(0);
      expect(e.template === undefined || e.template === 1).toBe(true);
      expect(e.type).toBeUndefined();
    }
    const template = byEdge('template');
    const templates = await data(sim, `/nodes/${template.node}/qemu`);
    expect(templates.find((e: Json) => e.vmid === template.vmid)).toMatchObject({
      template: 1,
      status: 'stopped',
    });
    const full = await data(sim, '/nodes/pve2/qemu?full=1');
    expect(full.every((e: Json) => typeof e.qmpstatus === 'string')).toBe(true);
  });

  it('GET /nodes/{node}/qemu names nameless VMs "VM <id>"', async () => {
    const nameless = byEdge('nameless');
    const list = await data(sim, `/nodes/${nameless.node}/qemu`);
    expect(list.find((e: Json) => e.vmid === nameless.vmid).name).toBe(`VM ${nameless.vmid}`);
  });

  it('GET /nodes/{node}/lxc adds type, swap, maxswap; nameless containers are CT<id>', async () => {
    const ct = byEdge('lxc-nameless-stopped');
    const list = await data(sim, `/nodes/${ct.node}/lxc`);
    expect(list.length).toBeGreaterThan(0);
    for (const e of list) {
      expect(e).toMatchObject({ type: 'lxc', vmid: expect.any(Number) });
      expect(typeof e.swap).toBe('number');
      expect(typeof e.maxswap).toBe('number');
    }
    expect(list.find((e: Json) => e.vmid === ct.vmid).name).toBe(`CT${ct.vmid}`);
  });

  it('GET …/qemu/{vmid}/status/current has qmpstatus, agent, ha and running-qemu', async () => {
    const vm = byEdge('locked-backup');
    const status = await data(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/status/current`);
    expect(status).toMatchObject({
      vmid: vm.vmid,
      status: 'running',
      qmpstatus: 'running',
      agent: 1,
      lock: 'backup',
      ha: { managed: 1, state: 'started' },
      'running-qemu': expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    const stopped = byEdge('ha-error');
    const s2 = await data(sim, `/nodes/${stopped.node}/qemu/${stopped.vmid}/status/current`);
    expect(s2).toMatchObject({
      status: 'stopped',
      qmpstatus: 'stopped',
      ha: { managed: 1, state: 'error' },
    });
    expect(s2['running-qemu']).toBeUndefined();
  });

  it('GET …/lxc/{vmid}/status/current', async () => {
    const ct = byEdge('lxc-ipv6');
    const status = await data(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/status/current`);
    expect(status).toMatchObject({
      vmid: ct.vmid,
      type: 'lxc',
      status: 'running',
      ha: { managed: 0 },
    });
  });

  it('GET …/qemu/{vmid}/config has a SHA-1 digest and the config keys', async () => {
    const vm = byEdge('cloudinit');
    const config = await data(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/config`);
    expect(config.digest).toMatch(/^[0-9a-f]{40}$/);
    expect(config).toMatchObject({
      name: vm.name,
      cores: expect.any(Number),
      sockets: expect.any(Number),
      smbios1: expect.stringMatching(/^uuid=[0-9a-f-]{36}$/),
      vmgenid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      meta: expect.stringMatching(/^creation-qemu=[\d.]+,ctime=\d+$/),
      net0: expect.stringMatching(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0/),
      scsi0: expect.stringMatching(/size=512M$/),
      scsi1: expect.stringMatching(/size=1T$/),
      ide2: expect.stringMatching(/cloudinit,media=cdrom/),
      ipconfig0: expect.stringMatching(
        /^ip=[\d.]+\/24,gw=[\d.]+,ip6=2001:db8:1::[0-9a-f]+\/64,gw6=/,
      ),
      ipconfig1: 'ip=dhcp,ip6=auto',
    });
  });

  it('GET …/qemu/{vmid}/config on the wrong node or type answers 500 "does not exist"', async () => {
    const vm = byEdge('agent-rich');
    const other = ['pve1', 'pve2', 'pve3'].find((n) => n !== vm.node);
    const res = await api(sim, `/nodes/${other}/qemu/${vm.vmid}/config`);
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/does not exist/);
    const asLxc = await api(sim, `/nodes/${vm.node}/lxc/${vm.vmid}/config`);
    expect(asLxc.body.message).toBe(
      `Configuration file 'nodes/${vm.node}/lxc/${vm.vmid}.conf' does not exist\n`,
    );
  });

  it('GET …/lxc/{vmid}/config: hostname, netN with hwaddr, memory a number', async () => {
    const ct = byEdge('lxc-ipv6');
    const config = await data(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/config`);
    expect(config).toMatchObject({
      digest: expect.stringMatching(/^[0-9a-f]{40}$/),
      hostname: ct.name,
      memory: expect.any(Number),
      rootfs: expect.stringMatching(/size=\d+G$/),
      net0: expect.stringMatching(
        /^name=eth0,bridge=vmbr0,.*hwaddr=BC:24:11:.*,ip=[\d.]+\/24,ip6=2001:db8:50::[0-9a-f]+\/64,type=veth$/,
      ),
      net1: expect.stringMatching(/ip=dhcp,ip6=auto,type=veth$/),
    });
  });

  it('GET …/agent/network-get-interfaces answers {data: {result: […]}}', async () => {
    const vm = byEdge('agent-rich');
    const res = await data(sim, `/nodes/${vm.node}/qemu/${vm.vmid}/agent/network-get-interfaces`);
    const result = res.result as Json[];
    expect(result[0]).toMatchObject({ name: 'lo', 'hardware-address': '00:00:00:00:00:00' });
    const nic = result.find((i) => i.name === 'ens18');
    expect(nic['hardware-address']).toBe(vm.macs[0].toLowerCase());
    const types = nic['ip-addresses'].map((a: Json) => a['ip-address-type']);
    expect(types).toContain('ipv4');
    expect(types).toContain('ipv6');
    expect(nic['ip-addresses'].some((a: Json) => a['ip-address'].startsWith('fe80::'))).toBe(true);
    expect(nic['ip-addresses'].some((a: Json) => a['ip-address'].startsWith('2001:db8:'))).toBe(
      true,
    );
    // net2 (NIC gap) is ens20, down: no ip-addresses.
    const down = result.find((i) => i.name === 'ens20');
    expect(down['hardware-address']).toBe(vm.macs[1].toLowerCase());
    expect(down['ip-addresses']).toBeUndefined();
    // Noise: docker0 and veths; wg0 without hardware-address.
    expect(result.find((i) => i.name === 'docker0')['ip-addresses'][0]['ip-address']).toBe(
      '172.17.0.1',
    );
    expect(result.some((i) => i.name.startsWith('veth'))).toBe(true);
    const wg = result.find((i) => i.name === 'wg0');
    expect(wg['hardware-address']).toBeUndefined();
    expect(wg['ip-addresses']).toHaveLength(1);
  });

  it('GET …/lxc/{vmid}/interfaces: inet/inet6; null while stopped', async () => {
    const ct = byEdge('lxc-ipv6');
    const list = await data(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/interfaces`);
    const eth0 = list.find((i: Json) => i.name === 'eth0');
    expect(eth0).toMatchObject({
      hwaddr: ct.macs[0].toLowerCase(),
      'hardware-address': ct.macs[0].toLowerCase(),
      inet: expect.stringMatching(/^192\.168\.50\.\d+\/24$/),
      inet6: expect.stringMatching(/^2001:db8:50::[0-9a-f]+\/64$/),
    });
    expect(eth0['ip-addresses'].map((a: Json) => a['ip-address-type'])).toEqual([
      'inet',
      'inet6',
      'inet6',
    ]);
    const stopped = byEdge('lxc-nameless-stopped');
    const res = await api(sim, `/nodes/${stopped.node}/lxc/${stopped.vmid}/interfaces`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: null });
  });

  it('GET /nodes/{node}/status has cpuinfo, memory, rootfs, loadavg and pveversion', async () => {
    const status = await data(sim, '/nodes/pve1/status');
    expect(status).toMatchObject({
      uptime: expect.any(Number),
      cpu: expect.any(Number),
      cpuinfo: { cpus: expect.any(Number), model: expect.any(String) },
      memory: { total: expect.any(Number), used: expect.any(Number), free: expect.any(Number) },
      rootfs: { total: expect.any(Number), avail: expect.any(Number) },
      pveversion: expect.stringMatching(/^pve-manager\/8\.4\.1\/[0-9a-f]{16}$/),
    });
    expect(status.loadavg).toHaveLength(3);
    expect(typeof status.loadavg[0]).toBe('string');
  });
});
