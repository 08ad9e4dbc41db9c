import { hash32, type Prng } from '../prng.js';

/** Default prefix of MACs Proxmox generates (Proxmox Server Solutions OUI). */
export const PROXMOX_OUI = 'BC:24:11';

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

function suffix(value: number): string {
  return [(value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].map(hex2).join(':');
}

/** A bijection on 24-bit integers: distinct (vmid, nic) pairs get distinct MAC suffixes. */
function mix24(value: number, seed: number): number {
  let x = value & 0xffffff;
  x = (x * 0x2c1b3d) % 0x1000000;
  x ^= x >>> 11;
  x = (x * 0x1d9f5b) % 0x1000000;
  x ^= x >>> 13;
  return (x ^ (hash32(seed) & 0xffffff)) >>> 0;
}

/**
 * MAC of NIC `nic` of a scenario guest: unique within the scenario (for VMIDs below 2^20).
 * `legacy` guests carry a random locally administered prefix, as before Proxmox 8.1.
 */
export function scenarioMac(seed: number, vmid: number, nic: number, legacy: boolean): string {
  const tail = suffix(mix24(vmid * 16 + nic, seed));
  if (!legacy) return `${PROXMOX_OUI}:${tail}`;
  const h = hash32(seed, vmid, 0x1e9ac7);
  const prefix = [((h >>> 16) & 0xfc) | 0x02, (h >>> 8) & 0xff, h & 0xff].map(hex2).join(':');
  return `${prefix}:${tail}`;
}

/** A random Proxmox MAC for a guest created at run time. */
export function randomMac(prng: Prng): string {
  return `${PROXMOX_OUI}:${suffix(prng.int(0, 0xffffff))}`;
}
