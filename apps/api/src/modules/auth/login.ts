import { eq } from 'drizzle-orm';
import { burnPasswordCheck, verifyPassword } from '../../crypto/passwords.js';
import type { Db } from '../../db/client.js';
import { users } from '../../db/schema.js';
import { withTenant } from '../../db/tenant.js';
import { TooManyRequestsError, UnauthorizedError } from '../../http/errors.js';
import { writeAudit } from '../audit/write-audit.js';
import {
  type LockoutPolicy,
  loginLookup,
  recordLoginFailure,
  recordLoginSuccess,
  writeSystemAudit,
} from './definer-functions.js';
import { type ClientInfo, type IssuedSession, issueSession } from './sessions.js';

export const DEFAULT_LOCKOUT: LockoutPolicy = { threshold: 5, baseSeconds: 30, maxSeconds: 900 };

const locked = (until: Date) =>
  new TooManyRequestsError(
    'Too many failed logins for this name. Try again later.',
    (until.getTime() - Date.now()) / 1000,
    'login_locked',
  );

/**
 * Password login. An unknown name and a wrong password get the same answer in the same
 * time (a dummy hash is verified); both count towards the same lockout with backoff.
 */
export async function login(options: {
  db: Db;
  jwtKey: Uint8Array;
  login: string;
  password: string;
  client: ClientInfo;
  requestId: string;
  lockout: LockoutPolicy;
}): Promise<IssuedSession> {
  const { db } = options;
  const found = await loginLookup(db, options.login);
  if (found.lockedUntil && found.lockedUntil.getTime() > Date.now())
    throw locked(found.lockedUntil);

  const ok = found.passwordHash
    ? await verifyPassword(found.passwordHash, options.password)
    : await burnPasswordCheck(options.password);

  if (!ok || !found.isActive || !found.userId) {
    const lockedUntil = await recordLoginFailure(db, {
      login: options.login,
      userId: found.userId,
      policy: options.lockout,
    });
    await writeSystemAudit(db, {
      ownerId: found.userId,
      actorType: 'anonymous',
      actorId: null,
      actorName: null,
      action: 'auth.login_failed',
      entityType: 'user',
      entityId: found.userId,
      ip: options.client.ip,
      requestId: options.requestId,
      details: {
        reason: !found.userId ? 'unknown_user' : !ok ? 'wrong_password' : 'inactive',
        ...(lockedUntil ? { locked_until: lockedUntil.toISOString() } : {}),
      },
    });
    throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
  }

  const userId = found.userId;
  await recordLoginSuccess(db, userId);
  return withTenant(
    db,
    { kind: 'user', userId, username: '', role: 'user', via: 'session', scopes: ['read', 'write'] },
    async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId));
      if (!user) throw new UnauthorizedError('Wrong username or password.', 'invalid_credentials');
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
        { action: 'auth.login', entityType: 'session', entityId: session.sessionId },
      );
      return session;
    },
  );
}
