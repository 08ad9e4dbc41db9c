import type {
  ExtractTablesWithRelations,
  RelationalSchemaConfig,
  TablesRelationalConfig,
} from 'drizzle-orm';
import { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Db } from './client.js';
import type { Schema } from './schema.js';
import type { Tx } from './tenant.js';

/**
 * Runs fn in a transaction whose BEGIN travels with `prelude` (statements with their values
 * as literals) in one simple-protocol query: one round trip instead of two. Commits when fn
 * resolves, rolls back when it throws; a connection whose rollback fails is destroyed, not
 * returned to the pool.
 */
export type TransactionWith = <T>(prelude: string, fn: (tx: Tx) => Promise<T>) => Promise<T>;

/** transactionWith over node-postgres: a pool client, and Drizzle's transaction over it. */
export function nodePgTransactionWith(pool: pg.Pool, db: Db): TransactionWith {
  const inner = db as unknown as {
    dialect: PgDialect;
    _: {
      schema: TablesRelationalConfig | undefined;
      fullSchema: Record<string, unknown>;
      tableNamesMap: Record<string, string>;
    };
  };
  const { dialect } = inner;
  const relational = (
    inner._.schema
      ? {
          schema: inner._.schema,
          fullSchema: inner._.fullSchema,
          tableNamesMap: inner._.tableNamesMap,
        }
      : undefined
  ) as RelationalSchemaConfig<ExtractTablesWithRelations<Schema>> | undefined;
  return async (prelude, fn) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const session = new NodePgSession(client, dialect, relational);
      const tx = new NodePgTransaction(dialect, session, relational) as unknown as Tx;
      try {
        await client.query(`BEGIN; ${prelude}`);
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // After a failed COMMIT the transaction is over; ROLLBACK then only warns.
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw err;
      }
    } finally {
      client.release(broken);
    }
  };
}
