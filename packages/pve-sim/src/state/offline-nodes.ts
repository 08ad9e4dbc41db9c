import type { SimGuest } from '../model.js';
import { unknownResourceEntry, vmResourceEntry } from '../views/cluster-resource.js';

export interface OfflineTiming {
  /** After going offline, how long its guests still look live before they freeze. */
  staleAfterMs: number;
  /** After going offline, when its guests become `{id, vmid, node, type, status: "unknown"}`. */
  unknownAfterMs: number;
}

interface OfflineNode extends OfflineTiming {
  since: number;
  /** /cluster/resources entries as they were when the node's statistics froze. */
  snapshot: Map<number, Record<string, unknown>> | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Nodes taken offline. /cluster/resources is answered from the cluster filesystem, so an
 * offline node's guests stay listed: first with their last statistics (stale), then, once
 * those expired, as `unknown` without name or numbers.
 */
export class OfflineNodes {
  private readonly nodes = new Map<string, OfflineNode>();

  constructor(private readonly guestsOn: (node: string) => Iterable<SimGuest>) {}

  has(node: string): boolean {
    return this.nodes.has(node);
  }

  info(node: string): { since: number; staleAfterMs: number; unknownAfterMs: number } | undefined {
    const n = this.nodes.get(node);
    return n && { since: n.since, staleAfterMs: n.staleAfterMs, unknownAfterMs: n.unknownAfterMs };
  }

  takeOffline(node: string, now: number, timing: OfflineTiming): void {
    const existing = this.nodes.get(node);
    if (existing) {
      existing.unknownAfterMs = timing.unknownAfterMs;
      return;
    }
    const record: OfflineNode = { ...timing, since: now, snapshot: undefined, timer: undefined };
    this.nodes.set(node, record);
    if (timing.staleAfterMs <= 0) {
      this.freeze(node, record, now);
    } else {
      record.timer = setTimeout(
        () => this.freeze(node, record, now + timing.staleAfterMs),
        timing.staleAfterMs,
      );
      record.timer.unref();
    }
  }

  bringOnline(node: string): void {
    const record = this.nodes.get(node);
    if (record?.timer) clearTimeout(record.timer);
    this.nodes.delete(node);
  }

  /** The /cluster/resources entry of a guest on an offline node (undefined: node online). */
  entry(guest: SimGuest, now: number): Record<string, unknown> | undefined {
    const record = this.nodes.get(guest.node);
    if (!record) return undefined;
    if (now - record.since >= record.unknownAfterMs) return unknownResourceEntry(guest);
    if (!record.snapshot) return vmResourceEntry(guest, now);
    return record.snapshot.get(guest.vmid) ?? unknownResourceEntry(guest);
  }

  dispose(): void {
    for (const node of [...this.nodes.keys()]) this.bringOnline(node);
  }

  private freeze(node: string, record: OfflineNode, at: number): void {
    record.timer = undefined;
    record.snapshot = new Map();
    for (const guest of this.guestsOn(node)) {
      record.snapshot.set(guest.vmid, vmResourceEntry(guest, at));
    }
  }
}
