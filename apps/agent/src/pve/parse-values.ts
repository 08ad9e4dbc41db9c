/**
 * Tolerant readers for the values Proxmox returns. Every one of them drifts between versions
 * and code paths (PROXMOX.md, "Numbers drift"): numbers arrive as strings, booleans as 0/1/"1",
 * sizes with unit suffixes or in scientific notation. None of these functions throws; a value
 * that cannot be read is `undefined`, and the caller leaves the field out of the sync (the
 * server keeps what it had).
 */

/** A finite number from a number or a numeric string ("3.4e+15", " 42 "); else undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return undefined;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative integer (rounded) from a number or numeric string; else undefined. */
export function toCount(value: unknown): number | undefined {
  const n = toNumber(value);
  if (n === undefined || n < 0) return undefined;
  return Math.round(n);
}

/** Proxmox booleans: 1, "1", true, "true", "yes", "on" are true; 0, "0", false… are false. */
export function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === '1' || v === 'true' || v === 'yes' || v === 'on') return true;
    if (v === '0' || v === 'false' || v === 'no' || v === 'off' || v === '') return false;
  }
  return undefined;
}

/** A trimmed, non-empty string (numbers are stringified); else undefined. */
export function toText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

const UNIT: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
  P: 1024 ** 5,
};

/**
 * A Proxmox disk size (`size=32G`): number with an optional K/M/G/T/P suffix (base 1024,
 * optional trailing "B", "iB"), or a plain byte count, in bytes. Numbers are bytes.
 */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNIT[(m[2] ?? '').toUpperCase()];
  if (!Number.isFinite(n) || unit === undefined) return undefined;
  return Math.round(n * unit);
}

/**
 * A VM's memory setting in MiB: `8192`, `"8192"`, `"current=8192"` (PVE 8.1+ property string,
 * possibly with more keys). Absent means the Proxmox default, 512 MiB (qemu); pass
 * `absentDefault` undefined where absent means "unknown".
 */
export function parseMemoryMb(
  value: unknown,
  absentDefault: number | undefined = 512,
): number | undefined {
  if (value === undefined || value === null || value === '') return absentDefault;
  const direct = toCount(value);
  if (direct !== undefined) return direct;
  if (typeof value !== 'string') return undefined;
  const props = parsePropertyString(value);
  return toCount(props.current);
}

/**
 * A Proxmox property string (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`) as a map.
 * A part without `=` is stored under the empty key `''` for the first one (the "default key",
 * e.g. the volume in `local-lvm:vm-101-disk-0,size=32G`) and as `part: ''` after that.
 */
export function parsePropertyString(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  let first = true;
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) {
      if (first && out[''] === undefined) out[''] = part;
      else out[part] = '';
    } else {
      const key = part.slice(0, eq).trim();
      if (!(key in out)) out[key] = part.slice(eq + 1).trim();
    }
    first = false;
  }
  return out;
}

/** Tags: `;`-separated by default, `,` or spaces on old data; empty parts dropped, deduplicated. */
export function parseTags(value: unknown): string[] {
  if (Array.isArray(value)) return parseTags(value.filter((v) => typeof v === 'string').join(';'));
  if (typeof value !== 'string') return [];
  const seen = new Set<string>();
  for (const tag of value.split(/[;,\s]+/)) {
    const t = tag.trim();
    if (t !== '') seen.add(t);
  }
  return [...seen];
}

/** A MAC address as AA:BB:CC:DD:EE:FF (from `:`/`-` separated or bare hex, any case); else undefined. */
export function normaliseMac(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = value.trim().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/i.test(hex)) return undefined;
  return hex.toUpperCase().match(/.{2}/g)?.join(':');
}

/** A string of at most `max` characters, counted in code points as JSON Schema does. */
export function clampText(value: string, max: number): string {
  if (value.length <= max) return value;
  return Array.from(value).slice(0, max).join('');
}
