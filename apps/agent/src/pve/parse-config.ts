import { PveError } from './errors.js';
import type { GuestType } from './parse-resources.js';
import {
  normaliseMac,
  parseMemoryMb,
  parsePropertyString,
  parseSize,
  parseTags,
  toBool,
  toCount,
  toText,
} from './parse-values.js';

/** What the agent takes from `GET /nodes/{node}/{qemu|lxc}/{vmid}/config`. */
export interface GuestConfig {
  /** SHA-1 of the config; changes whenever the config changes. */
  digest: string | undefined;
  name: string | undefined;
  description: string | undefined;
  tags: string[];
  /** vCPUs: qemu `vcpus`, else `sockets × cores`; lxc `cores` (undefined = all host cores). */
  cpuCores: number | undefined;
  memoryMb: number | undefined;
  /** Sum of the sizes of the guest's disks (not CD-ROMs, cloud-init drives or unused volumes). */
  diskBytes: number | undefined;
  /** NIC MACs in netN order, normalised AA:BB:CC:DD:EE:FF. */
  macs: string[];
  /** qemu `smbios1` uuid (lower case); undefined for lxc. */
  smbiosUuid: string | undefined;
  /** qemu `agent` enabled. */
  agentEnabled: boolean;
  /** Static addresses configured on the guest (qemu `ipconfigN`, lxc `netN` ip/ip6), no prefix. */
  staticIps: string[];
}

/** `netN` / `ipconfigN` / `scsiN`… keys in numeric order, gaps allowed (net0, net2). */
export function indexedKeys(config: Record<string, unknown>, prefix: RegExp): string[] {
  return Object.keys(config)
    .map((key) => ({ key, m: prefix.exec(key) }))
    .filter((x): x is { key: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
    .map((x) => x.key);
}

const QEMU_DISK = /^(?:ide|sata|scsi|virtio)(\d+)$/;
const LXC_DISK = /^(?:rootfs|mp(\d+))$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Is this drive a CD-ROM or a cloud-init drive (not a disk)? */
export function isMediaDrive(props: Record<string, string>): boolean {
  const volume = props[''] ?? props.file ?? props.volume ?? '';
  return props.media === 'cdrom' || /cloudinit/i.test(volume) || volume === 'none';
}

/** The byte size of a drive's `size=` (undefined when absent, e.g. a passthrough disk). */
export function driveSize(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const props = parsePropertyString(value);
  if (isMediaDrive(props)) return undefined;
  return parseSize(props.size);
}

function sumDisks(config: Record<string, unknown>, pattern: RegExp): number | undefined {
  let total = 0;
  let any = false;
  for (const key of Object.keys(config)) {
    if (!pattern.test(key)) continue;
    const size = driveSize(config[key]);
    if (size !== undefined) {
      total += size;
      any = true;
    }
  }
  return any ? total : undefined;
}

/** The MAC of a NIC property string: `hwaddr=`/`macaddr=`, else the value of `MODEL=MAC`. */
export function nicMac(props: Record<string, string>): string | undefined {
  for (const key of ['hwaddr', 'macaddr']) {
    const mac = normaliseMac(props[key]);
    if (mac) return mac;
  }
  for (const [key, v] of Object.entries(props)) {
    if (key === 'bridge' || key === 'tag' || key === 'trunks') continue;
    const mac = normaliseMac(v);
    if (mac) return mac;
  }
  return undefined;
}

/** `10.0.0.5/24` → `10.0.0.5`; `dhcp`, `auto`, `manual` and garbage → undefined. */
export function staticAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^(dhcp|auto|manual)$/i.test(v) || v === '') return undefined;
  const ip = v.split('/')[0] ?? '';
  return /^[0-9a-f:.]+$/i.test(ip) && (ip.includes('.') || ip.includes(':'))
    ? ip.toLowerCase()
    : undefined;
}

function macsOf(config: Record<string, unknown>): string[] {
  const macs: string[] = [];
  for (const key of indexedKeys(config, /^net(\d+)$/)) {
    const v = config[key];
    if (typeof v !== 'string') continue;
    const mac = nicMac(parsePropertyString(v));
    if (mac && !macs.includes(mac)) macs.push(mac);
  }
  return macs;
}

function ipsFrom(config: Record<string, unknown>, prefix: RegExp): string[] {
  const ips: string[] = [];
  for (const key of indexedKeys(config, prefix)) {
    const v = config[key];
    if (typeof v !== 'string') continue;
    const props = parsePropertyString(v);
    for (const ip of [staticAddress(props.ip), staticAddress(props.ip6)]) {
      if (ip && !ips.includes(ip)) ips.push(ip);
    }
  }
  return ips;
}

/** `smbios1: uuid=…,serial=…` → the uuid, lower case; undefined when absent or not a UUID. */
export function smbiosUuid(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const uuid = parsePropertyString(value).uuid;
  return uuid && UUID.test(uuid) ? uuid.toLowerCase() : undefined;
}

/** `agent: 1` / `enabled=1,fstrim_cloned_disks=1` / `1,fstrim_cloned_disks=1` / 0 → enabled? */
export function agentEnabled(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'string') return toBool(value) === true;
  const props = parsePropertyString(value);
  return toBool(props.enabled ?? props[''] ?? '0') === true;
}

function asObject(data: unknown, path: string): Record<string, unknown> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new PveError('bad_response', 'config is not an object', undefined, path);
  }
  return data as Record<string, unknown>;
}

export function parseQemuConfig(data: unknown, path = 'qemu config'): GuestConfig {
  const c = asObject(data, path);
  const vcpus = toCount(c.vcpus);
  const sockets = toCount(c.sockets) ?? 1;
  const cores = toCount(c.cores) ?? 1;
  return {
    digest: toText(c.digest),
    name: toText(c.name),
    description: typeof c.description === 'string' ? c.description : undefined,
    tags: parseTags(c.tags),
    cpuCores: vcpus && vcpus > 0 ? vcpus : sockets * cores,
    memoryMb: parseMemoryMb(c.memory, 512),
    diskBytes: sumDisks(c, QEMU_DISK),
    macs: macsOf(c),
    smbiosUuid: smbiosUuid(c.smbios1),
    agentEnabled: agentEnabled(c.agent),
    staticIps: ipsFrom(c, /^ipconfig(\d+)$/),
  };
}

export function parseLxcConfig(data: unknown, path = 'lxc config'): GuestConfig {
  const c = asObject(data, path);
  return {
    digest: toText(c.digest),
    name: toText(c.hostname),
    description: typeof c.description === 'string' ? c.description : undefined,
    tags: parseTags(c.tags),
    cpuCores: toCount(c.cores),
    memoryMb: parseMemoryMb(c.memory, 512),
    diskBytes: sumDisks(c, LXC_DISK),
    macs: macsOf(c),
    smbiosUuid: undefined,
    agentEnabled: false,
    staticIps: ipsFrom(c, /^net(\d+)$/),
  };
}

export function parseGuestConfig(type: GuestType, data: unknown, path?: string): GuestConfig {
  return type === 'qemu' ? parseQemuConfig(data, path) : parseLxcConfig(data, path);
}
