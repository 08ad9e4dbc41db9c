import { inArray } from 'drizzle-orm';
import { Type } from 'typebox';
import { users } from '../db/schema.js';
import type { Actor, Tx } from '../db/tenant.js';
import { BadRequestError, ForbiddenError } from './errors.js';

/**
 * Admin scope (issue 16): the database lets an admin read every user's rows (the policies'
 * app_is_admin(), migration 0007); the API shows an admin their own inventory unless they ask
 * for everyone's with scope=all (or one user's with owner_id).
 */
export const ScopeParam = Type.Optional(
  Type.Literal('all', {
    description:
      "Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user.",
  }),
);

export const OwnerIdParam = Type.Optional(
  Type.String({
    format: 'uuid',
    description: "Admins: only this user's objects (implies scope=all)",
  }),
);

const isAdmin = (actor: Actor) => actor.kind === 'user' && actor.role === 'admin';

/**
 * The owner a list, export, count or feed is restricted to: owner_id when given, nobody
 * (null: everyone's) for scope=all, else the caller. Both are for admins only (403
 * admin_only). Non-user actors (nodes) are left to the row policies (null).
 */
export function scopeOwner(
  actor: Actor,
  query: { scope?: 'all'; owner_id?: string },
): string | null {
  if (query.owner_id !== undefined) {
    if (!isAdmin(actor))
      throw new ForbiddenError('Only an admin may filter by owner_id.', 'admin_only');
    return query.owner_id;
  }
  if (query.scope === 'all') {
    if (!isAdmin(actor))
      throw new ForbiddenError('Only an admin may ask for scope=all.', 'admin_only');
    return null;
  }
  return actor.kind === 'user' ? actor.userId : null;
}

/** Whether a restricted scope can hold other users' objects (so items carry their owner). */
export function showsOthers(actor: Actor, owner: string | null): boolean {
  return actor.kind === 'user' && owner !== actor.userId;
}

/** The owner of an object as lists with scope=all and other users' objects show it. */
export const OwnerRef = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
  },
  {
    description:
      'Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours).',
  },
);

/** Usernames of the given owners, in one query (an admin reads every user). */
export async function ownerNames(tx: Tx, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await tx
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(inArray(users.id, unique));
  return new Map(rows.map((r) => [r.id, r.username]));
}

/** The DTOs with their owner ({id, username}) added. */
export async function withOwners<T extends { owner_id: string }>(
  tx: Tx,
  items: T[],
): Promise<Array<T & { owner: { id: string; username: string } }>> {
  const names = await ownerNames(
    tx,
    items.map((i) => i.owner_id),
  );
  return items.map((i) => ({
    ...i,
    owner: { id: i.owner_id, username: names.get(i.owner_id) ?? '(deleted user)' },
  }));
}

/**
 * Why an admin reveals another user's secret: required then, written to the audit entry the
 * owner sees. Bounded, printable, not blank.
 */
export const REASON_MAX = 500;
export const ReasonParam = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: REASON_MAX,
    pattern: '^[^\\x00-\\x1F\\x7F]*$',
    description:
      "Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects.",
  }),
);

/**
 * The reason of a reveal: required (400 reason_required) when the object belongs to someone
 * other than the caller; trimmed. Undefined for the caller's own object.
 */
export function revealReason(
  actor: Actor,
  ownerId: string,
  reason: string | undefined,
  where: 'querystring' | 'body' = 'querystring',
): string | undefined {
  // A user who is not an admin reaches another user's object only through a share (migration
  // 0020), whose secrets rule the caller checks: no reason asked.
  if (actor.kind !== 'user' || actor.userId === ownerId || actor.role !== 'admin')
    return reason?.trim() || undefined;
  const trimmed = reason?.trim();
  if (!trimmed) {
    throw new BadRequestError(
      "Revealing another user's secret needs a reason; it is written to their audit log.",
      'reason_required',
      [{ path: `/${where}/reason`, message: "is required for another user's object" }],
    );
  }
  return trimmed;
}
