import type { Tx } from '../../db/tenant.js';
import type { FieldError } from '../errors.js';
import { writeProblem } from './errors.js';
import type { AnySpec } from './list.js';
import type { WriteContext } from './spec.js';

export interface BulkRowError {
  row: number;
  errors: FieldError[];
}

export interface PreparedRow {
  /** Position of the row in the request, for its errors. */
  index: number;
  values: Record<string, unknown>;
  ctx: WriteContext;
}

const CHUNK = 500;

/**
 * Inserts prepared rows in chunks of one statement each; returns the new ids in order.
 * A chunk the database refuses is retried row by row, each in a savepoint, so the failing
 * rows are named in errors (with paths under /body/items/<index>) and the others written.
 */
export async function insertRows(
  tx: Tx,
  spec: AnySpec,
  rows: PreparedRow[],
  errors: BulkRowError[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < rows.length; start += CHUNK) {
    ids.push(...(await insertChunk(tx, spec, rows.slice(start, start + CHUNK), errors)));
  }
  return ids;
}

async function insertChunk(
  tx: Tx,
  spec: AnySpec,
  chunk: PreparedRow[],
  errors: BulkRowError[],
): Promise<string[]> {
  const insert = async (sp: Tx, rows: typeof chunk) => {
    const inserted = (await sp
      .insert(spec.table)
      .values(rows.map((r) => r.values) as never)
      .returning()) as Array<{ id: string; ownerId: string }>;
    for (const [i, row] of inserted.entries()) {
      const ctx = rows[i]?.ctx;
      if (ctx && spec.afterWrite)
        await spec.afterWrite({ before: null, after: row, ctx: { ...ctx, tx: sp } });
    }
    return inserted.map((r) => r.id);
  };
  try {
    return await tx.transaction((sp) => insert(sp as Tx, chunk));
  } catch {
    const ids: string[] = [];
    for (const row of chunk) {
      try {
        ids.push(...(await tx.transaction((sp) => insert(sp as Tx, [row]))));
      } catch (err) {
        const problem = writeProblem(spec, err);
        if (!problem) throw err;
        errors.push({
          row: row.index,
          errors: (problem.extra.errors ?? [{ path: '/body', message: problem.message }]).map(
            (e) => ({
              path: e.path.replace(/^\/body/, `/body/items/${row.index}`),
              message: e.message,
            }),
          ),
        });
      }
    }
    return ids;
  }
}
