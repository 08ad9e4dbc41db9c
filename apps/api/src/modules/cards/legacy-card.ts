/**
 * The earlier AccountDB's cards (docs/api.md#cards-from-the-earlier-accountdb): its table
 * `cards(id, code1, code2, redeemed, failed, lock, perm_lock, owner_id)` mapped onto a card,
 * and back. Its flags become a status and tags, losslessly:
 * - status: redeemed (redeemed) > failed (a non-empty failure message, kept exactly as
 *   failure_reason) > disabled (perm_lock or lock) > available;
 * - every flag the status does not express is kept as a tag of its own name (`lock`,
 *   `perm_lock`): lock alone is disabled + tag lock, perm_lock alone is disabled.
 * A redeemed card that also had a failure message keeps it as failure_reason.
 * Back: redeemed = status redeemed; failed = the failure_reason of a failed or redeemed card,
 * else '';
 * perm_lock = (disabled and no tag lock) or tag perm_lock; lock = tag lock.
 */

/** The columns of the earlier table, in its order (a psql `\copy … CSV HEADER` header). */
export const LEGACY_CARD_COLUMNS = [
  'id',
  'code1',
  'code2',
  'redeemed',
  'failed',
  'lock',
  'perm_lock',
  'owner_id',
] as const;

/** The flags kept as tags when the status does not say them. */
export const CARD_FLAG_TAGS = ['lock', 'perm_lock'] as const;

export type LegacyCardStatus = 'available' | 'redeemed' | 'failed' | 'disabled';

/** A card create body from one earlier row; status and failure_reason as the flags say. */
export interface LegacyCardBody {
  code1: string;
  code2?: string;
  status: LegacyCardStatus;
  failure_reason: string | null;
  tags: string[];
}

/** One earlier row that cannot be a card; the message names the column. */
export class LegacyCardRowError extends Error {}

const MAX_CODE = 500;
const MAX_FAILURE = 500;

/**
 * A boolean column as node-postgres (true/false) or psql's CSV (`t`/`f`) writes it; `true`,
 * `false`, `1` and `0` too. NULL or absent is the column's default, false.
 */
export function legacyBoolean(value: unknown, column: string): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 't' || text === 'true' || text === '1') return true;
  if (text === 'f' || text === 'false' || text === '0') return false;
  throw new LegacyCardRowError(`${column} is not a boolean (t or f)`);
}

function text(value: unknown, column: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new LegacyCardRowError(`${column} is not text`);
  return value;
}

/**
 * One row of the earlier `cards` table (values as node-postgres returns them, or as the
 * strings of a psql CSV dump) as a card body. Its id and owner_id are not part of the card:
 * a re-import matches cards by code. Throws LegacyCardRowError naming the column.
 */
export function legacyCardRowBody(row: Record<string, unknown>): LegacyCardBody {
  const code1 = (text(row.code1, 'code1') ?? '').trim();
  if (!code1) throw new LegacyCardRowError('code1 is empty');
  const code2 = (text(row.code2, 'code2') ?? '').trim();
  for (const [column, code] of [
    ['code1', code1],
    ['code2', code2],
  ] as const) {
    if (code.length > MAX_CODE) {
      throw new LegacyCardRowError(`${column} is longer than ${MAX_CODE} characters`);
    }
  }
  const failed = text(row.failed, 'failed') ?? '';
  if (failed.length > MAX_FAILURE) {
    throw new LegacyCardRowError(`failed is longer than ${MAX_FAILURE} characters`);
  }
  const redeemed = legacyBoolean(row.redeemed, 'redeemed');
  const lock = legacyBoolean(row.lock, 'lock');
  const permLock = legacyBoolean(row.perm_lock, 'perm_lock');
  const status: LegacyCardStatus = redeemed
    ? 'redeemed'
    : failed !== ''
      ? 'failed'
      : permLock || lock
        ? 'disabled'
        : 'available';
  const tags: string[] = [];
  // disabled alone says perm_lock; lock needs its tag whatever the status, and then
  // perm_lock needs its own too.
  if (lock) tags.push('lock');
  if (permLock && (status !== 'disabled' || lock)) tags.push('perm_lock');
  return {
    code1,
    ...(code2 ? { code2 } : {}),
    status,
    // A redeemed card keeps a failure message it had too.
    failure_reason: failed === '' ? null : failed,
    tags,
  };
}

/** The earlier row's flags of a card (its status, failure_reason and tags). */
export function legacyCardFlags(card: {
  status: string;
  failure_reason: string | null;
  tags: readonly string[];
}): { redeemed: boolean; failed: string; lock: boolean; perm_lock: boolean } {
  const lock = card.tags.includes('lock');
  return {
    redeemed: card.status === 'redeemed',
    failed:
      card.status === 'failed' || card.status === 'redeemed' ? (card.failure_reason ?? '') : '',
    lock,
    perm_lock: (card.status === 'disabled' && !lock) || card.tags.includes('perm_lock'),
  };
}
