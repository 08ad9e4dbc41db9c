import { TENANT_SQL, tenantParams } from './db.mjs';

// The race the claim endpoint exists to avoid: read the next free account, then lease it,
// in two statements without FOR UPDATE SKIP LOCKED. Same conditions and order as the API's
// claimAccount() (apps/api/src/modules/accounts/claim-account.ts).
const PICK = `SELECT id FROM accounts
WHERE owner_id = $1
  AND (CASE WHEN status = 'locked' AND locked_until <= now() THEN 'active' ELSE status END) = 'active'
  AND (claimed_until IS NULL OR claimed_until <= now())
ORDER BY claimed_at ASC NULLS FIRST, id
LIMIT 1`;
const LEASE = `UPDATE accounts SET claimed_by = $2, claimed_at = now(),
  claimed_until = now() + make_interval(secs => 600) WHERE id = $1`;

/**
 * `clients` connections claim for `seconds`, each in its own transaction with the tenant
 * context; returns every claimed id (duplicates included) and the elapsed time.
 */
export async function naiveClaims(db, user, { clients, seconds }) {
  const ids = [];
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const context = await tenantParams(db, { userId: user.id, role: 'user' });
  const worker = async (w) => {
    const client = await db.connect();
    try {
      while (performance.now() < deadline) {
        await client.query('BEGIN');
        await client.query(TENANT_SQL, context);
        const { rows } = await client.query(PICK, [user.id]);
        if (!rows[0]) {
          await client.query('ROLLBACK');
          break;
        }
        await client.query(LEASE, [rows[0].id, `naive-${w}`]);
        await client.query('COMMIT');
        ids.push(rows[0].id);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  return { ids, seconds: (performance.now() - t0) / 1000 };
}
