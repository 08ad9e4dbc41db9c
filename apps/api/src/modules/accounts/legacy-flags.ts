import type { AccountStatus } from './schemas.js';

/**
 * The earlier AccountDB's account flags (`prime`, `lock`, `perm_lock`) as AccountDB's status
 * and tags, losslessly, and back (the shared decision of issue 13):
 * - perm_lock → status disabled; else lock → status locked with no end; else active;
 * - prime → tag `prime`;
 * - a flag the status does not express (lock together with perm_lock) → a tag of its name.
 * Back: prime = tag prime; perm_lock = status disabled or banned, or tag perm_lock;
 * lock = status locked, or tag lock.
 */

export interface LegacyFlags {
  prime?: boolean | undefined;
  lock?: boolean | undefined;
  perm_lock?: boolean | undefined;
}

/** Tags that stand for a flag; the earlier format's own tags are the others. */
export const FLAG_TAGS = ['prime', 'lock', 'perm_lock'] as const;

const REASON = {
  disabled: 'perm_lock in the earlier AccountDB',
  locked: 'lock in the earlier AccountDB',
} as const;

/**
 * Status fields and tags of the given flags, or null when none is given (a record without
 * flag columns leaves an existing account's status and flag tags as they are).
 */
export function flagsToState(
  flags: LegacyFlags,
): { status: AccountStatus; status_reason: string | null; flagTags: string[] } | null {
  const { prime, lock, perm_lock } = flags;
  if (prime === undefined && lock === undefined && perm_lock === undefined) return null;
  const status: AccountStatus = perm_lock ? 'disabled' : lock ? 'locked' : 'active';
  const flagTags: string[] = [];
  if (prime) flagTags.push('prime');
  if (perm_lock && lock) flagTags.push('lock');
  return {
    status,
    status_reason: status === 'active' ? null : REASON[status],
    flagTags,
  };
}

/** The flags of an account in AccountDB. */
export function stateToFlags(account: { status: string; tags: readonly string[] }): {
  prime: boolean;
  lock: boolean;
  perm_lock: boolean;
} {
  const tags = new Set(account.tags.map((t) => t.toLowerCase()));
  return {
    prime: tags.has('prime'),
    lock: account.status === 'locked' || tags.has('lock'),
    perm_lock:
      account.status === 'disabled' || account.status === 'banned' || tags.has('perm_lock'),
  };
}

/** The tags of an account without those that stand for a flag. */
export const plainTags = (tags: readonly string[]): string[] =>
  tags.filter((t) => !(FLAG_TAGS as readonly string[]).includes(t.toLowerCase()));
