import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { eq, sql } from 'drizzle-orm';
import { users } from '../../db/schema.js';
import { rowsOf, type TenantDatabase, withTenant } from '../../db/tenant.js';
import { TooManyRequestsError, UnauthorizedError } from '../../http/errors.js';
import { writeAudit } from '../audit/write-audit.js';
import {
  beginLogin,
  type LockoutPolicy,
  loginSucceeded,
  writeSystemAudit,
} from '../auth/definer-functions.js';
import { type ClientInfo, type IssuedSession, issueSession } from '../auth/sessions.js';
import {
  authenticationOptions,
  newChallenge,
  PASSKEY_CHALLENGE_TTL_SECONDS,
  recordPasskeyUse,
  verifyAssertion,
  type WebAuthnConfig,
} from './passkeys.js';

/**
 * Passwordless login with a passkey (a discoverable credential: the browser offers the
 * passkeys it holds for the RP ID, no name is typed). The user becomes known only from the
 * credential the assertion names, through the narrow definer functions of migration 0019.
 * From there it is the password login's path: the attempt counts on the user's name
 * (auth_login_begin, before the signature is checked), a lock refuses it, a pass clears it and
 * issues the same session. A passkey checked with user verification is two factors in one
 * (the device and its PIN or biometric), so no second step follows, also where an admin
 * requires a second factor.
 */

const invalidPasskey = () =>
  new UnauthorizedError('The passkey was not accepted; try again.', 'invalid_passkey');

const challengeInvalid = () =>
  new UnauthorizedError(
    'The passkey challenge is invalid, used or expired; start again.',
    'passkey_challenge_invalid',
  );

/** Passwordless, part one: a stored challenge and options that allow any passkey. */
export async function passwordlessOptions(options: {
  database: TenantDatabase;
  config: WebAuthnConfig;
}): Promise<{ challengeId: string; options: unknown }> {
  const challenge = newChallenge();
  const [row] = await withTenant(options.database, { kind: 'anonymous' }, async (tx) =>
    rowsOf<{ id: string }>(
      await tx.execute(
        sql`SELECT auth_passkey_challenge_open(${challenge}, ${PASSKEY_CHALLENGE_TTL_SECONDS}::int) AS id`,
      ),
    ),
  );
  if (!row) throw new Error('passkey challenge not stored');
  return {
    challengeId: row.id,
    options: await authenticationOptions({ config: options.config, allow: null, challenge }),
  };
}

interface FoundPasskey {
  passkey_id: string;
  user_id: string;
  username: string;
  is_active: boolean;
  public_key: Buffer | Uint8Array;
  sign_count: string | number;
  transports: string[] | null;
}

/** The user handle a passkey was registered with: the user's id as 16 bytes. */
const userHandleOf = (userId: string) =>
  Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url');

export async function passwordlessLogin(options: {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  config: WebAuthnConfig;
  challengeId: string;
  response: AuthenticationResponseJSON;
  client: ClientInfo;
  requestId: string;
  lockout: LockoutPolicy;
  /** Called with the user's name once known: the per-name request limit. */
  onName?: (username: string) => Promise<void>;
}): Promise<IssuedSession> {
  const { database } = options;
  const fail = async (
    reason: string,
    userId: string | null,
    extra: Record<string, unknown> = {},
  ): Promise<void> => {
    await writeSystemAudit(
      database,
      {
        ownerId: userId,
        actorType: 'anonymous',
        actorId: null,
        actorName: null,
        action: 'auth.login_failed',
        entityType: 'user',
        entityId: userId,
        ip: options.client.ip,
        requestId: options.requestId,
        details: { reason, step: 'passwordless', ...extra },
      },
      { kind: 'login' },
    );
  };

  // The challenge is taken first: whatever happens next, this answer cannot be sent again.
  const taken = await withTenant(database, { kind: 'login' }, async (tx) =>
    rowsOf<{ challenge: string | null }>(
      await tx.execute(
        sql`SELECT auth_passkey_challenge_take(${options.challengeId}::uuid) AS challenge`,
      ),
    ),
  );
  const expected = taken[0]?.challenge ?? null;
  if (!expected) {
    await fail('challenge_invalid', null);
    throw challengeInvalid();
  }
  const [found] = await withTenant(database, { kind: 'login' }, async (tx) =>
    rowsOf<FoundPasskey>(
      await tx.execute(sql`SELECT * FROM auth_passkey_lookup(${options.response.id})`),
    ),
  );
  if (!found) {
    await fail('unknown_passkey', null);
    throw invalidPasskey();
  }
  await options.onName?.(found.username);
  const start = await beginLogin(database, { login: found.username, policy: options.lockout });
  if (start.refusedUntil) {
    throw new TooManyRequestsError(
      'Too many failed logins for this name. Try again later.',
      (start.refusedUntil.getTime() - Date.now()) / 1000,
      'login_locked',
    );
  }
  const locked = start.lockedUntil ? { locked_until: start.lockedUntil.toISOString() } : {};
  if (!found.is_active) {
    await fail('inactive', found.user_id, locked);
    throw invalidPasskey();
  }
  const handle = options.response.response.userHandle;
  if (handle !== undefined && handle !== userHandleOf(found.user_id)) {
    await fail('wrong_passkey', found.user_id, locked);
    throw invalidPasskey();
  }
  const signCount = Number(found.sign_count);
  const passkey = {
    credentialId: options.response.id,
    publicKey: Buffer.from(found.public_key),
    signCount,
    transports: found.transports ?? [],
  };
  const outcome = await verifyAssertion({
    config: options.config,
    response: options.response,
    expectedChallenge: expected,
    passkey,
  });
  const actor = {
    kind: 'user' as const,
    userId: found.user_id,
    username: found.username,
    role: 'user' as const,
    via: 'session' as const,
    scopes: ['read', 'write'] as const,
  };
  const session = await withTenant(
    database,
    { ...actor, scopes: ['read', 'write'] },
    async (tx): Promise<IssuedSession | 'counter_regression' | 'invalid'> => {
      const [user] = await tx.select().from(users).where(eq(users.id, found.user_id));
      if (!user?.isActive) return 'invalid';
      const audit = {
        actor: { ...actor, role: user.role, scopes: ['read', 'write'] as ('read' | 'write')[] },
        ip: options.client.ip,
        requestId: options.requestId,
      };
      const recorded =
        outcome.ok &&
        (await recordPasskeyUse(tx, {
          passkeyId: found.passkey_id,
          ownerId: user.id,
          oldCounter: signCount,
          newCounter: outcome.newCounter,
          backedUp: outcome.backedUp,
        }));
      if (!recorded) {
        if (outcome.ok || outcome.reason === 'counter_regression') {
          await writeAudit(tx, audit, {
            action: 'mfa.passkey.counter_regression',
            entityType: 'passkey',
            entityId: found.passkey_id,
            details: { stored_counter: signCount, passwordless: true },
          });
          return 'counter_regression';
        }
        return 'invalid';
      }
      const issued = await issueSession(tx, {
        user,
        jwtKey: options.jwtKey,
        client: options.client,
      });
      await writeAudit(tx, audit, {
        action: 'auth.login',
        entityType: 'session',
        entityId: issued.sessionId,
        details: { passwordless: true, passkey_id: found.passkey_id },
      });
      return issued;
    },
  );
  if (typeof session === 'string') {
    await fail(
      session === 'counter_regression' ? 'counter_regression' : 'invalid_passkey',
      found.user_id,
      locked,
    );
    throw invalidPasskey();
  }
  await loginSucceeded(database, { login: found.username, userId: found.user_id });
  return session;
}
