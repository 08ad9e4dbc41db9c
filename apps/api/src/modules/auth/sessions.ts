import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { CredentialCache } from '../../auth/credential-cache.js';
import { randomToken, sha256 } from '../../crypto/tokens.js';
import { refreshTokens, users } from '../../db/schema.js';
import { type Actor, type TenantDatabase, type Tx, withTenant } from '../../db/tenant.js';
import { UnauthorizedError } from '../../http/errors.js';
import { type AuditContext, writeAudit } from '../audit/write-audit.js';
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from './access-token.js';
import { refreshLookup } from './definer-functions.js';

/** Refresh tokens: opaque, 30 days, rotated on every use. */
export const REFRESH_TOKEN_PREFIX = 'adb_rt_';
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
/** A rotated token used again within this window is a lost response, not theft. */
export const REFRESH_REUSE_GRACE_SECONDS = 10;

type UserRow = typeof users.$inferSelect;
type RevokeReason =
  | 'logout'
  | 'reuse'
  | 'password_change'
  | 'admin'
  | 'deactivated'
  | 'grace_reissue';

export interface IssuedSession {
  user: UserRow;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  refreshExpiresAt: Date;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Inserts a new refresh token (in the user's tenant transaction) and signs an access token. */
export async function issueSession(
  tx: Tx,
  options: { user: UserRow; jwtKey: Uint8Array; client: ClientInfo; familyId?: string },
): Promise<IssuedSession & { refreshId: string }> {
  const familyId = options.familyId ?? crypto.randomUUID();
  const refreshToken = randomToken(REFRESH_TOKEN_PREFIX);
  const expiresAt = new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000);
  const [row] = await tx
    .insert(refreshTokens)
    .values({
      ownerId: options.user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt,
      userAgent: options.client.userAgent?.slice(0, 300) ?? null,
      ip: options.client.ip,
    })
    .returning({ id: refreshTokens.id });
  const accessToken = await signAccessToken(options.jwtKey, {
    userId: options.user.id,
    sessionId: familyId,
  });
  return {
    user: options.user,
    accessToken,
    refreshToken,
    sessionId: familyId,
    refreshExpiresAt: expiresAt,
    refreshId: row?.id ?? '',
  };
}

/** Revokes every open refresh token of a user, optionally sparing one session. */
export async function revokeSessions(
  tx: Tx,
  options: { userId: string; reason: RevokeReason; exceptSessionId?: string; familyId?: string },
): Promise<number> {
  const conditions = [eq(refreshTokens.ownerId, options.userId), isNull(refreshTokens.revokedAt)];
  if (options.exceptSessionId) conditions.push(ne(refreshTokens.familyId, options.exceptSessionId));
  if (options.familyId) conditions.push(eq(refreshTokens.familyId, options.familyId));
  const rows = await tx
    .update(refreshTokens)
    .set({ revokedAt: sql`now()`, revokedReason: options.reason })
    .where(and(...conditions))
    .returning({ id: refreshTokens.id });
  return rows.length;
}

function selfActor(userId: string, username = ''): Actor {
  // Only the user's own rows are touched here, which the 'user' role sees for admins too.
  return {
    kind: 'user',
    userId,
    username,
    role: 'user',
    via: 'session',
    scopes: ['read', 'write'],
  };
}

export const tokenResponse = (s: IssuedSession) => ({
  access_token: s.accessToken,
  token_type: 'Bearer' as const,
  expires_in: ACCESS_TOKEN_TTL_SECONDS,
  refresh_token: s.refreshToken,
  refresh_expires_at: s.refreshExpiresAt.toISOString(),
});

const invalid = () =>
  new UnauthorizedError('The refresh token is not valid. Log in again.', 'invalid_refresh_token');

/**
 * Rotates a refresh token: the old one is marked used and a new one of the same family is
 * returned. Using an already-rotated token revokes the whole family (theft), except within a
 * few seconds of its rotation (a lost response), when a fresh token replaces the unseen one.
 */
export async function rotateRefreshToken(options: {
  database: TenantDatabase;
  jwtKey: Uint8Array;
  token: string;
  client: ClientInfo;
  requestId: string;
  /** This process's credential cache, told at once when reuse ends the session. */
  credentials?: Pick<CredentialCache, 'forget'>;
}): Promise<IssuedSession> {
  const { database, token } = options;
  if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > 200) throw invalid();
  const found = await refreshLookup(database, sha256(token));
  if (!found) throw invalid();
  const outcome = await withTenant(database, selfActor(found.ownerId), async (tx) => {
    const [current] = await tx
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.id, found.id))
      .for('update');
    const [user] = await tx.select().from(users).where(eq(users.id, found.ownerId));
    if (!current || !user) return { kind: 'invalid' as const };
    const audit: AuditContext = {
      actor: selfActor(user.id, user.username),
      ip: options.client.ip,
      requestId: options.requestId,
    };
    if (current.revokedAt || current.expiresAt.getTime() <= Date.now() || !user.isActive) {
      return { kind: 'invalid' as const };
    }
    if (current.usedAt) {
      const age = (Date.now() - current.usedAt.getTime()) / 1000;
      if (age > REFRESH_REUSE_GRACE_SECONDS) {
        const revoked = await revokeSessions(tx, {
          userId: user.id,
          familyId: current.familyId,
          reason: 'reuse',
        });
        await writeAudit(tx, audit, {
          action: 'auth.refresh_reuse',
          entityType: 'session',
          entityId: current.familyId,
          details: { revoked_tokens: revoked },
        });
        return { kind: 'reused' as const };
      }
      // Lost response: the token issued in its place was never seen; replace it.
      await tx
        .update(refreshTokens)
        .set({ revokedAt: sql`now()`, revokedReason: 'grace_reissue' })
        .where(
          and(
            eq(refreshTokens.familyId, current.familyId),
            isNull(refreshTokens.usedAt),
            isNull(refreshTokens.revokedAt),
          ),
        );
    }
    const issued = await issueSession(tx, {
      user,
      jwtKey: options.jwtKey,
      client: options.client,
      familyId: current.familyId,
    });
    await tx
      .update(refreshTokens)
      .set({ usedAt: current.usedAt ?? sql`now()`, replacedBy: issued.refreshId })
      .where(eq(refreshTokens.id, current.id));
    return { kind: 'ok' as const, issued };
  });
  if (outcome.kind === 'reused') {
    options.credentials?.forget({ sessionId: found.familyId });
    throw new UnauthorizedError(
      'This refresh token was already used. Every session it belonged to has been ended; log in again.',
      'refresh_token_reused',
    );
  }
  if (outcome.kind === 'invalid') throw invalid();
  return outcome.issued;
}

