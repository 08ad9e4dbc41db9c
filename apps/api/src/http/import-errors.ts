import { LIMITS } from './limits.js';

export interface RowError {
  row: number;
  message: string;
}

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

  /** The answer's fields: errors (the first ones), errors_total and errors_truncated. */
  answer(): { errors: RowError[]; errors_total: number; errors_truncated: boolean } {
    return {
      errors: this.list,
      errors_total: this.total,
      errors_truncated: this.total > this.list.length,
    };
  }
}

/** Items in batches of `size`, pulled lazily from a generator. */
export function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Lets the event loop serve other requests between two batches of a long import. */
export const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
