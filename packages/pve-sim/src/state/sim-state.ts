import { configDigest } from '../config/config-file.js';
import { SimInputError } from '../errors.js';
import { GUEST_TYPES, type GuestType, type SimGuest, type SimNode } from '../model.js';
import { createPrng, hash32, type Prng } from '../prng.js';
import { buildGuest } from '../scenario/build-guest.js';
import type { Scenario } from '../scenario/generate.js';
import { randomMac } from '../scenario/macs.js';
import type { PveVersion } from '../version.js';
import { vmResourceEntry } from '../views/cluster-resource.js';
import { Drift, type DriftSettings } from './drift.js';
import { type FaultSettings, FaultState } from './faults.js';
import { applyGuestPatch, type GuestPatch, validateGuestPatch } from './guest-patch.js';
import { type GuestSummary, guestSummary } from './guest-summary.js';
import { OfflineNodes, type OfflineTiming } from './offline-nodes.js';
import { RequestStats, type StatsSnapshot } from './request-stats.js';

/** Delays and expiry times; tests shorten them. */
export interface SimTiming {
  /** Delay before a 401 answer (Proxmox: 3 s). */
  authDelayMs: number;
  /** Delay before "QEMU guest agent is not running" (≈3 s). */
  agentNotRunningMs: number;
  /** Delay before "… got timeout" (≈5 s). */
  agentTimeoutMs: number;
  /** Default for nodes taken offline: how long their guests still look live. */
  staleAfterMs: number;
  /** Default for nodes taken offline: when their guests become `unknown` (5 min). */
  unknownAfterMs: number;
  /** How long a new guest lacks `name` in /cluster/resources (up to 10 s). */
  nameDelayMs: number;
  /** How long login tickets and CSRF prevention tokens stay valid (Proxmox: 2 h). */
  ticketLifetimeMs: number;
}

export interface NewGuest extends GuestPatch {
  /** Default: the lowest free VMID from 100 (like /cluster/nextid). */
  vmid?: number;
  type?: GuestType;
  /** Overrides SimTiming.nameDelayMs for this guest. */
  nameDelayMs?: number;
}

export interface NodeSummary {
  node: string;
  local: boolean;
  online: boolean;
  guests: number;
  offline_since: number | null;
  stale_after_ms: number | null;
  unknown_after_ms: number | null;
}

export interface SimStateOptions {
  version: PveVersion;
  seed: number;
  scenario: Scenario;
  timing: SimTiming;
  clock?: () => number;
}

const VMID_MIN = 100;
const VMID_MAX = 999_999_999;

/**
 * Everything the simulator holds: nodes, guests (O(1) by VMID, indexed by node), offline
 * nodes, faults, drift and request counts. Tests drive it directly or through /_sim.
 */
export class SimState {
  readonly version: PveVersion;
  readonly timing: SimTiming;
  readonly faults: FaultState;
  readonly stats = new RequestStats();
  readonly clock: () => number;
  /** Bumped on every change of the cluster (the /cluster/status `version`). */
  clusterVersion = 1;
  private readonly nodeMap = new Map<string, SimNode>();
  private readonly guestMap = new Map<number, SimGuest>();
  private readonly byNode = new Map<string, Set<number>>();
  private readonly offline: OfflineNodes;
  private readonly drift: Drift;
  private readonly prng: Prng;

  constructor(options: SimStateOptions) {
    this.version = options.version;
    this.timing = { ...options.timing };
    this.clock = options.clock ?? Date.now;
    this.prng = createPrng(hash32(options.seed, 0x7e57));
    this.faults = new FaultState(options.seed);
    for (const node of options.scenario.nodes) {
      this.nodeMap.set(node.name, node);
      this.byNode.set(node.name, new Set());
    }
    for (const guest of options.scenario.guests) this.insert(guest);
    this.offline = new OfflineNodes((node) => this.guestsOn(node));
    this.drift = new Drift({
      prng: createPrng(hash32(options.seed, 0xd21f7)),
      eligible: () => this.driftable(),
      setStatus: (guest, status) => this.patchGuest(guest.vmid, { status }),
    });
  }

  // ── nodes ──────────────────────────────────────────────────────────────────

  nodes(): SimNode[] {
    return [...this.nodeMap.values()];
  }

