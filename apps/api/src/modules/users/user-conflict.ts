import { ConflictError } from '../../http/errors.js';

/**
 * Maps a unique-violation on users to a 409 naming the field, without the constraint name;
 * anything else is returned unchanged.
 */
export function userConflict(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; message?: string; cause?: unknown };
  const inner = (e.code ? e : (e.cause as typeof e | undefined)) ?? e;
  if (inner.code !== '23505') return err;
  const text = `${inner.constraint ?? ''} ${inner.message ?? ''}`;
  const field = text.includes('email') ? 'email' : 'username';
  return new ConflictError(`This ${field} is already taken.`, `${field}_taken`, [
    { path: `/body/${field}`, message: 'is already taken' },
  ]);
}
