import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import type { PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';
import type { Schema } from './schema.js';
import { type ContextClaims, type SignedContext, signContext } from './tenant-context.js';

/**
 * Who a database transaction acts for. Every request has exactly one; it is the only
 * input to withTenant(), which is the only door to tenant tables.
 */
export type Actor =
  | {
      kind: 'user';
      userId: string;
      username: string;
      role: 'admin' | 'user';
      /** How the request authenticated. */
      via: 'session' | 'token';
      /** Login session (refresh-token family) of a session actor. */
      sessionId?: string;
      /** Personal access token of a token actor. */
      tokenId?: string;
      scopes: ReadonlyArray<'read' | 'write'>;
    }
  | { kind: 'node'; nodeId: string; ownerId: string }
  | { kind: 'anonymous' }
  /**
   * The password-login path before the user is known: the only context that gets a
   * password hash (auth_login_begin, migration 0007).
   */
  | { kind: 'login' };

export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** The context a transaction is opened with. */
export function tenantSettings(actor: Actor): ContextClaims {
  switch (actor.kind) {
    case 'user':
      return { userId: actor.userId, role: actor.role, nodeId: '' };
    case 'node':
      return { userId: actor.ownerId, role: 'node', nodeId: actor.nodeId };
    case 'anonymous':
      return { userId: '', role: 'anonymous', nodeId: '' };
    case 'login':
      return { userId: '', role: 'login', nodeId: '' };
  }
}

/** What withTenant() needs of a Database: the request connections and the context key. */
export type TenantDatabase = Pick<Database, 'db' | 'contextKey' | 'transactionWith'>;

const CLAIMS_TEXT = /^[A-Za-z0-9|_-]{1,200}$/;

/**
 * The context statement with its values as literals, for the one round trip of
 * transactionWith(). The claims are signContext()'s (UUIDs, a role name, digits, '|'); they
 * are checked against that alphabet all the same, and the signature goes as hex.
 */
export function contextStatement(signed: SignedContext): string {
  if (!CLAIMS_TEXT.test(signed.claims)) throw new Error('tenant context: unexpected claims text');
  const claims = `'${signed.claims.replace(/'/g, "''")}'`;
  const signature = `decode('${signed.signature.toString('hex')}', 'hex')`;
  return `SELECT set_config('role', 'accountdb_app', true), set_config('app.ctx', app_context_seal(${claims}, ${signature}), true)`;
}

/**
 * Runs fn in one transaction that first drops to the accountdb_app role (subject to
 * row-level security) and sets the actor's context: claims signed with the database's
 * context key, which app_context_seal() verifies and binds to this transaction (migration
 * 0007). Both settings are transaction-local (set_config(…, true)), so nothing survives into
 * the next use of a pooled connection; a statement that changes them by hand sees no row.
 * On PostgreSQL, BEGIN and the context statement are sent as one query (one round trip),
 * with the signed claims and signature as literals; PGlite takes Drizzle's transaction.
 */
export async function withTenant<T>(
  database: TenantDatabase,
  actor: Actor,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const signed = signContext(await database.contextKey(), tenantSettings(actor));
  // On PostgreSQL, BEGIN and the context go together in one round trip.
  if (database.transactionWith) return database.transactionWith(contextStatement(signed), fn);
  return database.db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT set_config('role', 'accountdb_app', true), set_config('app.ctx', app_context_seal(${signed.claims}, ${signed.signature}), true)`,
    );
    return fn(tx);
  });
}

/**
 * Inside a withTenant() transaction, acts from the next statement on as another actor: a
 * context signed and sealed exactly as withTenant() does (an unsigned change sees no row).
 * For work that must act as several users in one transaction: the dry run of
 * `accountdb migrate-legacy` creates a user as an admin and then writes that user's rows as
 * them, and rolls it all back.
 */
export async function switchActor(database: TenantDatabase, tx: Tx, actor: Actor): Promise<void> {
  const signed = signContext(await database.contextKey(), tenantSettings(actor));
  await tx.execute(
    sql`SELECT set_config('app.ctx', app_context_seal(${signed.claims}, ${signed.signature}), true)`,
  );
}

/** Rows of a raw query, the same shape on both drivers. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
