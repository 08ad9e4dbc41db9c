import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/tenant.js';

/**
 * Removes a user's second factors and recovery codes through the owner-only function of
 * migration 0018 (ends pending login challenges, clears the lockout, writes the audit entry).
 * `db` must be the schema owner's connection. Null: no such user.
 */
export async function resetMfa(
  db: Db,
  login: string,
): Promise<{ userId: string; factors: number } | null> {
  const [row] = rowsOf<{ user_id: string; factors: number }>(
    await db.execute(sql`SELECT * FROM auth_reset_mfa(${login})`),
  );
  return row ? { userId: row.user_id, factors: Number(row.factors) } : null;
}
