import { PveError } from './errors.js';
import { type GuestState, guestState } from './guest-state.js';
import { parseTags, toBool, toCount, toNumber, toText } from './parse-values.js';

export type GuestType = 'qemu' | 'lxc';
export type GuestStatus = GuestState;

/** One guest from `GET /cluster/resources?type=vm`, read tolerantly. */
export interface ListedGuest {
  vmid: number;
  type: GuestType;
  node: string;
  status: GuestStatus;
  name: string | undefined;
  template: boolean;
  lock: string | undefined;
  /** Tags; undefined on a stale entry (offline node: `{id, vmid, node, type, status}` only). */
  tags: string[] | undefined;
  maxcpu: number | undefined;
  cpu: number | undefined;
  maxmem: number | undefined;
  mem: number | undefined;
  maxdisk: number | undefined;
  uptime: number | undefined;
  hastate: string | undefined;
  pool: string | undefined;
  /** True for the name-less "status: unknown" entries Proxmox keeps for an offline node. */
  stale: boolean;
}

export const MIN_VMID = 100;
export const MAX_VMID = 999_999_999;

/** The state from an entry's `status` (`qmpstatus || status` for QEMU) and `lock`. */
export function parseStatus(value: unknown, lock?: string): GuestStatus {
  return guestState(value, lock);
}

function parseType(entry: Record<string, unknown>): GuestType | undefined {
  const t = typeof entry.type === 'string' ? entry.type.trim().toLowerCase() : '';
  if (t === 'qemu' || t === 'lxc') return t;
  const id = typeof entry.id === 'string' ? entry.id : '';
  if (id.startsWith('qemu/')) return 'qemu';
  if (id.startsWith('lxc/')) return 'lxc';
  return undefined;
}

function parseVmid(entry: Record<string, unknown>): number | undefined {
  let vmid = toNumber(entry.vmid);
  if (vmid === undefined && typeof entry.id === 'string') vmid = toNumber(entry.id.split('/')[1]);
  if (vmid === undefined || !Number.isInteger(vmid) || vmid < 1 || vmid > MAX_VMID)
    return undefined;
  return vmid;
}

/** One entry; undefined for non-guest entries (node, storage, sdn…) or entries without vmid/type/node. */
export function parseResourceEntry(raw: unknown): ListedGuest | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const e = raw as Record<string, unknown>;
  const type = parseType(e);
  if (!type) return undefined;
  const vmid = parseVmid(e);
  const node = toText(e.node);
  if (vmid === undefined || node === undefined) return undefined;
  const lock = toText(e.lock);
  const status = parseStatus(e.status, lock);
  const name = toText(e.name);
  const stale = status === 'unknown' && name === undefined;
  return {
    vmid,
    type,
    node,
    status,
    name,
    // Only 1 means template (qemu lists omit it otherwise; some versions send 0 or "0").
    template: toBool(e.template) === true,
    lock,
    tags: stale && e.tags === undefined ? undefined : parseTags(e.tags),
    maxcpu: toNumber(e.maxcpu),
    cpu: toNumber(e.cpu),
    maxmem: toCount(e.maxmem),
    mem: toCount(e.mem),
    maxdisk: toCount(e.maxdisk),
    uptime: toCount(e.uptime),
    hastate: toText(e.hastate),
    pool: toText(e.pool),
    stale,
  };
}

/**
 * The `data` of `/cluster/resources?type=vm`. Not an array is a bad answer (error); entries
 * that are not guests (node, storage, sdn…) are skipped; guest entries that cannot be read
 * (no vmid, no node) are reported in `malformed` with their node when it is known, so the
 * cycle can refuse to send a snapshot that would miss them.
 */
export function parseClusterResources(data: unknown): {
  guests: ListedGuest[];
  malformed: { node: string | undefined; id: string | undefined }[];
} {
  if (!Array.isArray(data)) {
    throw new PveError(
      'bad_response',
      '/cluster/resources did not return a list',
      undefined,
      '/cluster/resources',
    );
  }
  const guests: ListedGuest[] = [];
  const seen = new Set<number>();
  const malformed: { node: string | undefined; id: string | undefined }[] = [];
  for (const raw of data) {
    const g = parseResourceEntry(raw);
    if (g) {
      // A VMID is unique in a cluster; a duplicate (mid-migration glitch) keeps the first.
      if (seen.has(g.vmid)) continue;
      seen.add(g.vmid);
      guests.push(g);
      continue;
    }
    const e = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const looksLikeGuest =
      e.type === undefined
        ? e.vmid !== undefined || raw === null || typeof raw !== 'object'
        : parseType(e) !== undefined;
    if (looksLikeGuest) malformed.push({ node: toText(e.node), id: toText(e.id) });
  }
  return { guests, malformed };
}