/** Ends the login session a refresh token belongs to. Unknown tokens are ignored. */
export async function endSessionByRefreshToken(options: {
  database: TenantDatabase;
  token: string;
  audit: Omit<AuditContext, 'actor'>;
  credentials?: Pick<CredentialCache, 'forget'>;
}): Promise<boolean> {
  if (!options.token.startsWith(REFRESH_TOKEN_PREFIX) || options.token.length > 200) return false;
  const found = await refreshLookup(options.database, sha256(options.token));
  if (!found) return false;
  return endSession({
    database: options.database,
    userId: found.ownerId,
    sessionId: found.familyId,
    audit: options.audit,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

export async function endSession(options: {
  database: TenantDatabase;
  userId: string;
  sessionId: string;
  audit: Omit<AuditContext, 'actor'>;
  /** This process's credential cache: forgets the session at once (others hear of it). */
  credentials?: Pick<CredentialCache, 'forget'>;
}): Promise<boolean> {
  const ended = await withTenant(options.database, selfActor(options.userId), async (tx) => {
    const revoked = await revokeSessions(tx, {
      userId: options.userId,
      familyId: options.sessionId,
      reason: 'logout',
    });
    const [user] = await tx
      .select({ username: users.username })
      .from(users)
      .where(eq(users.id, options.userId));
    await writeAudit(
      tx,
      { ...options.audit, actor: selfActor(options.userId, user?.username) },
      { action: 'auth.logout', entityType: 'session', entityId: options.sessionId },
    );
    return revoked > 0;
  });
  options.credentials?.forget({ sessionId: options.sessionId });
  return ended;
}
