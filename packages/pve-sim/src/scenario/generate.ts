import type { GuestType, SimGuest, SimNode } from '../model.js';
import { createPrng, hash32 } from '../prng.js';
import type { PveVersion } from '../version.js';
import { buildGuest } from './build-guest.js';
import { applyEdgeCase, EDGE_CASES } from './edge-cases.js';
import { scenarioMac } from './macs.js';
import { CPU_MODELS } from './pools.js';

export interface ScenarioOptions {
  guests: number;
  nodes: number;
  seed: number;
  now: number;
  version: PveVersion;
  /** How long the "fresh" edge-case guest lacks its name in /cluster/resources. */
  nameDelayMs: number;
}

export interface Scenario {
  nodes: SimNode[];
  guests: SimGuest[];
}

/** Fixed base for `meta` ctime so that configs (and digests) do not depend on the clock. */
const CTIME_BASE = 1_700_000_000;
const GIB = 1024 ** 3;

/** A SHA-256-looking fingerprint, upper-case hex pairs (other nodes' certificates). */
export function fakeFingerprint(seed: number, label: string): string {
  const prng = createPrng(hash32(seed, ...Array.from(label, (c) => c.charCodeAt(0))));
  return Array.from({ length: 32 }, () => prng.hex(1).toUpperCase()).join(':');
}

function buildNodes(options: ScenarioOptions): SimNode[] {
  const prng = createPrng(hash32(options.seed, 0x40de));
  return Array.from({ length: options.nodes }, (_, i) => {
    const name = `pve${i + 1}`;
    return {
      name,
      nodeid: i + 1,
      ip: `10.0.0.${11 + i}`,
      local: i === 0,
      maxcpu: prng.pick([32, 48, 64, 96, 128]),
      maxmem: prng.pick([128, 256, 384, 512, 1024]) * GIB,
      maxdisk: prng.pick([100, 200, 500]) * GIB,
      bootedAt: options.now - prng.int(3, 200) * 86_400_000,
      cpuModel: prng.pick(CPU_MODELS),
      sslFingerprint: fakeFingerprint(options.seed, name),
    };
  });
}

/**
 * A cluster of `nodes` nodes and `guests` guests (about 3/4 QEMU, 1/4 LXC), the same for the
 * same seed. The first guests of a shuffled order become the edge cases of EDGE_CASES; the
 * rest are random but realistic. VMIDs start at 100 with a few gaps (deleted guests).
 */
export function generateScenario(options: ScenarioOptions): Scenario {
  const { seed, now, version } = options;
  const nodes = buildNodes(options);
  const prng = createPrng(seed);
  const guests: SimGuest[] = [];
  const contextFor = (vmid: number, node: SimNode, variety: boolean) => ({
    prng,
    vmid,
    node,
    now,
    version,
    ctime: CTIME_BASE - prng.int(0, 3 * 365) * 86_400,
    mac: (nic: number) => scenarioMac(seed, vmid, nic, variety && hash32(seed, vmid) % 20 === 0),
    variety,
  });
  let vmid = 100;
  for (let i = 0; i < options.guests; i++) {
    if (prng.chance(0.04)) vmid += prng.int(1, 3);
    const type: GuestType = prng.chance(0.25) ? 'lxc' : 'qemu';
    guests.push(buildGuest(type, contextFor(vmid, prng.pick(nodes), true)));
    vmid++;
  }
  const order = prng.shuffle(guests.map((_, i) => i));
  const featured = new Map<string, SimGuest>();
  EDGE_CASES.forEach((edge, k) => {
    const index = order[k];
    const slot = index === undefined ? undefined : guests[index];
    if (index === undefined || !slot) return;
    const node = nodes[k % nodes.length] ?? nodes[0];
    if (!node) return;
    const guest = buildGuest(edge.type, contextFor(slot.vmid, node, false));
    applyEdgeCase(edge, guest, {
      now,
      nameDelayMs: options.nameDelayMs,
      version,
      featured,
      mac: (nic) => scenarioMac(seed, slot.vmid, nic, false),
      legacyMac: (nic) => scenarioMac(seed, slot.vmid, nic, true),
    });
    featured.set(edge.name, guest);
    guests[index] = guest;
  });
  return { nodes, guests };
}
