import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { appSettings, loginChallenges } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { CHALLENGE_TTL_SECONDS, type ChallengePurpose, signChallenge } from './challenge-token.js';
import { mfaStatus, type SecondFactorMethod } from './factors.js';

/** Whether the instance requires a second factor of everyone (app_settings, migration 0018). */
export async function mfaRequired(tx: Tx): Promise<boolean> {
  const [row] = await tx.select({ required: appSettings.mfaRequired }).from(appSettings);
  return row?.required === true;
}

/**
 * The second step a user's login needs after the password, or null for none: 'mfa' with the
 * methods the user has, or 'enroll' when a second factor is required and the user has none.
 */
export async function secondStepFor(
  tx: Tx,
  userId: string,
): Promise<{ purpose: ChallengePurpose; methods: SecondFactorMethod[] } | null> {
  const status = await mfaStatus(tx, userId);
  if (status.methods.length > 0) return { purpose: 'mfa', methods: status.methods };
  if (await mfaRequired(tx)) return { purpose: 'enroll', methods: [] };
  return null;
}

/** Records a challenge (expired ones of the user go) and signs its token. */
export async function openChallenge(
  tx: Tx,
  options: { jwtKey: Uint8Array; userId: string; login: string; purpose: ChallengePurpose },
): Promise<{ purpose: ChallengePurpose; token: string; expiresIn: number }> {
  await tx
    .delete(loginChallenges)
    .where(
      and(eq(loginChallenges.ownerId, options.userId), lt(loginChallenges.expiresAt, sql`now()`)),
    );
  const challengeId = uuidv7();
  await tx.insert(loginChallenges).values({
    id: challengeId,
    ownerId: options.userId,
    purpose: options.purpose,
    expiresAt: sql`now() + make_interval(secs => ${CHALLENGE_TTL_SECONDS})`,
  });
  const token = await signChallenge(options.jwtKey, {
    userId: options.userId,
    challengeId,
    login: options.login,
    purpose: options.purpose,
  });
  return { purpose: options.purpose, token, expiresIn: CHALLENGE_TTL_SECONDS };
}

/**
 * Locks the challenge for this transaction: true when it is still open (not used, not
 * expired). Two requests with one challenge wait for each other; the second finds it used.
 */
export async function lockChallenge(
  tx: Tx,
  options: { challengeId: string; userId: string; purpose: ChallengePurpose },
): Promise<boolean> {
  const [row] = await tx
    .select({ id: loginChallenges.id })
    .from(loginChallenges)
    .where(
      and(
        eq(loginChallenges.id, options.challengeId),
        eq(loginChallenges.ownerId, options.userId),
        eq(loginChallenges.purpose, options.purpose),
        isNull(loginChallenges.usedAt),
        gt(loginChallenges.expiresAt, sql`now()`),
      ),
    )
    .for('update');
  return row !== undefined;
}

export async function closeChallenge(tx: Tx, challengeId: string): Promise<void> {
  await tx
    .update(loginChallenges)
    .set({ usedAt: sql`now()` })
    .where(eq(loginChallenges.id, challengeId));
}
