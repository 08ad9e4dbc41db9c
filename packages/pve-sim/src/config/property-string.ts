/**
 * Proxmox property strings: `key=value,key2=value2`. A first item without `=` is the
 * default key's value (`agent: 1,fstrim_cloned_disks=1`, `memory: 8192`).
 */
export function parsePropertyString(text: string, defaultKey?: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(',').forEach((part, i) => {
    if (!part) return;
    const eq = part.indexOf('=');
    if (eq === -1) {
      out.set(i === 0 && defaultKey ? defaultKey : part, i === 0 && defaultKey ? part : '');
      return;
    }
    out.set(part.slice(0, eq), part.slice(eq + 1));
  });
  return out;
}

const SIZE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `size=` values: K/M/G/T with base 1024, bytes without a unit. */
export function parseSize(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] ? (SIZE_UNITS[m[2]] ?? 1) : 1));
}

/** Proxmox booleans: 1/0, on/off, yes/no, true/false. */
export function parseBoolean(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const t = text.toLowerCase();
  if (t === '1' || t === 'on' || t === 'yes' || t === 'true') return true;
  if (t === '0' || t === 'off' || t === 'no' || t === 'false') return false;
  return undefined;
}
