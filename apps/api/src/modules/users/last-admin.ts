import { and, asc, eq, ne } from 'drizzle-orm';
import { users } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { ConflictError } from '../../http/errors.js';

/**
 * The last-admin rule: AccountDB always keeps one active admin. The users routes and
 * `accountdb migrate-legacy` (an earlier user changed since the last run) apply it alike.
 */

/**
 * Locks every active admin row, in id order, before a change that may take an admin away.
 * Taken first, in one order, it serialises such changes without deadlocks: two admins
 * demoting each other at once would otherwise each lock their target and then wait for the
 * other's (a deadlock, answered 500); this way the second waits, then gets 409 last_admin.
 */
export async function lockActiveAdmins(tx: Tx): Promise<void> {
  await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.isActive, true)))
    .orderBy(asc(users.id))
    .for('update');
}

/** Refuses a change that would leave no active admin. Locks the admin rows to serialise. */
export async function ensureAnotherActiveAdmin(tx: Tx, userId: string): Promise<void> {
  const others = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.isActive, true), ne(users.id, userId)))
    .for('update');
  if (others.length === 0) {
    throw new ConflictError(
      'This is the last active admin; make another admin first.',
      'last_admin',
    );
  }
}
