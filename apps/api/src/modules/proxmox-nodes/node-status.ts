import { sql } from 'drizzle-orm';
import { proxmoxNodes } from '../../db/schema.js';

type Row = typeof proxmoxNodes.$inferSelect;
export type NodeStatus = Row['status'];

/** Sync intervals without a report before a node shows stale, and offline. */
export const STALE_AFTER_INTERVALS = 3;
export const OFFLINE_AFTER_INTERVALS = 10;

/** A node's status as it stands now, judged by the server's clock. */
export function effectiveNodeStatus(
  row: Pick<Row, 'status' | 'lastSeenAt' | 'syncIntervalS'>,
  now = Date.now(),
): NodeStatus {
  if (!row.lastSeenAt) return 'pending';
  const silentS = (now - row.lastSeenAt.getTime()) / 1000;
  if (silentS > row.syncIntervalS * OFFLINE_AFTER_INTERVALS) return 'offline';
  if (silentS > row.syncIntervalS * STALE_AFTER_INTERVALS) return 'stale';
  return row.status === 'error' ? 'error' : 'online';
}

export const effectiveNodeStatusSql = sql<NodeStatus>`(CASE
  WHEN ${proxmoxNodes.lastSeenAt} IS NULL THEN 'pending'
  WHEN ${proxmoxNodes.lastSeenAt} < now() - make_interval(secs => ${proxmoxNodes.syncIntervalS} * ${sql.raw(String(OFFLINE_AFTER_INTERVALS))}) THEN 'offline'
  WHEN ${proxmoxNodes.lastSeenAt} < now() - make_interval(secs => ${proxmoxNodes.syncIntervalS} * ${sql.raw(String(STALE_AFTER_INTERVALS))}) THEN 'stale'
  WHEN ${proxmoxNodes.status} = 'error' THEN 'error'
  ELSE 'online' END)`;
