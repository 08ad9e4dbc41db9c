import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import QRCode from 'qrcode';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { decryptValue, encryptValue, secretAad } from '../../crypto/envelope.js';
import { mfaFactors, mfaPasskeys, mfaRecoveryCodes, passkeyChallenges } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { ConflictError } from '../../http/errors.js';
import { unusedRecoveryCodes, useRecoveryCode } from './recovery-codes.js';
import { base32Secret, matchingStep, newTotpSecret, otpauthUri } from './totp-core.js';

/** The second-factor methods a login challenge may offer. */
export type SecondFactorMethod = 'totp' | 'webauthn' | 'recovery_code';

/** The TOTP seed, bound to its factor row and owner: copied elsewhere it does not decrypt. */
const aad = (rowId: string, ownerId: string) =>
  secretAad({ table: 'mfa_factors', column: 'secret', rowId, ownerId });

const ISSUER = 'AccountDB';

export interface TotpEnrolment {
  factorId: string;
  /** base32, for typing into an app that cannot scan. */
  secret: string;
  otpauthUri: string;
  /** The URI as a QR code: an SVG image in a data: URL. */
  qrSvgDataUrl: string;
}

/**
 * Starts enrolling an authenticator app: a new seed, stored encrypted in a factor that counts
 * only once confirmed (confirmTotp). Replaces an unconfirmed one; refused while a confirmed
 * one exists (disable it first).
 */
