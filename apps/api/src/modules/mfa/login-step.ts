import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { eq } from 'drizzle-orm';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { users } from '../../db/schema.js';
import { type Actor, type TenantDatabase, type Tx, withTenant } from '../../db/tenant.js';
import { TooManyRequestsError, UnauthorizedError } from '../../http/errors.js';
import { type AuditContext, writeAudit } from '../audit/write-audit.js';
import {
  beginLogin,
  type LockoutPolicy,
  loginSucceeded,
  writeSystemAudit,
} from '../auth/definer-functions.js';
import { type ClientInfo, type IssuedSession, issueSession } from '../auth/sessions.js';
import { type ChallengeClaims, type ChallengePurpose, verifyChallenge } from './challenge-token.js';
import {
  confirmTotp,
  type SecondFactorMethod,
  startTotpEnrolment,
  type TotpEnrolment,
  verifySecondFactor,
} from './factors.js';
import { closeChallenge, lockChallenge } from './login-challenge.js';
import {
  authenticationOptions,
  listPasskeys,
  newChallenge,
  openPasskeyChallenge,
  useUserPasskey,
  type WebAuthnConfig,
} from './passkeys.js';
import { replaceRecoveryCodes, unusedRecoveryCodes } from './recovery-codes.js';

/**
 * The second step of a login (after POST /auth/login answered a challenge): a TOTP or
 * recovery code, or, for an 'enroll' challenge, the first code of a new authenticator app.
 * Counted on the name's lockout like a password attempt (auth_login_begin) before the code is
 * checked; only a passing code clears the count.
 */

const invalidChallenge = () =>
  new UnauthorizedError(
    'The login challenge is invalid, used or expired; log in again.',
    'mfa_challenge_invalid',
  );

const wrongCode = () =>
  new UnauthorizedError('The code is wrong or was used already.', 'invalid_second_factor');

const userActor = (userId: string): Actor => ({
  kind: 'user',
  userId,
  username: '',
  role: 'user',
  via: 'session',
  scopes: ['read', 'write'],
});

async function claimsOf(
  jwtKey: Uint8Array,
  token: string,
  purpose: ChallengePurpose,
): Promise<ChallengeClaims> {
  const claims = await verifyChallenge(jwtKey, token);
  if (!claims || claims.purpose !== purpose) throw invalidChallenge();
  return claims;
}

async function activeUser(tx: Tx, userId: string) {
  const [user] = await tx.select().from(users).where(eq(users.id, userId));
  return user?.isActive ? user : null;
}

function auditAs(
  user: typeof users.$inferSelect,
  client: ClientInfo,
  requestId: string,
): AuditContext {
  return {
    actor: {
      kind: 'user',
      userId: user.id,
      username: user.username,
      role: user.role,
      via: 'session',
      scopes: ['read', 'write'],
    },
    ip: client.ip,
    requestId,
  };
}

export interface SecondStepOptions {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  keys: DataKeyStore;
  challenge: string;
  /** A TOTP or recovery code, or (passkey) an assertion for a 'login' passkey challenge. */
  code?: string;
  passkey?: { config: WebAuthnConfig; challengeId: string; response: AuthenticationResponseJSON };
  client: ClientInfo;
  requestId: string;
  lockout: LockoutPolicy;
}

export interface SecondStepResult {
  session: IssuedSession;
  method: SecondFactorMethod;
  /** Set when the step enrolled the user's first factor: shown once. */
  recoveryCodes?: string[];
}

