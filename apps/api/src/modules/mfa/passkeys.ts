import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { and, asc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Config } from '../../config.js';
import { mfaPasskeys, passkeyChallenges } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

/**
 * WebAuthn passkeys (W3C WebAuthn Level 2, through @simplewebauthn/server): registration and
 * assertion ceremonies against challenges stored server-side (passkey_challenges, migration
 * 0019), each taken once before its answer is checked. Every query here names the owner: an
 * admin's context sees every row under RLS, but a user's passkeys are only ever their own.
 */

export type WebAuthnConfig = Config['webauthn'];
export type ChallengeKind = 'register' | 'verify' | 'login';
export type PasskeyRow = typeof mfaPasskeys.$inferSelect;

/** How long a ceremony may take: the browser's timeout and the stored challenge's life. */
export const PASSKEY_CHALLENGE_TTL_SECONDS = 300;
const TIMEOUT_MS = PASSKEY_CHALLENGE_TTL_SECONDS * 1000;

const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** A fresh random challenge: 32 bytes, base64url (the value clientDataJSON must carry). */
export const newChallenge = (): string => randomBytes(32).toString('base64url');

/** Stores a challenge of the user for one ceremony; expired ones of the user go. */
export async function openPasskeyChallenge(
  tx: Tx,
  options: { ownerId: string; purpose: ChallengeKind; challenge: string },
): Promise<string> {
  await tx
    .delete(passkeyChallenges)
    .where(
      and(
        eq(passkeyChallenges.ownerId, options.ownerId),
        lt(passkeyChallenges.expiresAt, sql`now()`),
      ),
    );
  const [row] = await tx
    .insert(passkeyChallenges)
    .values({
      ownerId: options.ownerId,
      purpose: options.purpose,
      challenge: options.challenge,
      expiresAt: sql`now() + make_interval(secs => ${PASSKEY_CHALLENGE_TTL_SECONDS})`,
    })
    .returning({ id: passkeyChallenges.id });
  if (!row) throw new Error('passkey challenge not stored');
  return row.id;
}

/**
 * Takes the user's open challenge of that purpose: its value, or null when it is unknown,
 * another user's, used or expired. Conditional update: of two requests one wins.
 */
export async function takePasskeyChallenge(
  tx: Tx,
  options: { ownerId: string; purpose: ChallengeKind; challengeId: string },
): Promise<string | null> {
  const [row] = await tx
    .update(passkeyChallenges)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(passkeyChallenges.id, options.challengeId),
        eq(passkeyChallenges.ownerId, options.ownerId),
        eq(passkeyChallenges.purpose, options.purpose),
        isNull(passkeyChallenges.usedAt),
        gt(passkeyChallenges.expiresAt, sql`now()`),
      ),
    )
    .returning({ challenge: passkeyChallenges.challenge });
  return row?.challenge ?? null;
}

export async function listPasskeys(tx: Tx, ownerId: string): Promise<PasskeyRow[]> {
  return tx
    .select()
    .from(mfaPasskeys)
    .where(eq(mfaPasskeys.ownerId, ownerId))
    .orderBy(asc(mfaPasskeys.createdAt), asc(mfaPasskeys.id));
}

export async function passkeyCount(tx: Tx, ownerId: string): Promise<number> {
  const rows = await tx
    .select({ id: mfaPasskeys.id })
    .from(mfaPasskeys)
    .where(eq(mfaPasskeys.ownerId, ownerId));
  return rows.length;
}

const transportsOf = (row: { transports: string[] }) =>
  row.transports.filter((t) => TRANSPORTS.has(t)) as AuthenticatorTransport[];

/** Options for navigator.credentials.create(): a discoverable credential, user verification. */
export async function registrationOptions(options: {
  config: WebAuthnConfig;
  user: { id: string; username: string; email: string };
  existing: PasskeyRow[];
  challenge: string;
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: options.config.rpName,
    rpID: options.config.rpId,
    userName: options.user.username,
    userDisplayName: options.user.username,
    // The user handle is the user's id: a passwordless assertion carries it back.
    userID: Buffer.from(options.user.id.replace(/-/g, ''), 'hex'),
    challenge: Buffer.from(options.challenge, 'base64url'),
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: options.existing.map((p) => ({
      id: p.credentialId,
      transports: transportsOf(p),
    })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    // ES256 and RS256, as browsers and platform authenticators offer them; EdDSA too.
    supportedAlgorithmIDs: [-7, -8, -257],
  });
}

/** Options for navigator.credentials.get(): the user's passkeys, or any (passwordless). */
export async function authenticationOptions(options: {
  config: WebAuthnConfig;
  allow: PasskeyRow[] | null;
  challenge: string;
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: options.config.rpId,
    challenge: Buffer.from(options.challenge, 'base64url'),
    timeout: TIMEOUT_MS,
    userVerification: 'required',
    ...(options.allow
      ? {
          allowCredentials: options.allow.map((p) => ({
            id: p.credentialId,
            transports: transportsOf(p),
          })),
        }
      : {}),
  });
}

export interface NewPasskey {
  credentialId: string;
  publicKey: Buffer;
  signCount: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
}

/**
 * Checks an attestation (WebAuthn §7.1) against the stored challenge, the configured origins
 * and RP ID, user presence and verification: the new credential, or null for anything the
 * library refuses (malformed CBOR, wrong challenge, origin, RP ID, flags, algorithm).
 */
