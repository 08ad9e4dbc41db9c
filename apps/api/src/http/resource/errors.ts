import { AppError, ConflictError } from '../errors.js';
import type { AnySpec } from './list.js';

interface PgError {
  code?: string;
  constraint?: string;
  cause?: PgError;
}

function pgError(err: unknown): PgError | null {
  const e = err as PgError;
  if (e?.code && /^[0-9A-Z]{5}$/.test(e.code)) return e;
  if (e?.cause?.code) return e.cause;
  return null;
}

/**
 * Turns a database refusal of one write into a clear 4xx naming the field: a reference to a
 * missing (or another user's) object, or a duplicate of a per-owner unique value. Returns
 * null for anything else.
 */
export function writeProblem(spec: AnySpec, err: unknown): AppError | null {
  const pg = pgError(err);
  if (!pg) return null;
  const constraint = pg.constraint ?? '';
  if (pg.code === '23503') {
    const field = Object.keys(spec.links ?? {}).find((f) => constraint.includes(f));
    if (field) {
      const what = spec.links?.[field] ?? 'object';
      return new AppError(
        422,
        'invalid_reference',
        `The ${what} given in ${field} does not exist.`,
        {
          errors: [{ path: `/body/${field}`, message: `no such ${what}` }],
        },
      );
    }
    return new AppError(422, 'invalid_reference', 'A referenced object does not exist.');
  }
  if (pg.code === '23505') {
    const field = Object.entries(spec.uniques ?? {}).find(([index]) => constraint === index)?.[1];
    if (field) {
      return new ConflictError(`Another ${spec.entity} already has this ${field}.`, 'duplicate', [
        { path: `/body/${field}`, message: 'is already used by another of your objects' },
      ]);
    }
    return new ConflictError(`An equal ${spec.entity} already exists.`, 'duplicate');
  }
  return null;
}
