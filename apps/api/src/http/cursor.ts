import { BadRequestError } from './errors.js';

/**
 * What a cursor value must be: any string or number, or text the database casts to this SQL
 * type without an error. A cursor is client input, and a value the cast refuses must answer
 * invalid_cursor, not a database error (or a 500 for one out of range).
 */
export type SqlKind =
  | 'text'
  | 'uuid'
  | 'timestamptz'
  | 'integer'
  | 'bigint'
  | 'double precision'
  | 'boolean';
type Kind = 'string' | 'number' | SqlKind;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** timestamptz as the database prints it with DateStyle ISO (which the driver assumes too). */
const TIMESTAMPTZ =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::[0-5]\d){0,2}( BC)?$/;
const DOUBLE = /^-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

function isTimestamp(value: string): boolean {
  const m = TIMESTAMPTZ.exec(value);
  if (!m) return value === 'infinity' || value === '-infinity';
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset = 0] = m
    .slice(1, 8)
    .map(Number);
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(m[8] ? 1 - year : year, month, 0);
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= lastDay.getUTCDate() &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offset <= 15
  );
}

function fits(kind: Kind, value: unknown): boolean {
  if (kind === 'number') return typeof value === 'number';
  if (typeof value !== 'string') return false;
  switch (kind) {
    case 'string':
      return true;
    case 'text':
      return !value.includes('\u0000');
    case 'uuid':
      return UUID.test(value);
    case 'boolean':
      return value === 'true' || value === 'false';
    case 'integer':
    case 'bigint': {
      if (!/^-?\d{1,20}$/.test(value)) return false;
      const limit = kind === 'integer' ? 2n ** 31n : 2n ** 63n;
      return BigInt(value) >= -limit && BigInt(value) < limit;
    }
    case 'double precision': {
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return true;
      const n = Number(value);
      // Out of range both ways: beyond the largest double, or a non-zero that rounds to 0.
      return (
        DOUBLE.test(value) &&
        Number.isFinite(n) &&
        (n !== 0 || !/[1-9]/.test(value.replace(/e.*$/i, '')))
      );
    }
    case 'timestamptz':
      return isTimestamp(value);
  }
}

/** Keyset cursors: the sort values of the last row of a page, opaque to clients. */
export function encodeCursor(values: Array<string | number>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor<K extends Kind[]>(
  cursor: string,
  kinds: [...K],
): { [I in keyof K]: K[I] extends 'number' ? number : string } {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = null;
  }
  if (
    !Array.isArray(values) ||
    values.length !== kinds.length ||
    values.some((v, i) => !fits(kinds[i] ?? 'string', v))
  ) {
    throw new BadRequestError(
      'The cursor is not valid; start again without it.',
      'invalid_cursor',
      [{ path: '/querystring/cursor', message: 'is not a cursor this list issued' }],
    );
  }
  return values as never;
}
