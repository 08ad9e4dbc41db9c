import { LIMITS, type SyncVm } from '../accountdb/contract.js';
import type { GuestConfig } from '../pve/parse-config.js';
import type { ListedGuest } from '../pve/parse-resources.js';
import { clampText } from '../pve/parse-values.js';

/** What the agent remembers about one guest between cycles (keyed by vmid, current guests only). */
export interface CachedGuest {
  type: ListedGuest['type'];
  /** The listed fields that trigger a config read when they change (see `listingKey`). */
  listingKey: string | undefined;
  /** When the config was last read successfully (ms). */
  configAt: number | undefined;
  digest: string | undefined;
  config: GuestConfig | undefined;
  /** Addresses from the guest agent / LXC interfaces; undefined = never read. */
  ips: string[] | undefined;
  /** An address read is due (config read this cycle, or an earlier one failed). */
  ipsWanted: boolean;
  /** Consecutive address-read failures and when to try again (failure cache). */
  ipFailures: number;
  ipNextTryAt: number;
  ipLastError: string | undefined;
  /** Reads that answered without a usable address (just booted): retried a few times. */
  ipEmptyReads: number;
}

export function newCachedGuest(type: ListedGuest['type']): CachedGuest {
  return {
    type,
    listingKey: undefined,
    configAt: undefined,
    digest: undefined,
    config: undefined,
    ips: undefined,
    ipsWanted: false,
    ipFailures: 0,
    ipNextTryAt: 0,
    ipLastError: undefined,
    ipEmptyReads: 0,
  };
}

/**
 * The listed fields whose change means the config may have changed: name, status, template,
 * lock, tags, sizes. Usage figures (cpu, mem, uptime, I/O) change every refresh and are left out.
 */
export function listingKey(g: ListedGuest): string {
  return JSON.stringify([
    g.type,
    g.name ?? null,
    g.status,
    g.template,
    g.lock ?? null,
    g.tags ?? null,
    g.maxcpu ?? null,
    g.maxmem ?? null,
    g.maxdisk ?? null,
  ]);
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

function bounded(n: number | undefined, max: number, integer: boolean): number | undefined {
  if (n === undefined || !Number.isFinite(n) || n < 0) return undefined;
  const v = integer ? Math.round(n) : n;
  return v > max ? undefined : v;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function cleanTags(tags: string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const tag = clampText(t, LIMITS.tagLength);
    if (tag !== '' && !out.includes(tag)) out.push(tag);
    if (out.length >= LIMITS.tags) break;
  }
  return out;
}

/**
 * One guest for POST /agent/sync. Listed fields come from this cycle's listing; config
 * fields and addresses from the cache (the last good read). A field the agent does not know
 * is left out, so the server keeps what it stored. Values are clamped to the contract's
 * limits so one odd guest cannot make the server refuse the whole snapshot.
 */
export function buildSyncVm(g: ListedGuest, cached: CachedGuest | undefined): SyncVm {
  const vm: SyncVm = { vmid: g.vmid, type: g.type, status: g.status };
  const config = cached?.type === g.type ? cached.config : undefined;
  // An offline node's leftover entry carries nothing but its identity and "unknown".
  if (g.stale) return vm;

  const name = g.name ?? config?.name;
  if (name !== undefined) vm.name = clampText(name, LIMITS.name);
  vm.template = g.template;
  vm.lock = g.lock === undefined ? null : clampText(g.lock, LIMITS.lock);

  const cores =
    bounded(g.maxcpu, LIMITS.cpuCores, true) ?? bounded(config?.cpuCores, LIMITS.cpuCores, true);
  if (cores !== undefined) vm.cpu_cores = cores;
  const memoryMb =
    g.maxmem !== undefined && g.maxmem > 0
      ? bounded(g.maxmem / MIB, LIMITS.memoryMb, true)
      : bounded(config?.memoryMb, LIMITS.memoryMb, true);
  if (memoryMb !== undefined) vm.memory_mb = memoryMb;
  const diskBytes =
    config?.diskBytes ?? (g.maxdisk !== undefined && g.maxdisk > 0 ? g.maxdisk : undefined);
  const diskGb = bounded(
    diskBytes === undefined ? undefined : round2(diskBytes / GIB),
    LIMITS.diskGb,
    false,
  );
  if (diskGb !== undefined) vm.disk_gb = diskGb;

  const cpu = bounded(g.cpu, LIMITS.cpuUsage, false);
  if (cpu !== undefined) vm.cpu_usage = cpu;
  const mem = bounded(g.mem, LIMITS.memUsage, true);
  if (mem !== undefined) vm.mem_usage = mem;
  const uptime = bounded(g.uptime, LIMITS.uptime, true);
  if (uptime !== undefined) vm.uptime_s = uptime;

  const tags = g.tags ?? config?.tags;
  if (tags !== undefined) vm.tags = cleanTags(tags);

  if (config) {
    vm.mac_addresses = config.macs.slice(0, LIMITS.macs);
    if (g.type === 'qemu') vm.smbios_uuid = config.smbiosUuid ?? null;
    vm.description =
      config.description === undefined ? null : clampText(config.description, LIMITS.description);
  }
  const ips = cached?.ips ?? (config && config.staticIps.length > 0 ? config.staticIps : undefined);
  if (ips !== undefined) {
    vm.ip_addresses = ips.filter((ip) => ip.length <= LIMITS.ipLength).slice(0, LIMITS.ips);
  }
  return vm;
}
