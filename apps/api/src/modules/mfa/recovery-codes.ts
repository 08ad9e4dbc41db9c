import { randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { sha256 } from '../../crypto/tokens.js';
import { mfaRecoveryCodes } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

/**
 * Ten one-time recovery codes per user, shown once. Each is 80 random bits written as 16
 * base32 characters in groups of four (`abcd-efgh-ijkl-mnop`); stored as SHA-256, which is
 * enough for a value with that much entropy, and compared in constant time.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join('-') ?? out;
}

/** The code as typed (case, dashes and spaces ignored), or null when it cannot be one. */
export function normalizeRecoveryCode(input: string): string | null {
  const text = input.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z2-7]{16}$/.test(text) ? text : null;
}

const hashOf = (normalized: string) => sha256(`accountdb recovery code\0${normalized}`);

/** Replaces the user's recovery codes with ten new ones and returns them (shown once). */
export async function replaceRecoveryCodes(tx: Tx, ownerId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.ownerId, ownerId));
  await tx.insert(mfaRecoveryCodes).values(
    codes.map((code) => ({
      ownerId,
      codeHash: hashOf(normalizeRecoveryCode(code) ?? ''),
    })),
  );
  return codes;
}

/**
 * Uses up one of the user's recovery codes: true when `input` is an unused one (then it is
 * used, atomically: of two requests with the same code one wins).
 */
export async function useRecoveryCode(
  tx: Tx,
  options: { ownerId: string; input: string },
): Promise<boolean> {
  const normalized = normalizeRecoveryCode(options.input);
  if (!normalized) return false;
  const given = hashOf(normalized);
  const unused = await tx
    .select({ id: mfaRecoveryCodes.id, codeHash: mfaRecoveryCodes.codeHash })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.ownerId, options.ownerId), isNull(mfaRecoveryCodes.usedAt)));
  let match: string | null = null;
  for (const row of unused) {
    if (row.codeHash.length === given.length && timingSafeEqual(row.codeHash, given) && !match)
      match = row.id;
  }
  if (!match) return false;
  const used = await tx
    .update(mfaRecoveryCodes)
    .set({ usedAt: new Date() })
    .where(and(eq(mfaRecoveryCodes.id, match), isNull(mfaRecoveryCodes.usedAt)))
    .returning({ id: mfaRecoveryCodes.id });
  return used.length === 1;
}

export async function unusedRecoveryCodes(tx: Tx, ownerId: string): Promise<number> {
  const rows = await tx
    .select({ id: mfaRecoveryCodes.id })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.ownerId, ownerId), isNull(mfaRecoveryCodes.usedAt)));
  return rows.length;
}
