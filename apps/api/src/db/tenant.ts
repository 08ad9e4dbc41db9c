import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import type { PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import type { Schema } from './schema.js';

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
  | { kind: 'anonymous' };

export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** The context a transaction is opened with, as set_config() values. */
export function tenantSettings(actor: Actor): { userId: string; role: string; nodeId: string } {
  switch (actor.kind) {
    case 'user':
      return { userId: actor.userId, role: actor.role, nodeId: '' };
    case 'node':
      return { userId: actor.ownerId, role: 'node', nodeId: actor.nodeId };
    case 'anonymous':
      return { userId: '', role: 'anonymous', nodeId: '' };
  }
}

/**
 * Runs fn in one transaction that first drops to the accountdb_app role (subject to
 * row-level security) and sets the actor's context. All settings are transaction-local
 * (set_config(…, true)), so nothing survives into the next use of a pooled connection.
 */
export async function withTenant<T>(db: Db, actor: Actor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const s = tenantSettings(actor);
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT set_config('role', 'accountdb_app', true), set_config('app.user_id', ${s.userId}, true), set_config('app.role', ${s.role}, true), set_config('app.node_id', ${s.nodeId}, true)`,
    );
    return fn(tx);
  });
}

/** Rows of a raw query, the same shape on both drivers. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