/** Finishes a login with a second factor ('mfa' challenge) or a first enrolment ('enroll'). */
export async function finishLogin(options: SecondStepOptions): Promise<SecondStepResult> {
  const { database } = options;
  const claims = await verifyChallenge(options.jwtKey, options.challenge);
  if (!claims) throw invalidChallenge();
  const start = await beginLogin(database, { login: claims.login, policy: options.lockout });
  if (start.refusedUntil) {
    throw new TooManyRequestsError(
      'Too many failed logins for this name. Try again later.',
      (start.refusedUntil.getTime() - Date.now()) / 1000,
      'login_locked',
    );
  }
  const outcome = await withTenant(
    database,
    userActor(claims.userId),
    async (tx): Promise<SecondStepResult | 'wrong_code' | 'challenge_invalid'> => {
      const user = await activeUser(tx, claims.userId);
      if (!user || !(await lockChallenge(tx, claims))) return 'challenge_invalid';
      const audit = auditAs(user, options.client, options.requestId);
      let method: SecondFactorMethod | null;
      let recoveryCodes: string[] | undefined;
      if (claims.purpose === 'enroll') {
        if (options.code === undefined) return 'challenge_invalid';
        const ok = await confirmTotp(tx, {
          keys: options.keys,
          ownerId: user.id,
          code: options.code.trim(),
        });
        if (!ok) return 'wrong_code';
        method = 'totp';
        recoveryCodes = await replaceRecoveryCodes(tx, user.id);
        await writeAudit(tx, audit, {
          action: 'auth.mfa_enabled',
          entityType: 'user',
          entityId: user.id,
          details: { method: 'totp', at_login: true, recovery_codes: recoveryCodes.length },
        });
      } else if (options.passkey) {
        const used = await useUserPasskey(tx, {
          config: options.passkey.config,
          ownerId: user.id,
          purpose: 'login',
          challengeId: options.passkey.challengeId,
          response: options.passkey.response,
        });
        if (!used.ok) {
          if (used.reason === 'counter_regression' && used.passkey) {
            await writeAudit(tx, audit, {
              action: 'mfa.passkey.counter_regression',
              entityType: 'passkey',
              entityId: used.passkey.id,
              details: {
                name: used.passkey.name,
                stored_counter: used.passkey.signCount,
                at_login: true,
              },
            });
          }
          return 'wrong_code';
        }
        method = 'webauthn';
      } else {
        method = await verifySecondFactor(tx, {
          keys: options.keys,
          ownerId: user.id,
          code: options.code ?? '',
        });
        if (!method) return 'wrong_code';
      }
      await closeChallenge(tx, claims.challengeId);
      const session = await issueSession(tx, {
        user,
        jwtKey: options.jwtKey,
        client: options.client,
      });
      if (method === 'recovery_code') {
        await writeAudit(tx, audit, {
          action: 'auth.mfa_recovery_code_used',
          entityType: 'user',
          entityId: user.id,
          details: { left: await unusedRecoveryCodes(tx, user.id), at_login: true },
        });
      }
      await writeAudit(tx, audit, {
        action: 'auth.login',
        entityType: 'session',
        entityId: session.sessionId,
        details: { second_factor: method },
      });
      return { session, method, ...(recoveryCodes ? { recoveryCodes } : {}) };
    },
  );
  if (typeof outcome === 'string') {
    await writeSystemAudit(
      database,
      {
        ownerId: claims.userId,
        actorType: 'anonymous',
        actorId: null,
        actorName: null,
        action: 'auth.login_failed',
        entityType: 'user',
        entityId: claims.userId,
        ip: options.client.ip,
        requestId: options.requestId,
        details: {
          reason: outcome === 'wrong_code' ? 'wrong_second_factor' : 'challenge_invalid',
          step: claims.purpose,
          ...(start.lockedUntil ? { locked_until: start.lockedUntil.toISOString() } : {}),
        },
      },
      { kind: 'login' },
    );
    throw outcome === 'wrong_code' ? wrongCode() : invalidChallenge();
  }
  const at = await loginSucceeded(database, { login: claims.login, userId: claims.userId });
  return {
    ...outcome,
    session: { ...outcome.session, user: { ...outcome.session.user, lastLoginAt: at } },
  };
}

/**
 * The second step by passkey, part one: assertion options for the user's passkeys, under an
 * open 'mfa' challenge. The WebAuthn challenge is stored (purpose 'login') and used once by
 * finishLogin() with `passkey`.
 */
export async function startPasskeyLoginStep(options: {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  config: WebAuthnConfig;
  challenge: string;
}): Promise<{ challengeId: string; options: unknown }> {
  const claims = await claimsOf(options.jwtKey, options.challenge, 'mfa');
  return withTenant(options.database, userActor(claims.userId), async (tx) => {
    const user = await activeUser(tx, claims.userId);
    if (!user || !(await lockChallenge(tx, claims))) throw invalidChallenge();
    const passkeys = await listPasskeys(tx, user.id);
    if (passkeys.length === 0) throw invalidChallenge();
    const challenge = newChallenge();
    const challengeId = await openPasskeyChallenge(tx, {
      ownerId: user.id,
      purpose: 'login',
      challenge,
    });
    return {
      challengeId,
      options: await authenticationOptions({ config: options.config, allow: passkeys, challenge }),
    };
  });
}

/**
 * Starts enrolling an authenticator app during a login that requires one ('enroll'
 * challenge): the secret and QR code; the challenge stays open for finishLogin().
 */
export async function startLoginEnrolment(options: {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  keys: DataKeyStore;
  challenge: string;
  client: ClientInfo;
  requestId: string;
}): Promise<TotpEnrolment> {
  const claims = await claimsOf(options.jwtKey, options.challenge, 'enroll');
  return withTenant(options.database, userActor(claims.userId), async (tx) => {
    const user = await activeUser(tx, claims.userId);
    if (!user || !(await lockChallenge(tx, claims))) throw invalidChallenge();
    const enrolment = await startTotpEnrolment(tx, {
      keys: options.keys,
      ownerId: user.id,
      account: user.username,
    });
    await writeAudit(tx, auditAs(user, options.client, options.requestId), {
      action: 'auth.mfa_enroll',
      entityType: 'user',
      entityId: user.id,
      details: { method: 'totp', at_login: true },
    });
    return enrolment;
  });
}
