import { sql } from 'drizzle-orm';
import { type Actor, rowsOf, type TenantDatabase, withTenant } from '../../db/tenant.js';

/**
 * Calls to the narrow SECURITY DEFINER functions of migrations 0001, 0003 and 0007, made
 * before a user is known. They run in an anonymous tenant transaction (the request role, no
 * user), or for the password login in the login path's own context, the only one that gets a
 * password hash.
 */
function beforeUser<T>(
  database: TenantDatabase,
  query: ReturnType<typeof sql>,
  actor: Actor = { kind: 'anonymous' },
): Promise<T[]> {
  return withTenant(database, actor, async (tx) => rowsOf<T>(await tx.execute(query)));
}

export async function setupNeeded(database: TenantDatabase): Promise<boolean> {
  const [row] = await beforeUser<{ needed: boolean }>(
    database,
    sql`SELECT auth_setup_needed() AS needed`,
  );
  return row?.needed === true;
}

export async function createFirstAdmin(
  database: TenantDatabase,
  user: { username: string; email: string; passwordHash: string },
): Promise<string | null> {
  const [row] = await beforeUser<{ id: string | null }>(
    database,
    sql`SELECT auth_create_first_admin(${user.username}, ${user.email}, ${user.passwordHash}) AS id`,
  );
  return row?.id ?? null;
}

/** Registers a plain user; null while setup has not made the first admin. */
export async function registerUser(
  database: TenantDatabase,
  user: { username: string; email: string; passwordHash: string },
): Promise<string | null> {
  const [row] = await beforeUser<{ id: string | null }>(
    database,
    sql`SELECT auth_register_user(${user.username}, ${user.email}, ${user.passwordHash}) AS id`,
  );
  return row?.id ?? null;
}

export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export type LoginStart =
  /** The name is locked: nothing is checked until then. */
  | { refusedUntil: Date }
  | {
      refusedUntil: null;
      /** Set when this attempt locked the name (it is checked all the same). */
      lockedUntil: Date | null;
      userId: string | null;
      passwordHash: string | null;
      isActive: boolean | null;
    };

const asDate = (v: string | Date | null | undefined): Date | null => (v ? new Date(v) : null);

/**
 * Starts a password login (auth_login_begin): counts the attempt on the typed name (known or
 * not) and, unless the name is locked, returns what the password check needs. The check and
 * the count are one statement, so parallel attempts cannot all slip past the lock.
 */
export async function beginLogin(
  database: TenantDatabase,
  options: { login: string; policy: LockoutPolicy },
): Promise<LoginStart> {
  const { policy } = options;
  const [row] = await beforeUser<{
    refused_until: string | Date | null;
    locked_until: string | Date | null;
    user_id: string | null;
    password_hash: string | null;
    is_active: boolean | null;
  }>(
    database,
    sql`SELECT * FROM auth_login_begin(${options.login}, ${policy.threshold}::int, ${policy.baseSeconds}::int, ${policy.maxSeconds}::int)`,
    { kind: 'login' },
  );
  const refusedUntil = asDate(row?.refused_until);
  if (refusedUntil) return { refusedUntil };
  return {
    refusedUntil: null,
    lockedUntil: asDate(row?.locked_until),
    userId: row?.user_id ?? null,
    passwordHash: row?.password_hash ?? null,
    isActive: row?.is_active ?? null,
  };
}

/** A login that passed: the name's count starts again and the login time is recorded. */
export async function loginSucceeded(
  database: TenantDatabase,
  options: { login: string; userId: string },
): Promise<Date> {
  await beforeUser(
    database,
    sql`SELECT auth_login_succeeded(${options.login}, ${options.userId}::uuid)`,
    { kind: 'login' },
  );
  // The user's last_login_at is now (set by the database; this process's clock is close
  // enough for the answer's user, which shows it).
  return new Date();
}

/**
 * Replaces the bcrypt hash a login just verified with an argon2id hash of the same password
 * (auth_login_rehash, migration 0010); false when the hash changed in between (kept).
 */
export async function rehashPassword(
  database: TenantDatabase,
  options: { userId: string; oldHash: string; newHash: string },
): Promise<boolean> {
  const [row] = await beforeUser<{ done: boolean }>(
    database,
    sql`SELECT auth_login_rehash(${options.userId}::uuid, ${options.oldHash}, ${options.newHash}) AS done`,
    { kind: 'login' },
  );
  return row?.done === true;
}

export interface SessionState {
  username: string;
  role: 'admin' | 'user';
  isActive: boolean;
  sessionOpen: boolean;
}

export async function sessionState(
  database: TenantDatabase,
  options: { userId: string; sessionId: string },
): Promise<SessionState | null> {
  const [row] = await beforeUser<{
    username: string;
    role: 'admin' | 'user';
    is_active: boolean;
    session_open: boolean;
  }>(
    database,
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

export async function refreshLookup(
  database: TenantDatabase,
  tokenHash: Buffer,
): Promise<RefreshLookup | null> {
  const [row] = await beforeUser<{
    id: string;
    owner_id: string;
    family_id: string;
    expires_at: string | Date;
    used_at: string | Date | null;
    revoked_at: string | Date | null;
  }>(database, sql`SELECT * FROM auth_refresh_lookup(${tokenHash})`);
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

export async function apiTokenLookup(
  database: TenantDatabase,
  prefix: string,
): Promise<ApiTokenLookup | null> {
  const [row] = await beforeUser<{
    id: string;
    owner_id: string;
    token_hash: Buffer | Uint8Array;
    scopes: Array<'read' | 'write'>;
    expires_at: string | Date | null;
    last_used_at: string | Date | null;
    username: string;
    role: 'admin' | 'user';
    is_active: boolean;
  }>(database, sql`SELECT * FROM auth_api_token_lookup(${prefix})`);
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

export async function nodeKeyLookup(
  database: TenantDatabase,
  prefix: string,
): Promise<NodeKeyLookup | null> {
  const [row] = await beforeUser<{
    node_id: string;
    owner_id: string;
    key_hash: Buffer | Uint8Array;
    owner_active: boolean;
  }>(database, sql`SELECT * FROM auth_node_key_lookup(${prefix})`);
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
export async function writeSystemAudit(
  database: TenantDatabase,
  e: SystemAuditEntry,
  actor: Actor = { kind: 'anonymous' },
): Promise<void> {
  await beforeUser(
    database,
    sql`SELECT audit_write_system(${e.ownerId}::uuid, ${e.actorType}, ${e.actorId}::uuid, ${e.actorName}, ${e.action}, ${e.entityType}, ${e.entityId}, ${e.ip}, ${e.requestId}, ${JSON.stringify(e.details)}::jsonb)`,
    actor,
  );
}
