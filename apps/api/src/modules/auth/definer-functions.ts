import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rowsOf, withTenant } from '../../db/tenant.js';

/**
 * Calls to the narrow SECURITY DEFINER functions of migration 0001, made before a user is
 * known. They run in an anonymous tenant transaction: the request role, no user context.
 */
function anonymous<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  return withTenant(db, { kind: 'anonymous' }, async (tx) => rowsOf<T>(await tx.execute(query)));
}

export async function setupNeeded(db: Db): Promise<boolean> {
  const [row] = await anonymous<{ needed: boolean }>(db, sql`SELECT auth_setup_needed() AS needed`);
  return row?.needed === true;
}

export async function createFirstAdmin(
  db: Db,
  user: { username: string; email: string; passwordHash: string },
): Promise<string | null> {
  const [row] = await anonymous<{ id: string | null }>(
    db,
    sql`SELECT auth_create_first_admin(${user.username}, ${user.email}, ${user.passwordHash}) AS id`,
  );
  return row?.id ?? null;
}

/** Registers a plain user; null while setup has not made the first admin. */
export async function registerUser(
  db: Db,
  user: { username: string; email: string; passwordHash: string },
): Promise<string | null> {
  const [row] = await anonymous<{ id: string | null }>(
    db,
    sql`SELECT auth_register_user(${user.username}, ${user.email}, ${user.passwordHash}) AS id`,
  );
  return row?.id ?? null;
}

export interface LoginLookup {
  userId: string | null;
  passwordHash: string | null;
  isActive: boolean | null;
  lockedUntil: Date | null;
}

export async function loginLookup(db: Db, login: string): Promise<LoginLookup> {
  const [row] = await anonymous<{
    user_id: string | null;
    password_hash: string | null;
    is_active: boolean | null;
    locked_until: string | Date | null;
  }>(db, sql`SELECT * FROM auth_login_lookup(${login})`);
  return {
    userId: row?.user_id ?? null,
    passwordHash: row?.password_hash ?? null,
    isActive: row?.is_active ?? null,
    lockedUntil: row?.locked_until ? new Date(row.locked_until) : null,
  };
}

export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

/** Records a failed login; returns the lock's end when this failure locked the name. */
export async function recordLoginFailure(
  db: Db,
  options: { login: string; userId: string | null; policy: LockoutPolicy },
): Promise<Date | null> {
  const { login, userId, policy } = options;
  const [row] = await anonymous<{ locked_until: string | Date | null }>(
    db,
    sql`SELECT auth_record_login_failure(${login}, ${userId}::uuid, ${policy.threshold}::int, ${policy.baseSeconds}::int, ${policy.maxSeconds}::int) AS locked_until`,
  );
  return row?.locked_until ? new Date(row.locked_until) : null;
}

export async function recordLoginSuccess(db: Db, userId: string): Promise<void> {
  await anonymous(db, sql`SELECT auth_record_login_success(${userId}::uuid)`);
}

export interface SessionState {
  username: string;
  role: 'admin' | 'user';
  isActive: boolean;
  sessionOpen: boolean;
}

export async function sessionState(
  db: Db,
  options: { userId: string; sessionId: string },
): Promise<SessionState | null> {
  const [row] = await anonymous<{
    username: string;
    role: 'admin' | 'user';
    is_active: boolean;
    session_open: boolean;
  }>(
    db,
    sql`SELECT * FROM auth_session_state(${options.userId}::uuid, ${options.sessionId}::uuid)`,
  );
  return row
    ? {
        username: row.username,
        role: row.role,
        isActive: row.is_active,
        sessionOpen: row.session_open,
      }
    : null;
}

export interface RefreshLookup {
  id: string;
  ownerId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export async function refreshLookup(db: Db, tokenHash: Buffer): Promise<RefreshLookup | null> {
  const [row] = await anonymous<{
    id: string;
    owner_id: string;
    family_id: string;
    expires_at: string | Date;
    used_at: string | Date | null;
    revoked_at: string | Date | null;
  }>(db, sql`SELECT * FROM auth_refresh_lookup(${tokenHash})`);
  if (!row) return null;
  return {
    id: row.id,
    ownerId: row.owner_id,
    familyId: row.family_id,
    expiresAt: new Date(row.expires_at),
    usedAt: row.used_at ? new Date(row.used_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  };
}

export interface ApiTokenLookup {
  id: string;
  ownerId: string;
  tokenHash: Buffer;
  scopes: Array<'read' | 'write'>;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  username: string;
  role: 'admin' | 'user';
  isActive: boolean;
}

export async function apiTokenLookup(db: Db, prefix: string): Promise<ApiTokenLookup | null> {
  const [row] = await anonymous<{
    id: string;
    owner_id: string;
    token_hash: Buffer | Uint8Array;
    scopes: Array<'read' | 'write'>;
    expires_at: string | Date | null;
    last_used_at: string | Date | null;
    username: string;
    role: 'admin' | 'user';
    is_active: boolean;
  }>(db, sql`SELECT * FROM auth_api_token_lookup(${prefix})`);
  if (!row) return null;
  return {
    id: row.id,
    ownerId: row.owner_id,
    tokenHash: Buffer.from(row.token_hash),
    scopes: row.scopes,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    username: row.username,
    role: row.role,
    isActive: row.is_active,
  };
}

export interface NodeKeyLookup {
  nodeId: string;
  ownerId: string;
  keyHash: Buffer;
  ownerActive: boolean;
}

export async function nodeKeyLookup(db: Db, prefix: string): Promise<NodeKeyLookup | null> {
  const [row] = await anonymous<{
    node_id: string;
    owner_id: string;
    key_hash: Buffer | Uint8Array;
    owner_active: boolean;
  }>(db, sql`SELECT * FROM auth_node_key_lookup(${prefix})`);
  if (!row) return null;
  return {
    nodeId: row.node_id,
    ownerId: row.owner_id,
    keyHash: Buffer.from(row.key_hash),
    ownerActive: row.owner_active,
  };
}

export interface SystemAuditEntry {
  ownerId: string | null;
  actorType: 'anonymous' | 'system' | 'user';
  actorId: string | null;
  actorName: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** Audit entry written before a user is known (failed login, setup, registration). */
export async function writeSystemAudit(db: Db, e: SystemAuditEntry): Promise<void> {
  await anonymous(
    db,
    sql`SELECT audit_write_system(${e.ownerId}::uuid, ${e.actorType}, ${e.actorId}::uuid, ${e.actorName}, ${e.action}, ${e.entityType}, ${e.entityId}, ${e.ip}, ${e.requestId}, ${JSON.stringify(e.details)}::jsonb)`,
  );
}
