import { sql } from 'drizzle-orm';
import { accountStatusEvents, accounts } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import type { AccountStatus } from './schemas.js';

type Row = typeof accounts.$inferSelect;

/** The status as it stands now: a lock whose locked_until has passed is active again. */
export function effectiveStatus(
  row: Pick<Row, 'status' | 'lockedUntil'>,
  now = Date.now(),
): AccountStatus {
  if (row.status === 'locked' && row.lockedUntil && row.lockedUntil.getTime() <= now)
    return 'active';
  return row.status;
}

/** The same rule in SQL, for filters and sorting. */
export const effectiveStatusSql = sql<AccountStatus>`(CASE WHEN ${accounts.status} = 'locked' AND ${accounts.lockedUntil} <= now() THEN 'active' ELSE ${accounts.status} END)`;

/**
 * effectiveStatusSql = 'active', written as the planner can estimate it and match it to the
 * partial claim index (status IN ('active', 'locked'), migration 0016): the CASE form is
 * estimated at 0.5% of the rows, which made the planner sort a bitmap scan's result instead of
 * walking the claim index for a tag filter.
 */
export const activeNowSql = sql`(${accounts.status} = 'active' OR (${accounts.status} = 'locked' AND ${accounts.lockedUntil} <= now()))`;

/** A lease is held while claimed_until is in the future. */
export const leaseActive = (row: Pick<Row, 'claimedUntil'>, now = Date.now()) =>
  row.claimedUntil !== null && row.claimedUntil.getTime() > now;

/** Appends to the status history when a write changed the (effective) status. */
export async function recordStatusChange(
  tx: Tx,
  options: { before: Row | null; after: Row; reason?: string | null },
): Promise<void> {
  const from = options.before ? effectiveStatus(options.before) : null;
  const to = effectiveStatus(options.after);
  const lockChanged =
    options.before !== null &&
    to === 'locked' &&
    options.before.lockedUntil?.getTime() !== options.after.lockedUntil?.getTime();
  if (from === to && !lockChanged) return;
  await tx.insert(accountStatusEvents).values({
    ownerId: options.after.ownerId,
    accountId: options.after.id,
    fromStatus: from,
    toStatus: to,
    reason: options.reason ?? options.after.statusReason ?? null,
  });
}
