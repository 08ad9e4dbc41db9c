import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { DataKeyStore } from '../crypto/data-keys.js';
import type { Tx } from '../db/tenant.js';
import { LIMITS } from './limits.js';

/**
 * What the imports share: records taken 500 at a time, and a bounded list of per-row errors
 * (every error counted, the first ones listed), answered in the same fields by every import.
 */

/** Where an import writes: the request's transaction, for an owner, with the data keys. */
export interface ImportTarget {
  tx: Tx;
  request: FastifyRequest;
  keys: DataKeyStore;
  ownerId: string;
}

export interface RowError {
  row: number;
  message: string;
}

/** Records read, checked and written together (one lookup, one insert statement). */
const BATCH = 500;

/**
 * The per-row errors of an import, bounded: every error is counted, the first `keep` (by row)
 * are listed. Errors arrive batch by batch, each batch's rows after the previous batch's.
 */
export class ImportErrors {
  readonly list: RowError[] = [];
  total = 0;

  constructor(private readonly keep: number = LIMITS.import.errors) {}

  /** One batch's errors, in any order. */
  add(errors: RowError[]): void {
    errors.sort((a, b) => a.row - b.row);
    this.total += errors.length;
    for (const e of errors) {
      if (this.list.length >= this.keep) break;
      this.list.push(e);
    }
  }

  /** The answer's fields: failed, errors (the first ones), errors_total, errors_truncated. */
  answer(): {
    failed: number;
    errors: RowError[];
    errors_total: number;
    errors_truncated: boolean;
  } {
    return {
      failed: this.total,
      errors: this.list,
      errors_total: this.total,
      errors_truncated: this.total > this.list.length,
    };
  }
}

/** The answer fields of ImportErrors.answer(), for an import's response schema. */
export function importErrorFields(what: 'Records' | 'Lines') {
  const listed = LIMITS.import.errors;
  return {
    failed: Type.Integer({ description: `${what} not imported, each with one error` }),
    errors: Type.Array(Type.Object({ row: Type.Integer(), message: Type.String() }), {
      maxItems: listed,
      description: `The first ${listed} errors, by ${what === 'Lines' ? 'line' : 'row'}`,
    }),
    errors_total: Type.Integer({ description: 'Every error, listed or not (equals failed)' }),
    errors_truncated: Type.Boolean({ description: 'More errors than the list shows' }),
  };
}

/**
 * Runs `importBatch` on the items 500 at a time, pulled lazily (memory holds one batch), and
 * collects each batch's row errors; between two batches the event loop serves other requests.
 */
export async function importInBatches<T>(
  items: Iterable<T>,
  importBatch: (batch: T[]) => Promise<RowError[]>,
): Promise<ImportErrors> {
  const errors = new ImportErrors();
  let batch: T[] = [];
  const flush = async () => {
    errors.add(await importBatch(batch));
    batch = [];
    await new Promise((resolve) => setImmediate(resolve));
  };
  for (const item of items) {
    batch.push(item);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return errors;
}
