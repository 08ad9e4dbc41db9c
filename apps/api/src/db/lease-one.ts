import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from './tenant.js';

/**
 * Picks one row matching `where`, locks it with FOR UPDATE SKIP LOCKED and updates it in the
 * same statement: concurrent callers each get a different row and never wait on each other.
 * Returns the updated row, or null when none is free.
 */
export async function leaseOne<Row>(
  tx: Tx,
  options: {
    table: PgTable & { id: PgColumn };
    where: SQL;
    orderBy: SQL[];
    set: Record<string, unknown>;
  },
): Promise<Row | null> {
  const { table } = options;
  const candidate = tx
    .select({ id: table.id })
    .from(table as never)
    .where(options.where)
    .orderBy(...options.orderBy)
    .limit(1)
    .for('update', { skipLocked: true });
  const [row] = (await tx
    .update(table)
    .set(options.set as never)
    .where(sql`${table.id} = (${candidate})`)
    .returning()) as Row[];
  return row ?? null;
}