export async function verifyRegistration(options: {
  config: WebAuthnConfig;
  response: RegistrationResponseJSON;
  expectedChallenge: string;
}): Promise<NewPasskey | null> {
  try {
    const result = await verifyRegistrationResponse({
      response: options.response,
      expectedChallenge: options.expectedChallenge,
      expectedOrigin: options.config.origins,
      expectedRPID: options.config.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: [-7, -8, -257],
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey),
      signCount: info.credential.counter,
      transports: (options.response.response.transports ?? []).filter((t) => TRANSPORTS.has(t)),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return null;
  }
}

export type AssertionOutcome =
  | { ok: true; newCounter: number; deviceType: 'singleDevice' | 'multiDevice'; backedUp: boolean }
  | { ok: false; reason: 'invalid' | 'counter_regression'; newCounter?: number };

/**
 * Checks an assertion (WebAuthn §7.2) by the stored passkey: challenge, origin, RP ID, user
 * presence and verification, signature, then the signature counter (§6.1.1): when either
 * counter is non-zero the new one must be greater, else the authenticator may be a clone.
 * The counter is checked here, after the signature, so only a correctly signed assertion is
 * reported as a regression (the library would refuse it before the signature).
 */
export async function verifyAssertion(options: {
  config: WebAuthnConfig;
  response: AuthenticationResponseJSON;
  expectedChallenge: string;
  passkey: { credentialId: string; publicKey: Buffer; signCount: number; transports: string[] };
}): Promise<AssertionOutcome> {
  const { passkey } = options;
  if (options.response.id !== passkey.credentialId) return { ok: false, reason: 'invalid' };
  try {
    const result = await verifyAuthenticationResponse({
      response: options.response,
      expectedChallenge: options.expectedChallenge,
      expectedOrigin: options.config.origins,
      expectedRPID: options.config.rpId,
      requireUserVerification: true,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(passkey.publicKey),
        counter: 0,
        transports: transportsOf(passkey),
      },
    });
    if (!result.verified) return { ok: false, reason: 'invalid' };
    const { newCounter, credentialDeviceType, credentialBackedUp } = result.authenticationInfo;
    if ((newCounter > 0 || passkey.signCount > 0) && newCounter <= passkey.signCount) {
      return { ok: false, reason: 'counter_regression', newCounter };
    }
    return {
      ok: true,
      newCounter,
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
    };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}

/**
 * Records a passing assertion: the new counter and last use. Conditional on the counter the
 * check read, so of two assertions racing with one counter only one is recorded.
 */
export async function recordPasskeyUse(
  tx: Tx,
  options: {
    passkeyId: string;
    ownerId: string;
    oldCounter: number;
    newCounter: number;
    backedUp: boolean;
  },
): Promise<boolean> {
  const rows = await tx
    .update(mfaPasskeys)
    .set({
      signCount: options.newCounter,
      backedUp: options.backedUp,
      lastUsedAt: sql`now()`,
    })
    .where(
      and(
        eq(mfaPasskeys.id, options.passkeyId),
        eq(mfaPasskeys.ownerId, options.ownerId),
        eq(mfaPasskeys.signCount, options.oldCounter),
      ),
    )
    .returning({ id: mfaPasskeys.id });
  return rows.length === 1;
}

/** The user's passkey an assertion names, or null (another user's answers null too). */
export async function passkeyByCredential(
  tx: Tx,
  options: { ownerId: string; credentialId: string },
): Promise<PasskeyRow | null> {
  const [row] = await tx
    .select()
    .from(mfaPasskeys)
    .where(
      and(
        eq(mfaPasskeys.ownerId, options.ownerId),
        eq(mfaPasskeys.credentialId, options.credentialId),
      ),
    );
  return row ?? null;
}

/**
 * A fresh passkey assertion of the user for a 'verify' or 'login' challenge: takes the
 * challenge, checks the assertion by the user's own passkey and records its use. The outcome
 * says why it failed; a counter regression is for the caller to audit.
 */
export async function useUserPasskey(
  tx: Tx,
  options: {
    config: WebAuthnConfig;
    ownerId: string;
    purpose: 'verify' | 'login';
    challengeId: string;
    response: AuthenticationResponseJSON;
  },
): Promise<
  | { ok: true; passkey: PasskeyRow }
  | { ok: false; reason: 'challenge' | 'invalid' | 'counter_regression'; passkey?: PasskeyRow }
> {
  const expected = await takePasskeyChallenge(tx, {
    ownerId: options.ownerId,
    purpose: options.purpose,
    challengeId: options.challengeId,
  });
  if (!expected) return { ok: false, reason: 'challenge' };
  const passkey = await passkeyByCredential(tx, {
    ownerId: options.ownerId,
    credentialId: options.response.id,
  });
  if (!passkey) return { ok: false, reason: 'invalid' };
  const outcome = await verifyAssertion({
    config: options.config,
    response: options.response,
    expectedChallenge: expected,
    passkey,
  });
  if (!outcome.ok) return { ok: false, reason: outcome.reason, passkey };
  const recorded = await recordPasskeyUse(tx, {
    passkeyId: passkey.id,
    ownerId: options.ownerId,
    oldCounter: passkey.signCount,
    newCounter: outcome.newCounter,
    backedUp: outcome.backedUp,
  });
  if (!recorded) return { ok: false, reason: 'counter_regression', passkey };
  return { ok: true, passkey };
}
