import type { GuestInterface } from './parse-interfaces.js';

/**
 * Which of a guest's addresses are worth storing: not loopback, not link-local, not on a
 * container bridge inside the guest (docker0, veth*, br-*, cni*, flannel*, Calico's
 * ee:ee:ee:ee:ee:ee), not unspecified. IPv4 first, then IPv6, each in interface order,
 * deduplicated, at most `max`.
 */

const NOISE_INTERFACE =
  /^(lo|docker\d*|veth.*|br-.*|cni.*|flannel.*|cali.*|vxlan\.calico|tunl\d+|kube-ipvs\d+|virbr\d+.*)$/i;
const NOISE_MAC = new Set(['EE:EE:EE:EE:EE:EE', '00:00:00:00:00:00']);

export function isNoiseInterface(iface: GuestInterface): boolean {
  if (iface.name && NOISE_INTERFACE.test(iface.name)) return true;
  return iface.mac !== undefined && NOISE_MAC.has(iface.mac);
}

/** Loopback, link-local, unspecified or multicast: never a guest's address. */
export function isNoiseAddress(ip: string, family: 4 | 6): boolean {
  if (family === 4) {
    const [a, b] = ip.split('.').map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254) || (a !== undefined && a >= 224);
  }
  const v = ip.toLowerCase();
  if (v === '::1' || v === '::') return true;
  if (/^fe[89ab][0-9a-f]?:/.test(v)) return true; // fe80::/10
  if (v.startsWith('ff')) return true; // multicast
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  return mapped ? isNoiseAddress(mapped[1] as string, 4) : false;
}

export function selectIps(interfaces: GuestInterface[], max = 100): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const iface of interfaces) {
    if (isNoiseInterface(iface)) continue;
    for (const a of iface.addresses) {
      if (isNoiseAddress(a.ip, a.family)) continue;
      const list = a.family === 4 ? v4 : v6;
      if (!v4.includes(a.ip) && !v6.includes(a.ip)) list.push(a.ip);
    }
  }
  return [...v4, ...v6].slice(0, max);
}
