import { and, arrayContains, eq, type SQL, sql } from 'drizzle-orm';
import { leaseOne } from '../../db/lease-one.js';
import { accounts } from '../../db/schema.js';
import { rowsOf, type Tx } from '../../db/tenant.js';
import { effectiveStatusSql } from './status.js';

type Row = typeof accounts.$inferSelect;

export interface ClaimFilter {
  service?: string | undefined;
  tags?: string[] | undefined;
}

/**
 * Leases one claimable account to a caller: active now, no running lease, matching the
 * filter, of the given owner. The row is picked and locked with FOR UPDATE SKIP LOCKED, so
 * concurrent claimers each get a different account and never wait on each other; the least
 * recently claimed account goes first.
 */
export async function claimAccount(
  tx: Tx,
  options: { ownerId: string; claimedBy: string; leaseSeconds: number; filter: ClaimFilter },
): Promise<Row | null> {
  const { filter } = options;
  const conditions: Array<SQL | undefined> = [
    eq(accounts.ownerId, options.ownerId),
    sql`${effectiveStatusSql} = 'active'`,
    sql`(${accounts.claimedUntil} IS NULL OR ${accounts.claimedUntil} <= now())`,
  ];
  if (filter.service) conditions.push(eq(accounts.service, filter.service.toLowerCase()));
  if (filter.tags?.length) conditions.push(arrayContains(accounts.tags, filter.tags));
  return leaseOne<Row>(tx, {
    table: accounts,
    where: and(...conditions) as SQL,
    orderBy: [sql`${accounts.claimedAt} ASC NULLS FIRST`, sql`${accounts.id}`],
    set: {
      claimedBy: options.claimedBy,
      claimedAt: sql`now()`,
      claimedUntil: sql`now() + make_interval(secs => ${options.leaseSeconds})`,
    },
  });
}

/** Ends a lease. With holder given, only that holder's lease is ended. */
export async function releaseAccount(
  tx: Tx,
  options: { id: string; holder?: string | undefined },
): Promise<{ row: Row | null; heldBy: string | null }> {
  const [current] = rowsOf<{ claimed_by: string | null; held: boolean }>(
    await tx.execute(
      sql`SELECT claimed_by, (claimed_until > now()) AS held FROM accounts WHERE id = ${options.id} FOR UPDATE`,
    ),
  );
  if (!current) return { row: null, heldBy: null };
  const heldBy = current.held ? current.claimed_by : null;
  if (options.holder !== undefined && heldBy !== null && heldBy !== options.holder) {
    return { row: null, heldBy };
  }
  const [row] = await tx
    .update(accounts)
    .set({ claimedBy: null, claimedAt: null, claimedUntil: null })
    .where(eq(accounts.id, options.id))
    .returning();
  return { row: row ?? null, heldBy };
}
