import { eq, getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/tenant.js';
import type { ResourceTable } from './spec.js';

/**
 * Every column of the table plus its row version as text: the row_version column (migration
 * 0008), which moves on every change of this row and nothing else (xmin, used before, counted
 * every tenant's writes).
 */
export function withVersion(table: ResourceTable): Record<string, unknown> {
  return {
    ...getTableColumns(table),
    _version: sql<string>`${sql.identifier(getTableName(table))}.row_version::text`,
  };
}

export type Versioned<Row> = Row & { _version: string };

export async function loadRow<Row>(
  tx: Tx,
  table: ResourceTable,
  id: string,
  options: { forUpdate?: boolean; where?: SQL } = {},
): Promise<Versioned<Row> | undefined> {
  const query = tx
    .select(withVersion(table) as never)
    .from(table as never)
    .where(options.where ?? eq(table.id, id));
  const rows = (options.forUpdate ? await query.for('update') : await query) as Versioned<Row>[];
  return rows[0];
}

/** Strong ETag of a row version. */
export const etagOf = (version: string): string => `"${version}"`;

/** The version an If-Match header asks for, or null when absent or "*". */
export function ifMatchVersion(header: string | undefined): string | null {
  if (!header || header.trim() === '*') return null;
  const m = /^\s*(?:W\/)?"([^"]*)"\s*$/.exec(header);
  return m ? (m[1] ?? '') : header.trim();
}

export function stripVersion<Row>(row: Versioned<Row>): Row {
  const { _version: _, ...rest } = row as Versioned<Row> & Record<string, unknown>;
  return rest as Row;
}

/**
 * Maps rows to DTOs one after the other. A mapper may query the request's transaction (a
 * data key on first use), and a transaction is one connection, which runs one query at a
 * time: started together, the queries would only queue up in the driver (deprecated in pg 8,
 * refused by pg 9).
 */
export async function mapInOrder<T, U>(items: T[], fn: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}
