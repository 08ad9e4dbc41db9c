/**
 * Typed values of the earlier AccountDB's records, read the same way from its JSON upload,
 * its CSV upload (every cell a string), a CSV dump of its tables (`t`/`f`, NULL as an empty
 * cell) and node-postgres rows (bigint columns as strings, booleans as booleans). A value
 * that is not what its field holds throws a LegacyFieldError naming the field, never the
 * value (it may be a secret).
 */

export class LegacyFieldError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field} ${reason}`);
  }
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Empty: absent, null, or a text of only white space (a NULL of a CSV dump is ''). */
export const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** A text field: a string as it is, a number as its digits; empty → undefined. */
export function legacyText(v: unknown, field: string): string | undefined {
  if (isEmpty(v)) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  throw new LegacyFieldError(field, 'must be a string');
}

const INTEGER = /^-?\d{1,30}$/;

/**
 * An integer field (Unix seconds, server_time, status…): a number when it fits in 2^53-1,
 * else the exact digits as a string. Accepts numbers, bigints and strings of digits.
 */
export function legacyInteger(v: unknown, field: string): number | string | undefined {
  if (isEmpty(v)) return undefined;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    throw new LegacyFieldError(field, 'must be a whole number');
  }
  const text = typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.trim() : null;
  if (text === null || !INTEGER.test(text))
    throw new LegacyFieldError(field, 'must be a whole number');
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text.replace(/^(-?)0+(?=\d)/, '$1');
}

/** Digits kept exactly as written (SteamID64, serial numbers up to 20 digits). */
export function legacyDigits(v: unknown, field: string): string | undefined {
  if (isEmpty(v)) return undefined;
  const text =
    typeof v === 'string'
      ? v.trim()
      : typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))
        ? String(v)
        : null;
  if (text === null || !/^\d{1,30}$/.test(text))
    throw new LegacyFieldError(field, 'must be a string of digits');
  return text;
}

const TRUE = new Set(['true', 't', '1', 'yes', 'y']);
const FALSE = new Set(['false', 'f', '0', 'no', 'n']);

/** A flag: JSON true/false, or t/f, true/false, 1/0, yes/no as text; empty → undefined. */
export function legacyBoolean(v: unknown, field: string): boolean | undefined {
  if (isEmpty(v)) return undefined;
  if (typeof v === 'boolean') return v;
  const text =
    typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : '';
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new LegacyFieldError(field, 'must be true or false');
}

/** Latest accepted creation time: now plus this much clock skew. */
export const CREATED_AT_SKEW_MS = 5 * 60_000;

/** Unix seconds (as any integer form) → an ISO date-time, checked to be a real date. */
export function legacyUnixTime(v: unknown, field: string): string | undefined {
  const seconds = legacyInteger(v, field);
  if (seconds === undefined) return undefined;
  const ms = typeof seconds === 'number' ? seconds * 1000 : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > Date.now() + CREATED_AT_SKEW_MS)
    throw new LegacyFieldError(field, 'must be Unix seconds between 1970 and now');
  return new Date(ms).toISOString();
}

/** A list of tags: a JSON array of strings, or text split at ; , or |. */
export function legacyTags(v: unknown, field: string): string[] | undefined {
  if (isEmpty(v)) return undefined;
  if (Array.isArray(v)) {
    if (!v.every((t) => typeof t === 'string'))
      throw new LegacyFieldError(field, 'must be a list of strings');
    return v as string[];
  }
  if (typeof v === 'string')
    return v
      .split(/[;,|]/)
      .map((t) => t.trim())
      .filter(Boolean);
  throw new LegacyFieldError(field, 'must be a list of strings');
}

/** Leaves out undefined values. */
export function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