export async function startTotpEnrolment(
  tx: Tx,
  options: { keys: DataKeyStore; ownerId: string; account: string },
): Promise<TotpEnrolment> {
  const { ownerId } = options;
  const [current] = await tx
    .select({ id: mfaFactors.id, confirmedAt: mfaFactors.confirmedAt })
    .from(mfaFactors)
    .where(and(eq(mfaFactors.ownerId, ownerId), eq(mfaFactors.kind, 'totp')))
    .for('update');
  if (current?.confirmedAt) {
    throw new ConflictError(
      'An authenticator app is already set up; disable it before enrolling another.',
      'mfa_already_enabled',
    );
  }
  if (current) await tx.delete(mfaFactors).where(eq(mfaFactors.id, current.id));
  const secret = newTotpSecret();
  const factorId = uuidv7();
  const key = await options.keys.forOwner(tx, ownerId);
  await tx.insert(mfaFactors).values({
    id: factorId,
    ownerId,
    kind: 'totp',
    secretEnc: encryptValue(key, secret.toString('hex'), aad(factorId, ownerId)),
  });
  const uri = otpauthUri({ secret, issuer: ISSUER, account: options.account });
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    factorId,
    secret: base32Secret(secret),
    otpauthUri: uri,
    qrSvgDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`,
  };
}

type FactorRow = typeof mfaFactors.$inferSelect;

async function totpSecretOf(tx: Tx, keys: DataKeyStore, row: FactorRow): Promise<Buffer> {
  const key = await keys.forOwner(tx, row.ownerId);
  return Buffer.from(decryptValue(key, row.secretEnc ?? '', aad(row.id, row.ownerId)), 'hex');
}

/**
 * Checks `code` against the user's TOTP factor (confirmed or, with `pending`, the one being
 * enrolled) and records its time step: the same step, or an older one, is refused next time
 * (the update is conditional, so of two requests with one code only one passes).
 */
async function useTotpCode(
  tx: Tx,
  options: { keys: DataKeyStore; ownerId: string; code: string; nowMs: number; pending: boolean },
): Promise<FactorRow | null> {
  if (!/^\d{6}$/.test(options.code)) return null;
  const [row] = await tx
    .select()
    .from(mfaFactors)
    .where(
      and(
        eq(mfaFactors.ownerId, options.ownerId),
        eq(mfaFactors.kind, 'totp'),
        options.pending ? isNull(mfaFactors.confirmedAt) : isNotNull(mfaFactors.confirmedAt),
      ),
    );
  if (!row) return null;
  const step = matchingStep({
    secret: await totpSecretOf(tx, options.keys, row),
    code: options.code,
    nowMs: options.nowMs,
  });
  if (step === null) return null;
  const [used] = await tx
    .update(mfaFactors)
    .set({
      lastUsedStep: step,
      lastUsedAt: sql`now()`,
      ...(options.pending ? { confirmedAt: sql`now()` } : {}),
    })
    .where(
      and(
        eq(mfaFactors.id, row.id),
        or(isNull(mfaFactors.lastUsedStep), lt(mfaFactors.lastUsedStep, step)),
      ),
    )
    .returning();
  return used ?? null;
}

/** Confirms the factor being enrolled with a current code; false for a wrong code. */
export async function confirmTotp(
  tx: Tx,
  options: { keys: DataKeyStore; ownerId: string; code: string; nowMs?: number },
): Promise<boolean> {
  const used = await useTotpCode(tx, {
    ...options,
    nowMs: options.nowMs ?? Date.now(),
    pending: true,
  });
  return used !== null;
}

/**
 * A fresh second factor: a current TOTP code (6 digits) or an unused recovery code, used up
 * by this call. Returns the method that passed, or null.
 */
export async function verifySecondFactor(
  tx: Tx,
  options: { keys: DataKeyStore; ownerId: string; code: string; nowMs?: number },
): Promise<SecondFactorMethod | null> {
  const code = options.code.trim();
  if (/^\d{6}$/.test(code)) {
    const used = await useTotpCode(tx, {
      keys: options.keys,
      ownerId: options.ownerId,
      code,
      nowMs: options.nowMs ?? Date.now(),
      pending: false,
    });
    return used ? 'totp' : null;
  }
  return (await useRecoveryCode(tx, { ownerId: options.ownerId, input: code }))
    ? 'recovery_code'
    : null;
}

export interface MfaStatus {
  totp: { enabled: boolean; pending: boolean; confirmedAt: Date | null; lastUsedAt: Date | null };
  /** Registered passkeys (WebAuthn). */
  passkeys: number;
  recoveryCodesLeft: number;
  methods: SecondFactorMethod[];
}

/** The user's second factors, without any secret. */
export async function mfaStatus(tx: Tx, ownerId: string): Promise<MfaStatus> {
  const rows = await tx.select().from(mfaFactors).where(eq(mfaFactors.ownerId, ownerId));
  const totp = rows.find((r) => r.kind === 'totp');
  const enabled = Boolean(totp?.confirmedAt);
  const passkeys = (
    await tx
      .select({ id: mfaPasskeys.id })
      .from(mfaPasskeys)
      .where(eq(mfaPasskeys.ownerId, ownerId))
  ).length;
  const any = enabled || passkeys > 0;
  const left = any ? await unusedRecoveryCodes(tx, ownerId) : 0;
  const methods: SecondFactorMethod[] = [];
  if (enabled) methods.push('totp');
  if (passkeys > 0) methods.push('webauthn');
  if (any && left > 0) methods.push('recovery_code');
  return {
    totp: {
      enabled,
      pending: Boolean(totp && !totp.confirmedAt),
      confirmedAt: totp?.confirmedAt ?? null,
      lastUsedAt: totp?.lastUsedAt ?? null,
    },
    passkeys,
    recoveryCodesLeft: left,
    methods,
  };
}

/**
 * Removes the authenticator app; the recovery codes go too when no passkey is left (they
 * belong to the second factor as a whole). Returns the number of confirmed apps removed.
 */
export async function removeTotp(tx: Tx, ownerId: string): Promise<number> {
  const removed = await tx
    .delete(mfaFactors)
    .where(eq(mfaFactors.ownerId, ownerId))
    .returning({ id: mfaFactors.id, confirmedAt: mfaFactors.confirmedAt });
  const passkeys = await tx
    .select({ id: mfaPasskeys.id })
    .from(mfaPasskeys)
    .where(eq(mfaPasskeys.ownerId, ownerId));
  if (passkeys.length === 0) {
    await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.ownerId, ownerId));
  }
  return removed.filter((r) => r.confirmedAt).length;
}

/**
 * Removes every factor (authenticator app and passkeys), the recovery codes and open passkey
 * challenges of the user; returns the number of confirmed factors removed.
 */
export async function removeFactors(tx: Tx, ownerId: string): Promise<number> {
  const removed = await tx
    .delete(mfaFactors)
    .where(eq(mfaFactors.ownerId, ownerId))
    .returning({ id: mfaFactors.id, confirmedAt: mfaFactors.confirmedAt });
  const passkeys = await tx
    .delete(mfaPasskeys)
    .where(eq(mfaPasskeys.ownerId, ownerId))
    .returning({ id: mfaPasskeys.id });
  await tx.delete(passkeyChallenges).where(eq(passkeyChallenges.ownerId, ownerId));
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.ownerId, ownerId));
  return removed.filter((r) => r.confirmedAt).length + passkeys.length;
}
