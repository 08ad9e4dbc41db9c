import { and, eq, type SQL, sql } from 'drizzle-orm';
import { accounts, auditLog } from '../../db/schema.js';
import { rowsOf, type Tx } from '../../db/tenant.js';
import { type AuditContext, auditRow } from '../audit/write-audit.js';
import { activeNowSql } from './status.js';

type Row = typeof accounts.$inferSelect;

export interface ClaimFilter {
  service?: string | undefined;
  tags?: string[] | undefined;
}

export interface ClaimOptions {
  ownerId: string;
  claimedBy: string;
  leaseSeconds: number;
  filter: ClaimFilter;
  /** Who claims, and the details of the account.claim audit entry written with the claim. */
  audit: { context: AuditContext; details: Record<string, unknown> };
}

/**
 * The accounts a claim may pick: the owner's, active now, no running lease, matching the
 * filter. Values are placeholders, so the statement's text depends only on which filters
 * are given (see claimAccount).
 */
function claimable(filter: ClaimFilter): SQL {
  const conditions: SQL[] = [
    eq(accounts.ownerId, sql.placeholder('ownerId')),
    activeNowSql,
    sql`(${accounts.claimedUntil} IS NULL OR ${accounts.claimedUntil} <= now())`,
  ];
  if (filter.service) conditions.push(eq(accounts.service, sql.placeholder('service')));
  if (filter.tags?.length) conditions.push(sql`${accounts.tags} @> ${sql.placeholder('tags')}`);
  return and(...conditions) as SQL;
}

/**
 * Leases one claimable account to a caller and writes its account.claim audit entry, in one
 * statement: the row is picked and locked with FOR UPDATE SKIP LOCKED (concurrent claimers
 * each get a different account and never wait on each other; the least recently claimed
 * goes first, along accounts_owner_claimable_idx, migration 0016), updated, and the audit
 * entry is inserted from the same pick, so there is one when and only when an account was
 * claimed. Row-level security applies to all three parts. Returns the claimed row, or null.
 *
 * The statement is a named prepared statement (one per filter combination): PostgreSQL
 * parses and plans it once per connection instead of on every claim, which was half of the
 * database's CPU per claim (bench/README.md). The plan holds for every tenant: the policies
 * read the tenant context when the statement runs, and the role is always accountdb_app.
 */
export async function claimAccount(tx: Tx, options: ClaimOptions): Promise<Row | null> {
  const { filter } = options;
  // LIMIT 1 is written out (Drizzle's .limit() makes it a parameter): with an unknown limit
  // PostgreSQL never picks the cached generic plan and plans the statement on every claim.
  const picked = tx.$with('picked', { id: accounts.id, ownerId: accounts.ownerId }).as(
    sql`SELECT ${accounts.id}, ${accounts.ownerId} FROM ${accounts} WHERE ${claimable(filter)}
      ORDER BY ${accounts.claimedAt} ASC NULLS FIRST, ${accounts.id} LIMIT 1 FOR UPDATE SKIP LOCKED`,
  );
  // The same entry writeAudit() would write (auditRow), with the account from the pick.
  const entry = auditRow(options.audit.context, {
    action: 'account.claim',
    entityType: 'account',
    details: options.audit.details,
  });
  const p = (name: string) => sql.placeholder(name);
  const audited = tx.$with('claim_audit', {}).as(
    sql`INSERT INTO ${auditLog} (owner_id, actor_type, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, details)
      SELECT ${picked.ownerId}, ${p('actorType')}::text, ${p('actorId')}::uuid, ${p('actorName')}::text, 'account.claim', 'account',
        ${picked.id}::text, ${p('ip')}::text, ${p('requestId')}::text, ${p('details')}::jsonb
      FROM ${picked}`,
  );
  const name = `claim_account${filter.service ? '_service' : ''}${filter.tags?.length ? '_tags' : ''}`;
  const [row] = await tx
    .with(picked, audited)
    .update(accounts)
    .set({
      claimedBy: sql`${p('claimedBy')}::text`,
      claimedAt: sql`now()`,
      claimedUntil: sql`now() + make_interval(secs => ${p('leaseSeconds')}::int)`,
    })
    .where(sql`${accounts.id} = (SELECT ${picked.id} FROM ${picked})`)
    .returning()
    .prepare(name)
    .execute({
      ownerId: options.ownerId,
      service: filter.service?.toLowerCase(),
      tags: filter.tags,
      claimedBy: options.claimedBy,
      leaseSeconds: options.leaseSeconds,
      actorType: entry.actorType,
      actorId: entry.actorId,
      actorName: entry.actorName,
      ip: entry.ip,
      requestId: entry.requestId,
      details: JSON.stringify(entry.details),
    });
  return row ?? null;
}

/**
 * Ends a lease and writes its account.release audit entry (details.held_by: the holder whose
 * lease was running, else null), in one statement: the row is locked (FOR UPDATE), released
 * when allowed, and the entry inserted for it. With holder given, only that holder's lease,
 * or no running lease, is ended. When nothing was released, a second read under the same
 * row lock and the same now() tells a missing account (row null, heldBy null) from another
 * holder's lease (row null, heldBy that holder).
 */
export async function releaseAccount(
  tx: Tx,
  options: { id: string; holder?: string | undefined; audit: { context: AuditContext } },
): Promise<{ row: Row | null; heldBy: string | null }> {
  const p = (name: string) => sql.placeholder(name);
  const locked = tx.$with('locked_row', {}).as(
    sql`SELECT ${accounts.id}, ${accounts.ownerId},
      CASE WHEN ${accounts.claimedUntil} > now() THEN ${accounts.claimedBy} END AS held_by
      FROM ${accounts} WHERE ${accounts.id} = ${p('id')} FOR UPDATE`,
  );
  const allowed = tx.$with('allowed', {}).as(
    sql`SELECT id, owner_id, held_by FROM ${locked}
      WHERE ${p('holder')}::text IS NULL OR held_by IS NULL OR held_by = ${p('holder')}::text`,
  );
  const entry = auditRow(options.audit.context, { action: 'account.release' });
  const audited = tx.$with('release_audit', {}).as(
    sql`INSERT INTO ${auditLog} (owner_id, actor_type, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, details)
      SELECT owner_id, ${p('actorType')}::text, ${p('actorId')}::uuid, ${p('actorName')}::text, 'account.release', 'account',
        id::text, ${p('ip')}::text, ${p('requestId')}::text, jsonb_build_object('held_by', held_by) || ${p('details')}::jsonb
      FROM ${allowed}`,
  );
  const [row] = await tx
    .with(locked, allowed, audited)
    .update(accounts)
    .set({ claimedBy: null, claimedAt: null, claimedUntil: null })
    .where(sql`${accounts.id} = (SELECT id FROM ${allowed})`)
    .returning()
    .prepare('release_account')
    .execute({
      id: options.id,
      holder: options.holder ?? null,
      actorType: entry.actorType,
      actorId: entry.actorId,
      actorName: entry.actorName,
      ip: entry.ip,
      requestId: entry.requestId,
      details: JSON.stringify(entry.details),
    });
  if (row) return { row, heldBy: null };
  const [refused] = rowsOf<{ held_by: string | null }>(
    await tx.execute(
      sql`SELECT CASE WHEN claimed_until > now() THEN claimed_by END AS held_by FROM accounts WHERE id = ${options.id} FOR UPDATE`,
    ),
  );
  return { row: null, heldBy: refused?.held_by ?? null };
}
