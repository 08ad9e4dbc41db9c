import { isIP } from 'node:net';
import { normaliseMac, toCount, toText } from './parse-values.js';

/** One network interface as a guest reports it. */
export interface GuestInterface {
  name: string | undefined;
  mac: string | undefined;
  addresses: { ip: string; family: 4 | 6; prefix: number | undefined }[];
}

/** `fe80::1%eth0` → `fe80::1`; `10.0.0.5/24` → `10.0.0.5`; lower case; undefined if not an IP. */
export function cleanIp(
  value: unknown,
): { ip: string; family: 4 | 6; prefix: number | undefined } | undefined {
  const text = toText(value);
  if (!text) return undefined;
  const [addr, prefix] = text.split('/');
  const ip = (addr ?? '').split('%')[0]?.trim().toLowerCase() ?? '';
  const family = isIP(ip);
  if (family !== 4 && family !== 6) return undefined;
  return { ip, family, prefix: prefix === undefined ? undefined : toCount(prefix) };
}

function addressList(raw: unknown): GuestInterface['addresses'] {
  const out: GuestInterface['addresses'] = [];
  if (!Array.isArray(raw)) return out;
  for (const a of raw) {
    if (!a || typeof a !== 'object') continue;
    const r = a as Record<string, unknown>;
    const parsed = cleanIp(r['ip-address']);
    if (!parsed) continue;
    const prefix = toCount(r.prefix) ?? parsed.prefix;
    out.push({ ...parsed, prefix });
  }
  return out;
}

/**
 * `GET …/qemu/{vmid}/agent/network-get-interfaces`: `data` is `{result: [...]}` (the QGA
 * answer); tolerate a bare list. Interfaces may lack `ip-addresses` or `hardware-address`.
 */
export function parseAgentInterfaces(data: unknown): GuestInterface[] {
  let list: unknown = data;
  if (list && typeof list === 'object' && !Array.isArray(list) && 'result' in list) {
    list = (list as { result: unknown }).result;
  }
  if (!Array.isArray(list)) return [];
  const out: GuestInterface[] = [];
  for (const i of list) {
    if (!i || typeof i !== 'object') continue;
    const r = i as Record<string, unknown>;
    out.push({
      name: toText(r.name),
      mac: normaliseMac(r['hardware-address']),
      addresses: addressList(r['ip-addresses']),
    });
  }
  return out;
}

/**
 * `GET /nodes/{node}/lxc/{vmid}/interfaces` (newer versions; a stopped container answers
 * null): entries with `hwaddr`, `ip-addresses` (types inet/inet6) and/or `inet`/`inet6` strings.
 */
export function parseLxcInterfaces(data: unknown): GuestInterface[] {
  if (!Array.isArray(data)) return [];
  const out: GuestInterface[] = [];
  for (const i of data) {
    if (!i || typeof i !== 'object') continue;
    const r = i as Record<string, unknown>;
    const addresses = addressList(r['ip-addresses']);
    for (const key of ['inet', 'inet6']) {
      const v = r[key];
      for (const s of Array.isArray(v) ? v : [v]) {
        const parsed = cleanIp(s);
        if (parsed && !addresses.some((a) => a.ip === parsed.ip)) addresses.push(parsed);
      }
    }
    out.push({
      name: toText(r.name),
      mac: normaliseMac(r.hwaddr ?? r['hardware-address']),
      addresses,
    });
  }
  return out;
}
