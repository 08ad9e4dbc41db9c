import type { SimNode } from '../model.js';
import { hashUnit } from '../prng.js';
import { guestRuntime, REFRESH_MS } from '../runtime-stats.js';
import type { SimState } from '../state/sim-state.js';

const GIB = 1024 ** 3;

export interface NodeUsage {
  cpu: number;
  mem: number;
  disk: number;
  uptime: number;
}

/** A node's load: a base plus what its running guests use. */
export function nodeUsage(state: SimState, node: SimNode, now: number): NodeUsage {
  let cpuCores = 0;
  let mem = 2 * GIB;
  for (const guest of state.guestsOn(node.name)) {
    if (guest.status === 'stopped') continue;
    const rt = guestRuntime(guest, now);
    cpuCores += rt.cpu * guest.derived.maxcpu;
    mem += rt.mem;
  }
  const jitter = hashUnit(node.nodeid, Math.floor(now / REFRESH_MS));
  return {
    cpu: Math.round(Math.min(1, 0.01 + 0.02 * jitter + cpuCores / node.maxcpu) * 1e6) / 1e6,
    mem: Math.min(node.maxmem, mem),
    disk: Math.floor(node.maxdisk * 0.3),
    uptime: Math.floor((now - node.bootedAt) / 1000),
  };
}

/** One entry of GET /nodes: stats only while online. */
export function nodeListEntry(
  state: SimState,
  node: SimNode,
  now: number,
): Record<string, unknown> {
  const base = {
    id: `node/${node.name}`,
    node: node.name,
    type: 'node',
    level: '',
    ssl_fingerprint: node.sslFingerprint,
  };
  if (!state.isOnline(node.name)) return { ...base, status: 'offline' };
  const usage = nodeUsage(state, node, now);
  return {
    ...base,
    status: 'online',
    cpu: usage.cpu,
    maxcpu: node.maxcpu,
    mem: usage.mem,
    maxmem: node.maxmem,
    disk: usage.disk,
    maxdisk: node.maxdisk,
    uptime: usage.uptime,
  };
}

/** The `type: node` entries of /cluster/resources. */
export function nodeResourceEntry(
  state: SimState,
  node: SimNode,
  now: number,
): Record<string, unknown> {
  const entry = nodeListEntry(state, node, now);
  const { ssl_fingerprint: _fingerprint, ...rest } = entry;
  return { ...rest, 'cgroup-mode': 2 };
}

/** The `type: storage` entries of /cluster/resources: local and local-lvm per node. */
export function storageResourceEntries(state: SimState, node: SimNode): Record<string, unknown>[] {
  const online = state.isOnline(node.name);
  const storage = (name: string, content: string, plugintype: string, size: number) => ({
    id: `storage/${node.name}/${name}`,
    storage: name,
    node: node.name,
    type: 'storage',
    status: online ? 'available' : 'unknown',
    content,
    plugintype,
    shared: 0,
    disk: online ? Math.floor(size * 0.4) : undefined,
    maxdisk: online ? size : undefined,
  });
  return [
    storage('local', 'backup,iso,vztmpl', 'dir', node.maxdisk),
    storage('local-lvm', 'images,rootdir', 'lvmthin', 4 * 1024 * GIB),
  ];
}

/** GET /nodes/{node}/status. */
export function nodeStatus(state: SimState, node: SimNode, now: number): Record<string, unknown> {
  const usage = nodeUsage(state, node, now);
  const load = (k: number) => (usage.cpu * node.maxcpu * k).toFixed(2);
  const kernel = '6.8.12-9-pve';
  return {
    uptime: usage.uptime,
    cpu: usage.cpu,
    wait: 0.0012,
    idle: 0,
    loadavg: [load(1), load(0.95), load(0.9)],
    cpuinfo: {
      cpus: node.maxcpu,
      cores: node.maxcpu / 2,
      sockets: 1,
      model: node.cpuModel,
      mhz: '3000.000',
      hvm: '1',
      user_hz: 100,
      flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov',
    },
    memory: {
      total: node.maxmem,
      used: usage.mem,
      free: node.maxmem - usage.mem,
      // From 9.0 (pve-docs apidata.js); the simulator has no page cache, so it equals free.
      ...(state.version.features.nodeMemoryAvailable ? { available: node.maxmem - usage.mem } : {}),
    },
    swap: { total: 8 * GIB, used: 0, free: 8 * GIB },
    rootfs: {
      total: node.maxdisk,
      used: usage.disk,
      free: node.maxdisk - usage.disk,
      avail: node.maxdisk - usage.disk,
    },
    ksm: { shared: 0 },
    pveversion: `pve-manager/${state.version.version}/${state.version.repoid}`,
    kversion: `Linux ${kernel} #1 SMP PREEMPT_DYNAMIC PMX ${kernel.replace('-pve', '')} x86_64`,
    'boot-info': { mode: 'efi', secureboot: 0 },
    'current-kernel': {
      sysname: 'Linux',
      release: kernel,
      version: `#1 SMP PREEMPT_DYNAMIC PMX ${kernel.replace('-pve', '')}`,
      machine: 'x86_64',
    },
  };
}

/** GET /cluster/status: the cluster entry (when clustered) and one entry per node. */
export function clusterStatus(state: SimState): Record<string, unknown>[] {
  const nodes = state.nodes();
  const online = nodes.filter((n) => state.isOnline(n.name)).length;
  const nodeEntries = nodes.map((n) => ({
    type: 'node',
    id: `node/${n.name}`,
    name: n.name,
    nodeid: n.nodeid,
    ip: n.ip,
    local: n.local ? 1 : 0,
    online: state.isOnline(n.name) ? 1 : 0,
    level: '',
  }));
  if (nodes.length === 1) return nodeEntries;
  return [
    {
      type: 'cluster',
      id: 'cluster',
      name: 'sim-cluster',
      nodes: nodes.length,
      quorate: online * 2 > nodes.length ? 1 : 0,
      version: state.clusterVersion,
    },
    ...nodeEntries,
  ];
}
