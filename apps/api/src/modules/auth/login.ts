import { eq } from 'drizzle-orm';
import {
  burnPasswordCheck,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../crypto/passwords.js';
import { users } from '../../db/schema.js';
import { type TenantDatabase, withTenant } from '../../db/tenant.js';
import { TooManyRequestsError, UnauthorizedError } from '../../http/errors.js';
import { writeAudit } from '../audit/write-audit.js';
import type { ChallengePurpose } from '../mfa/challenge-token.js';
import type { SecondFactorMethod } from '../mfa/factors.js';
import { openChallenge, secondStepFor } from '../mfa/login-challenge.js';
import {
  beginLogin,
  type LockoutPolicy,
  loginSucceeded,
  rehashPassword,
  writeSystemAudit,
} from './definer-functions.js';
import { type ClientInfo, type IssuedSession, issueSession } from './sessions.js';

/** What a correct password gets: the session, or the challenge of a second step. */
export type LoginOutcome =
  | { kind: 'session'; session: IssuedSession }
  | {
      kind: 'challenge';
      purpose: ChallengePurpose;
      token: string;
      expiresIn: number;
      methods: SecondFactorMethod[];
    };

export const DEFAULT_LOCKOUT: LockoutPolicy = { threshold: 5, baseSeconds: 30, maxSeconds: 900 };

const locked = (until: Date) =>
  new TooManyRequestsError(
    'Too many failed logins for this name. Try again later.',
    (until.getTime() - Date.now()) / 1000,
    'login_locked',
  );

/**
 * Password login. An unknown name and a wrong password get the same answer in the same
 * time (a dummy hash is verified), and every name, known or not, has its own lockout with
 * backoff, counted before the password is checked (auth_login_begin): names that exist and
 * names that do not behave alike, and parallel attempts cannot outrun the lock. A user with
 * a second factor (or without one where an admin requires it) gets a challenge instead of the
 * session: modules/mfa/login-step.ts finishes such a login.
 */
export async function login(options: {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  login: string;
  password: string;
  client: ClientInfo;
  requestId: string;
  lockout: LockoutPolicy;
}): Promise<LoginOutcome> {
  const { database } = options;
  const start = await beginLogin(database, { login: options.login, policy: options.lockout });
  if (start.refusedUntil) throw locked(start.refusedUntil);

  const ok = start.passwordHash
    ? await verifyPassword(start.passwordHash, options.password)
    : await burnPasswordCheck(options.password);

  if (!ok || !start.isActive || !start.userId) {
    await writeSystemAudit(
      database,
      {
        ownerId: start.userId,
        actorType: 'anonymous',
        actorId: null,
        actorName: null,
        action: 'auth.login_failed',
        entityType: 'user',
        entityId: start.userId,
        ip: options.client.ip,
        requestId: options.requestId,
        details: {
          reason: !start.userId ? 'unknown_user' : !ok ? 'wrong_password' : 'inactive',
          ...(start.lockedUntil ? { locked_until: start.lockedUntil.toISOString() } : {}),
        },
      },
      { kind: 'login' },
    );
    throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
  }

  const userId = start.userId;
  // A bcrypt hash brought over from the earlier system (accountdb migrate-legacy) is verified
  // once: the password that just passed is hashed again with argon2id.
  let rehashed = false;
  if (start.passwordHash && needsRehash(start.passwordHash)) {
    rehashed = await rehashPassword(database, {
      userId,
      oldHash: start.passwordHash,
      newHash: await hashPassword(options.password),
    });
  }
  const outcome = await withTenant(
    database,
    { kind: 'user', userId, username: '', role: 'user', via: 'session', scopes: ['read', 'write'] },
    async (tx): Promise<LoginOutcome> => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId));
      if (!user) throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
      // A user with a second factor, or without one where one is required, gets a challenge
      // for the second step instead of the session; the name's failure count stays until
      // that step passes, so wrong codes lock the name like wrong passwords.
      const second = await secondStepFor(tx, userId);
      if (second) {
        const challenge = await openChallenge(tx, {
          jwtKey: options.jwtKey,
          userId,
          login: options.login,
          purpose: second.purpose,
        });
        return { kind: 'challenge', ...challenge, methods: second.methods };
      }
      const session = await issueSession(tx, {
        user,
        jwtKey: options.jwtKey,
        client: options.client,
      });
      await writeAudit(
        tx,
        {
          actor: {
            kind: 'user',
            userId,
            username: user.username,
            role: user.role,
            via: 'session',
            scopes: ['read', 'write'],
          },
          ip: options.client.ip,
          requestId: options.requestId,
        },
        {
          action: 'auth.login',
          entityType: 'session',
          entityId: session.sessionId,
          ...(rehashed ? { details: { password_rehashed: 'bcrypt → argon2id' } } : {}),
        },
      );
      return { kind: 'session', session };
    },
  );
  if (outcome.kind === 'session') {
    // The user in the answer is this login's: last_login_at is now, not the one before.
    const at = await loginSucceeded(database, { login: options.login, userId });
    return {
      ...outcome,
      session: { ...outcome.session, user: { ...outcome.session.user, lastLoginAt: at } },
    };
  }
  return outcome;
}
