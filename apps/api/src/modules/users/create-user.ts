import { users } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { type AuditContext, writeAudit } from '../audit/write-audit.js';

/**
 * Creates a user in an admin's tenant transaction, audited as `user.create`: POST /users and
 * `accountdb migrate-legacy` (which brings the earlier system's password hashes, and inactive
 * users). A taken username or e-mail fails with the database's unique violation (userConflict
 * turns it into a 409).
 */
export async function createUser(
  tx: Tx,
  audit: AuditContext,
  user: {
    username: string;
    email: string;
    passwordHash: string;
    role: 'admin' | 'user';
    isActive?: boolean;
    /** Extra audit details (never a secret). */
    details?: Record<string, unknown>;
  },
): Promise<typeof users.$inferSelect> {
  const [row] = await tx
    .insert(users)
    .values({
      username: user.username,
      email: user.email,
      passwordHash: user.passwordHash,
      role: user.role,
      ...(user.isActive === false ? { isActive: false } : {}),
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  await writeAudit(tx, audit, {
    action: 'user.create',
    entityType: 'user',
    entityId: row.id,
    ownerId: row.id,
    details: { username: user.username, role: row.role, ...user.details },
  });
  return row;
}
