import { and, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { Type } from 'typebox';
import { type GrantObjectType, grants } from '../../db/schema.js';
import { type Actor, rowsOf, type Tx } from '../../db/tenant.js';
import { ForbiddenError } from '../../http/errors.js';

/**
 * Objects other users shared with the caller (migration 0020): the database shows them
 * through its share policies; this is what the API adds around them. No grant is ever kept
 * in memory: every request reads them again, so a revoked share is gone at the next one.
 */

/** At most this many grants name one object (migration 0020, app_grants_max_per_object). */
export const MAX_GRANTS_PER_OBJECT = 100;

export type SharedMode = 'include' | 'exclude' | 'only';

export const SharedParam = Type.Optional(
  Type.Union([Type.Literal('include'), Type.Literal('exclude'), Type.Literal('only')], {
    default: 'include',
    description:
      'Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only.',
  }),
);

/** Columns of a shareable table the list condition needs. */
export interface ShareColumns {
  id: PgColumn;
  ownerId: PgColumn;
  nodeId?: PgColumn;
}

const userOf = (actor: Actor): string | null => (actor.kind === 'user' ? actor.userId : null);

/** The ids of the caller's grants of one type, as a subquery (the grantee's own policy). */
const grantedIds = (me: string, type: GrantObjectType) =>
  sql`(SELECT g.object_id FROM grants g WHERE g.grantee_id = ${me} AND g.object_type = ${type})`;

/** The condition "shared with me" of a list of the given type. */
export function sharedWithMe(type: GrantObjectType, columns: ShareColumns, me: string): SQL {
  const direct = sql`${columns.id} IN ${grantedIds(me, type)}`;
  if (type === 'vm' && columns.nodeId) {
    return or(direct, sql`${columns.nodeId} IN ${grantedIds(me, 'proxmox_node')}`) as SQL;
  }
  return direct;
}

/**
 * The owner condition of a list in the caller's own scope, by the shared parameter. A user
 * who has received no share of the type (the usual case, one look-up in the grantee's index)
 * gets the plain `owner_id = me`, which the (owner_id, …) indexes serve in order; with shares
 * the condition is an OR the planner answers with a bitmap and a sort (docs/api.md).
 */
export async function ownScopeCondition(
  tx: Tx,
  type: GrantObjectType,
  columns: ShareColumns,
  me: string,
  mode: SharedMode | undefined,
): Promise<SQL> {
  const own = eq(columns.ownerId, me);
  if (mode === 'exclude') return own;
  const types: GrantObjectType[] = type === 'vm' ? ['vm', 'proxmox_node'] : [type];
  const [any] = await tx
    .select({ id: grants.id })
    .from(grants)
    .where(and(eq(grants.granteeId, me), inArray(grants.objectType, types)))
    .limit(1);
  if (!any) return mode === 'only' ? sql`false` : own;
  if (mode === 'only') {
    return and(sql`${columns.ownerId} <> ${me}`, sharedWithMe(type, columns, me)) as SQL;
  }
  return or(own, sharedWithMe(type, columns, me)) as SQL;
}

export interface ShareInfo {
  shared_by: { id: string; username: string };
  permission: 'read' | 'write';
  secrets_shared?: boolean;
}

/** Usernames of the users the caller shares with (either way), in one query. */
export async function shareUsernames(tx: Tx, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = rowsOf<{ id: string; username: string }>(
    await tx.execute(
      sql`SELECT id, username FROM app_share_usernames(${`{${unique.join(',')}}`}::uuid[])`,
    ),
  );
  return new Map(rows.map((r) => [r.id, r.username]));
}

/**
 * The objects among `items` that other users shared with the caller, each with its share:
 * who shared it, the permission (a VM: the wider of its own grant and its node's) and, for
 * accounts, whether the secrets come with it. Two queries per page, whatever its size.
 */
export async function sharesOf(
  tx: Tx,
  actor: Actor,
  type: GrantObjectType,
  items: Array<{ id: string; owner_id: string; node_id?: string | null }>,
): Promise<Map<string, ShareInfo>> {
  const me = userOf(actor);
  const out = new Map<string, ShareInfo>();
  const others = items.filter((i) => i.owner_id !== me);
  if (me === null || others.length === 0) return out;
  const nodeIds = type === 'vm' ? others.flatMap((i) => (i.node_id ? [i.node_id] : [])) : [];
  const rows = await tx
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.granteeId, me),
        or(
          and(
            eq(grants.objectType, type),
            inArray(
              grants.objectId,
              others.map((i) => i.id),
            ),
          ),
          nodeIds.length > 0
            ? and(eq(grants.objectType, 'proxmox_node'), inArray(grants.objectId, nodeIds))
            : undefined,
        ),
      ),
    );
  if (rows.length === 0) return out;
  const names = await shareUsernames(
    tx,
    rows.map((r) => r.ownerId),
  );
  const byObject = new Map(rows.map((r) => [`${r.objectType}:${r.objectId}`, r]));
  for (const item of others) {
    const found = [
      byObject.get(`${type}:${item.id}`),
      type === 'vm' && item.node_id ? byObject.get(`proxmox_node:${item.node_id}`) : undefined,
    ].filter((g) => g !== undefined && g.ownerId === item.owner_id);
    const first = found[0];
    if (!first) continue;
    out.set(item.id, {
      shared_by: { id: first.ownerId, username: names.get(first.ownerId) ?? '(unknown user)' },
      permission: found.some((g) => g?.permission === 'write') ? 'write' : 'read',
      ...(type === 'account' ? { secrets_shared: found.some((g) => g?.secrets) } : {}),
    });
  }
  return out;
}

/** The items with their share fields added (objects shared with the caller only). */
export async function withShares<T extends { id: string; owner_id: string }>(
  tx: Tx,
  actor: Actor,
  type: GrantObjectType,
  items: T[],
): Promise<T[]> {
  const shares = await sharesOf(tx, actor, type, items as never);
  if (shares.size === 0) return items;
  return items.map((i) => {
    const share = shares.get(i.id);
    return share ? { ...i, ...share } : i;
  });
}

/** Is the caller an admin (who reads every user's rows through the admin policy)? */
export const isAdminActor = (actor: Actor) => actor.kind === 'user' && actor.role === 'admin';

/**
 * A grantee's use of a shared account's secrets: allowed only when the share says so (403
 * secrets_not_shared otherwise). The database enforces the same (the owner's data key is
 * readable only through such a grant); this answers it clearly, before any audit entry.
 * The owner and admins pass (an admin's reveal of another user's secret needs a reason).
 */
export async function assertSecretsShared(
  tx: Tx,
  actor: Actor,
  row: { id: string; ownerId: string },
): Promise<void> {
  if (actor.kind !== 'user' || actor.userId === row.ownerId || actor.role === 'admin') return;
  const [granted] = rowsOf<{ ok: boolean }>(
    await tx.execute(sql`SELECT app_secrets_granted(${row.id}::uuid, ${row.ownerId}::uuid) AS ok`),
  );
  if (!granted?.ok) throw secretsNotShared();
}

export const secretsNotShared = () =>
  new ForbiddenError(
    'This account is shared with you without its secrets; ask its owner to share them.',
    'secrets_not_shared',
  );
