import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/tenant.js';

/**
 * Sets a user's password through the owner-only function of migration 0004 (ends their
 * sessions, clears lockouts, writes the audit entry). `db` must be the schema owner's
 * connection: the function is not granted to the request role. Null: no such user.
 */
export async function resetPassword(
  db: Db,
  options: { login: string; passwordHash: string },
): Promise<string | null> {
  const [row] = rowsOf<{ id: string | null }>(
    await db.execute(
      sql`SELECT auth_reset_password(${options.login}, ${options.passwordHash}) AS id`,
    ),
  );
  return row?.id ?? null;
}
