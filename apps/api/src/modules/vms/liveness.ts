import { inArray, sql } from 'drizzle-orm';
import { type LiveUsageEntry, vmLiveness, type vms } from '../../db/schema.js';
import type { ReadContext } from '../../http/resource/spec.js';

type Row = typeof vms.$inferSelect;

/** A node's liveness row (migration 0012), parsed. */
export interface NodeLiveness {
  seenAt: Date | null;
  usage: Map<number, LiveUsageEntry>;
}

/** What the API shows of a VM's liveness: derived from its row and its node's liveness. */
export interface VmLiveness {
  lastSeenAt: Date | null;
  cpuUsage: number | null;
  memUsage: number | null;
  uptimeS: number | null;
}

/**
 * Parsed usage per node and version, kept by this API process so that a list reads a node's
 * usage document once per sync, not once per request. Only ever served after a query in the
 * caller's own tenant transaction returned that node's row at that version: row-level
 * security decides who sees it, the cache only saves the parsing.
 */
const CACHE_GUESTS = 200_000;
const cache = new Map<string, { version: number; live: NodeLiveness }>();
let cachedGuests = 0;

/** Keeps a node's parsed usage, dropping the least recently stored beyond CACHE_GUESTS. */
function remember(nodeId: string, entry: { version: number; live: NodeLiveness }): void {
  const old = cache.get(nodeId);
  if (old) {
    cachedGuests -= old.live.usage.size;
    cache.delete(nodeId);
  }
  while (cache.size > 0 && cachedGuests + entry.live.usage.size > CACHE_GUESTS) {
    const [oldestId, oldest] = cache.entries().next().value as [string, typeof entry];
    cachedGuests -= oldest.live.usage.size;
    cache.delete(oldestId);
  }
  cache.set(nodeId, entry);
  cachedGuests += entry.live.usage.size;
}

/** Per read (one list page, one GET): the nodes already looked up. */
const perRead = new WeakMap<ReadContext, Map<string, NodeLiveness | null>>();

/** Rows whose liveness the node's row speaks for: synced, on a node, with a VMID. */
const derived = (row: Row): row is Row & { nodeId: string; vmid: number } =>
  row.source === 'agent' && row.nodeId !== null && row.vmid !== null;

function parse(usage: unknown): Map<number, LiveUsageEntry> {
  const out = new Map<number, LiveUsageEntry>();
  if (!usage || typeof usage !== 'object') return out;
  for (const [key, value] of Object.entries(usage as Record<string, unknown>)) {
    if (!Array.isArray(value)) continue;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    out.set(Number(key), [num(value[0]), num(value[1]), num(value[2])]);
  }
  return out;
}

/** Loads the liveness rows of the nodes of these VMs into the read's memo (one query). */
export async function preloadLiveness(rows: Row[], ctx: ReadContext): Promise<void> {
  let memo = perRead.get(ctx);
  if (!memo) {
    memo = new Map();
    perRead.set(ctx, memo);
  }
  const known = memo;
  const nodes = [...new Set(rows.filter(derived).map((r) => r.nodeId))].filter(
    (n) => !known.has(n),
  );
  if (nodes.length === 0) return;
  const heads = await ctx.tx
    .select({ nodeId: vmLiveness.nodeId, seenAt: vmLiveness.seenAt, version: vmLiveness.version })
    .from(vmLiveness)
    .where(inArray(vmLiveness.nodeId, nodes));
  const stale = heads.filter((h) => cache.get(h.nodeId)?.version !== h.version);
  if (stale.length > 0) {
    const docs = await ctx.tx
      .select({
        nodeId: vmLiveness.nodeId,
        seenAt: vmLiveness.seenAt,
        version: vmLiveness.version,
        usage: vmLiveness.usage,
      })
      .from(vmLiveness)
      .where(
        inArray(
          vmLiveness.nodeId,
          stale.map((h) => h.nodeId),
        ),
      );
    for (const doc of docs) {
      remember(doc.nodeId, {
        version: doc.version,
        live: { seenAt: doc.seenAt, usage: parse(doc.usage) },
      });
    }
  }
  for (const node of nodes) {
    const head = heads.find((h) => h.nodeId === node);
    const entry = head ? cache.get(node) : undefined;
    // The version read in this transaction decides: a document read at another version
    // (a sync committed in between) is not used for this one.
    known.set(
      node,
      head && entry && entry.version === head.version
        ? { seenAt: head.seenAt, usage: entry.live.usage }
        : null,
    );
  }
}

/**
 * A VM's last_seen_at and usage as the API shows them. A synced VM that is not absent was in
 * its node's last complete sync: seen then, with the usage of that sync. Any other VM (entered
 * by hand, absent, or of a node never synced since migration 0012) shows its own row.
 */
export async function vmLivenessOf(row: Row, ctx: ReadContext): Promise<VmLiveness> {
  const own: VmLiveness = {
    lastSeenAt: row.lastSeenAt,
    cpuUsage: row.cpuUsage,
    memUsage: row.memUsage,
    uptimeS: row.uptimeS,
  };
  if (!derived(row) || row.absentSince !== null) return own;
  if (!perRead.get(ctx)?.has(row.nodeId)) await preloadLiveness([row], ctx);
  const live = perRead.get(ctx)?.get(row.nodeId);
  if (!live) return own;
  const seen =
    live.seenAt && (!row.lastSeenAt || live.seenAt > row.lastSeenAt) ? live.seenAt : row.lastSeenAt;
  const usage = live.usage.get(row.vmid);
  return usage
    ? { lastSeenAt: seen, cpuUsage: usage[0], memUsage: usage[1], uptimeS: usage[2] }
    : { ...own, lastSeenAt: seen };
}

/** The VM's last_seen_at in SQL, as vmLivenessOf derives it (for sorting). */
export const lastSeenExpr = (t: typeof vms) => sql`CASE
  WHEN ${t.source} = 'agent' AND ${t.absentSince} IS NULL AND ${t.vmid} IS NOT NULL
  THEN greatest(${t.lastSeenAt}, (SELECT l.seen_at FROM vm_liveness l WHERE l.node_id = ${t.nodeId}))
  ELSE ${t.lastSeenAt} END`;
