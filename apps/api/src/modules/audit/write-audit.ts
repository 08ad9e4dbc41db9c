import { auditLog } from '../../db/schema.js';
import type { Actor, Tx } from '../../db/tenant.js';

/** Who did it, from where: taken from the request once and passed to writers. */
export interface AuditContext {
  actor: Actor;
  ip: string | null;
  requestId: string | null;
}

export interface AuditEntry {
  action: string;
  entityType?: string;
  entityId?: string;
  /** The user whose data the event concerns; defaults to the acting user (or node owner). */
  ownerId?: string | null;
  /** Never a secret: names of changed fields, counts, ids. */
  details?: Record<string, unknown>;
  /**
   * A second user whose log gets a copy of the entry (the other side of a share, migration
   * 0020). Without it, a user who is not an admin acting on another user's object (a
   * grantee's write or reveal of a shared object) gets the copy in their own log.
   */
  alsoFor?: string;
}

function actorColumns(actor: Actor): {
  actorType: 'user' | 'token' | 'node' | 'anonymous';
  actorId: string | null;
  actorName: string | null;
} {
  switch (actor.kind) {
    case 'user':
      return actor.via === 'token'
        ? { actorType: 'token', actorId: actor.userId, actorName: actor.username }
        : { actorType: 'user', actorId: actor.userId, actorName: actor.username };
    case 'node':
      return { actorType: 'node', actorId: actor.nodeId, actorName: null };
    case 'anonymous':
    case 'login':
      return { actorType: 'anonymous', actorId: null, actorName: null };
  }
}

function defaultOwner(actor: Actor): string | null {
  if (actor.kind === 'user') return actor.userId;
  if (actor.kind === 'node') return actor.ownerId;
  return null;
}

/** The audit_log row of an entry: what writeAudit() inserts, for writers that insert it in SQL. */
export function auditRow(ctx: AuditContext, entry: AuditEntry) {
  const details: Record<string, unknown> = { ...(entry.details ?? {}) };
  if (ctx.actor.kind === 'user' && ctx.actor.tokenId) details.token_id = ctx.actor.tokenId;
  return {
    ...actorColumns(ctx.actor),
    ownerId: entry.ownerId === undefined ? defaultOwner(ctx.actor) : entry.ownerId,
    action: entry.action,
    entityType: entry.entityType ?? null,
    entityId: entry.entityId ?? null,
    ip: ctx.ip,
    requestId: ctx.requestId,
    details,
  };
}

/**
 * Appends an audit entry inside the caller's tenant transaction, so the entry and the change
 * it records commit together (and a failed audit write fails the change).
 */
export async function writeAudit(tx: Tx, ctx: AuditContext, entry: AuditEntry): Promise<void> {
  const row = auditRow(ctx, entry);
  const copyFor = entry.alsoFor ?? sharedActorCopy(ctx.actor, row.ownerId);
  await tx
    .insert(auditLog)
    .values(
      copyFor !== undefined && copyFor !== row.ownerId
        ? [row, { ...row, ownerId: copyFor }]
        : [row],
    );
}

/** A grantee acting on a shared object: their own log keeps a copy of the owner's entry. */
function sharedActorCopy(actor: Actor, ownerId: string | null): string | undefined {
  if (actor.kind !== 'user' || actor.role === 'admin' || ownerId === null) return undefined;
  return ownerId === actor.userId ? undefined : actor.userId;
}