  node(name: string): SimNode | undefined {
    return this.nodeMap.get(name);
  }

  localNode(): SimNode {
    const local = this.nodes().find((n) => n.local) ?? this.nodes()[0];
    if (!local) throw new Error('the scenario has no nodes');
    return local;
  }

  isOnline(node: string): boolean {
    return this.nodeMap.has(node) && !this.offline.has(node);
  }

  /**
   * Takes a node offline (its API calls answer 595; its /cluster/resources entries go
   * stale, then unknown) or back online. The local node cannot go offline: use the
   * `down` fault for an unreachable API.
   */
  setNodeOnline(name: string, online: boolean, timing: Partial<OfflineTiming> = {}): NodeSummary {
    const node = this.nodeMap.get(name);
    if (!node) throw new SimInputError(404, `no node '${name}'`);
    if (online) {
      this.offline.bringOnline(name);
    } else {
      if (node.local) {
        throw new SimInputError(409, `${name} serves the API; use the "down" fault instead`);
      }
      for (const [field, value] of Object.entries(timing)) {
        if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
          throw new SimInputError(400, `${field} must be a non-negative number`);
        }
      }
      this.offline.takeOffline(name, this.clock(), {
        staleAfterMs: timing.staleAfterMs ?? this.timing.staleAfterMs,
        unknownAfterMs: timing.unknownAfterMs ?? this.timing.unknownAfterMs,
      });
    }
    this.clusterVersion++;
    return this.nodeSummary(node);
  }

  nodeSummary(node: SimNode): NodeSummary {
    const info = this.offline.info(node.name);
    return {
      node: node.name,
      local: node.local,
      online: !info,
      guests: this.byNode.get(node.name)?.size ?? 0,
      offline_since: info?.since ?? null,
      stale_after_ms: info?.staleAfterMs ?? null,
      unknown_after_ms: info?.unknownAfterMs ?? null,
    };
  }

  // ── guests ─────────────────────────────────────────────────────────────────

  get guestCount(): number {
    return this.guestMap.size;
  }

  guests(): IterableIterator<SimGuest> {
    return this.guestMap.values();
  }

  guest(vmid: number): SimGuest | undefined {
    return this.guestMap.get(vmid);
  }

  *guestsOn(node: string): Generator<SimGuest> {
    for (const vmid of this.byNode.get(node) ?? []) {
      const guest = this.guestMap.get(vmid);
      if (guest) yield guest;
    }
  }

  /** The config digest (SHA-1 of the serialised config), cached until the config changes. */
  digest(guest: SimGuest): string {
    guest.digest ??= configDigest(guest.config);
    return guest.digest;
  }

  addGuest(spec: NewGuest = {}): SimGuest {
    const now = this.clock();
    const vmid = spec.vmid ?? this.nextFreeVmid();
    if (!Number.isInteger(vmid) || vmid < VMID_MIN || vmid > VMID_MAX) {
      throw new SimInputError(400, `vmid must be an integer between ${VMID_MIN} and ${VMID_MAX}`);
    }
    if (this.guestMap.has(vmid)) throw new SimInputError(409, `VM ${vmid} already exists`);
    const type = spec.type ?? 'qemu';
    if (!GUEST_TYPES.includes(type)) throw new SimInputError(400, 'type must be qemu or lxc');
    const nodeName = spec.node ?? this.localNode().name;
    const node = this.nodeMap.get(nodeName);
    if (!node) throw new SimInputError(400, `no node '${nodeName}'`);
    const nameDelayMs = spec.nameDelayMs ?? this.timing.nameDelayMs;
    if (!Number.isFinite(nameDelayMs) || nameDelayMs < 0) {
      throw new SimInputError(400, 'name_delay_ms must be a non-negative number');
    }
    const guest = buildGuest(type, {
      prng: this.prng,
      vmid,
      node,
      now,
      version: this.version,
      ctime: Math.floor(now / 1000),
      mac: () => randomMac(this.prng),
      variety: false,
    });
    guest.startedAt = now;
    guest.createdAt = now;
    guest.nameVisibleAt = now + nameDelayMs;
    const { vmid: _vmid, type: _type, nameDelayMs: _delay, node: _node, ...patch } = spec;
    validateGuestPatch(guest, patch, new Set(this.nodeMap.keys()));
    applyGuestPatch(guest, patch, now);
    this.insert(guest);
    this.clusterVersion++;
    return guest;
  }

  removeGuest(vmid: number): boolean {
    const guest = this.guestMap.get(vmid);
    if (!guest) return false;
    this.guestMap.delete(vmid);
    this.byNode.get(guest.node)?.delete(vmid);
    this.clusterVersion++;
    return true;
  }

  patchGuest(vmid: number, patch: GuestPatch): SimGuest {
    const guest = this.requireGuest(vmid);
    validateGuestPatch(guest, patch, new Set(this.nodeMap.keys()));
    if (applyGuestPatch(guest, patch, this.clock())) this.clusterVersion++;
    if (patch.node !== undefined && patch.node !== guest.node) {
      this.byNode.get(guest.node)?.delete(vmid);
      guest.node = patch.node;
      this.byNode.get(guest.node)?.add(vmid);
      this.clusterVersion++;
    }
    return guest;
  }

  /**
   * Deletes a guest and creates a different one under the same VMID (new smbios1 uuid,
   * vmgenid, MACs and ctime; by default the same type, node and name).
   */
  reuseVmid(vmid: number, spec: Omit<NewGuest, 'vmid'> = {}): SimGuest {
    const old = this.requireGuest(vmid);
    this.removeGuest(vmid);
    try {
      return this.addGuest({
        type: old.type,
        node: old.node,
        name: old.derived.name ?? null,
        ...spec,
        vmid,
      });
    } catch (err) {
      this.insert(old);
      throw err;
    }
  }

  summary(guest: SimGuest, withConfig = false): GuestSummary {
    return guestSummary(guest, this.digest(guest), withConfig);
  }

  // ── /cluster/resources ─────────────────────────────────────────────────────

  /** Every guest's /cluster/resources entry (offline nodes: stale, then unknown). */
  vmResources(now: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const guest of this.guestMap.values()) {
      out.push(this.offline.entry(guest, now) ?? vmResourceEntry(guest, now));
    }
    return out;
  }

  // ── faults, drift, stats ───────────────────────────────────────────────────

  setFaults(changes: Partial<FaultSettings>): Readonly<FaultSettings> {
    return this.faults.set(changes);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setTiming(changes: Partial<SimTiming>): Readonly<SimTiming> {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      if (!(key in this.timing)) throw new SimInputError(400, `unknown timing '${key}'`);
      if (!Number.isFinite(value) || value < 0) {
        throw new SimInputError(400, `${key} must be a non-negative number`);
      }
    }
    Object.assign(
      this.timing,
      Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
    );
    return this.timing;
  }

  startDrift(settings: DriftSettings): void {
    this.drift.start(settings);
  }

  stopDrift(): void {
    this.drift.stop();
  }

  driftSettings(): Readonly<DriftSettings> {
    return this.drift.settings;
  }

  /** One drift step now; returns the VMIDs whose status flipped. */
  driftStep(fraction: number): number[] {
    return this.drift.step(fraction);
  }

  statsSnapshot(): StatsSnapshot {
    return this.stats.snapshot();
  }

  resetStats(): void {
    this.stats.reset();
  }

  /** Stops timers (drift, offline-node freezes). */
  dispose(): void {
    this.drift.stop();
    this.offline.dispose();
  }

  private requireGuest(vmid: number): SimGuest {
    const guest = this.guestMap.get(vmid);
    if (!guest) throw new SimInputError(404, `no guest ${vmid}`);
    return guest;
  }

  private insert(guest: SimGuest): void {
    this.guestMap.set(guest.vmid, guest);
    let set = this.byNode.get(guest.node);
    if (!set) {
      set = new Set();
      this.byNode.set(guest.node, set);
    }
    set.add(guest.vmid);
  }

  private nextFreeVmid(): number {
    let vmid = VMID_MIN;
    while (this.guestMap.has(vmid)) vmid++;
    return vmid;
  }

  private driftable(): SimGuest[] {
    const out: SimGuest[] = [];
    for (const guest of this.guestMap.values()) {
      if (!guest.derived.template && !guest.config.lock && this.isOnline(guest.node))
        out.push(guest);
    }
    return out;
  }
}
