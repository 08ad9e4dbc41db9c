import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, count, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { accounts, type GrantObjectType, grants, proxmoxNodes, vms } from '../../db/schema.js';
import { type Actor, rowsOf, type Tx } from '../../db/tenant.js';
import { auditContext } from '../../http/auth-hooks.js';
import {
  AppError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
} from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { CreateGrantBody, Grant, GrantList, GrantListQuery, UpdateGrantBody } from './schemas.js';
import { MAX_GRANTS_PER_OBJECT, shareUsernames } from './shares.js';

type Row = typeof grants.$inferSelect;

const IdParams = Type.Object({
  id: Type.String({
    format: 'uuid',
    description: 'Grant id',
    examples: ['0194c3a2-0000-7000-8000-0000000000f1'],
  }),
});

const LABEL: Record<GrantObjectType, string> = {
  proxmox_node: 'Proxmox node',
  vm: 'VM',
  account: 'account',
};

/** The table and name column of each shareable type. */
const OBJECTS = {
  proxmox_node: { table: proxmoxNodes, name: proxmoxNodes.name },
  vm: { table: vms, name: vms.name },
  account: { table: accounts, name: accounts.username },
} as const;

const me = (actor: Actor): string => {
  if (actor.kind !== 'user') throw new ForbiddenError('Only users share objects.', 'user_only');
  return actor.userId;
};

/** Names of the objects of some grants (those the caller can see), in one query per type. */
async function objectNames(tx: Tx, rows: Row[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const type of Object.keys(OBJECTS) as GrantObjectType[]) {
    const ids = rows.filter((r) => r.objectType === type).map((r) => r.objectId);
    if (ids.length === 0) continue;
    const { table, name } = OBJECTS[type];
    const found = (await tx
      .select({ id: table.id, name })
      .from(table)
      .where(inArray(table.id, ids))) as Array<{ id: string; name: string | null }>;
    for (const f of found) out.set(`${type}:${f.id}`, f.name);
  }
  return out;
}

async function toDtos(tx: Tx, rows: Row[]) {
  const names = await shareUsernames(
    tx,
    rows.flatMap((r) => [r.ownerId, r.granteeId]),
  );
  const objects = await objectNames(tx, rows);
  const user = (id: string) => ({ id, username: names.get(id) ?? '(unknown user)' });
  return rows.map((r) => ({
    id: r.id,
    object_type: r.objectType,
    object_id: r.objectId,
    object_name: objects.get(`${r.objectType}:${r.objectId}`) ?? null,
    owner: user(r.ownerId),
    grantee: user(r.granteeId),
    permission: r.permission,
    secrets: r.secrets,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  }));
}

function checkSecretsFlag(type: GrantObjectType, secrets: boolean | undefined): void {
  if (secrets && type !== 'account') {
    throw new BadRequestError(
      'Only an account is shared with its secrets.',
      'secrets_accounts_only',
      [{ path: '/body/secrets', message: 'may be true for object_type account only' }],
    );
  }
}

/** A grant the caller made or received, or 404 (a grant of others is no business of theirs). */
async function loadGrant(tx: Tx, actor: Actor, id: string): Promise<Row> {
  const user = me(actor);
  const [row] = await tx
    .select()
    .from(grants)
    .where(
      and(eq(grants.id, id), sql`(${grants.ownerId} = ${user} OR ${grants.granteeId} = ${user})`),
    );
  if (!row) throw new NotFoundError('grant');
  return row;
}

const auditDetails = (r: Row, extra: Record<string, unknown> = {}) => ({
  object_type: r.objectType,
  object_id: r.objectId,
  owner_id: r.ownerId,
  grantee_id: r.granteeId,
  permission: r.permission,
  secrets: r.secrets,
  ...extra,
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(Grant);

  app.get(
    '/grants',
    {
      schema: {
        tags: ['grants'],
        summary: 'List shares',
        description:
          'The shares you made (direction=given, default) or that other users made to you (direction=received), newest first, optionally of one object.',
        querystring: GrantListQuery,
        response: { 200: GrantList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const query = request.query;
      const user = me(request.actor);
      return app.tenant(request, async (tx) => {
        const conditions: Array<SQL | undefined> = [
          query.direction === 'received' ? eq(grants.granteeId, user) : eq(grants.ownerId, user),
          query.object_type ? eq(grants.objectType, query.object_type) : undefined,
          query.object_id ? eq(grants.objectId, query.object_id) : undefined,
        ];
        const rows = await tx
          .select()
          .from(grants)
          .where(and(...conditions))
          .orderBy(desc(grants.createdAt), desc(grants.id))
          .limit(query.limit);
        return { items: (await toDtos(tx, rows)) as never };
      });
    },
  );

  app.post(
    '/grants',
    {
      schema: {
        tags: ['grants'],
        summary: 'Share an object',
        description:
          'Shares one of your Proxmox nodes (with every VM on it), VMs or accounts with another user, read or ' +
          'read-write; an account optionally with its secrets. The grantee sees it at their next request, marked ' +
          `shared_by. Audited in both users' logs (grant.create). 404 when the object is not yours or no active user ` +
          `has that username; 409 grant_exists when it is already shared with them (change it with PATCH); 422 ` +
          `too_many_grants beyond ${MAX_GRANTS_PER_OBJECT} grants on one object.`,
        body: CreateGrantBody,
        response: {
          201: Type.Ref('Grant'),
          ...problemResponses(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const user = me(request.actor);
      checkSecretsFlag(body.object_type, body.secrets);
      const dto = await app.tenant(request, async (tx) => {
        const { table } = OBJECTS[body.object_type];
        const [object] = (await tx
          .select({ id: table.id })
          .from(table)
          .where(and(eq(table.id, body.object_id), eq(table.ownerId, user)))) as Array<{
          id: string;
        }>;
        if (!object) throw new NotFoundError(LABEL[body.object_type]);
        const [grantee] = rowsOf<{ id: string; username: string }>(
          await tx.execute(sql`SELECT id, username FROM app_share_grantee(${body.grantee})`),
        );
        if (!grantee) throw new NotFoundError('user', 'grantee_not_found');
        if (grantee.id === user) {
          throw new BadRequestError(
            'You cannot share an object with yourself.',
            'grantee_is_owner',
            [{ path: '/body/grantee', message: 'is you' }],
          );
        }
        const [existing] = await tx
          .select({ id: grants.id })
          .from(grants)
          .where(
            and(
              eq(grants.objectType, body.object_type),
              eq(grants.objectId, body.object_id),
              eq(grants.granteeId, grantee.id),
            ),
          );
        if (existing) {
          throw new ConflictError(
            `This ${LABEL[body.object_type]} is already shared with ${grantee.username}; change that grant instead.`,
            'grant_exists',
          );
        }
        const [n] = await tx
          .select({ n: count() })
          .from(grants)
          .where(and(eq(grants.objectType, body.object_type), eq(grants.objectId, body.object_id)));
        if ((n?.n ?? 0) >= MAX_GRANTS_PER_OBJECT) {
          throw new AppError(
            422,
            'too_many_grants',
            `One object may be shared with at most ${MAX_GRANTS_PER_OBJECT} users.`,
          );
        }
        const [row] = await tx
          .insert(grants)
          .values({
            ownerId: user,
            granteeId: grantee.id,
            objectType: body.object_type,
            objectId: body.object_id,
            permission: body.permission ?? 'read',
            secrets: body.secrets ?? false,
          })
          .returning();
        if (!row) throw new Error('insert returned no row');
        await writeAudit(tx, auditContext(request), {
          action: 'grant.create',
          entityType: body.object_type,
          entityId: body.object_id,
          details: auditDetails(row, { grant_id: row.id }),
          alsoFor: grantee.id,
        });
        return (await toDtos(tx, [row]))[0];
      });
      return reply
        .code(201)
        .header('location', `/api/v1/grants/${dto?.id}`)
        .send(dto as never);
    },
  );

  app.patch(
    '/grants/:id',
    {
      schema: {
        tags: ['grants'],
        summary: 'Change a share',
        description:
          "Changes a share you made: its permission and (accounts) secrets flag. Takes effect at the grantee's next " +
          "request. Audited in both users' logs (grant.update). The grantee gets 403 owner_only; another user's grant answers 404.",
        params: IdParams,
        body: UpdateGrantBody,
        response: { 200: Type.Ref('Grant'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const body = request.body;
      const dto = await app.tenant(request, async (tx) => {
        const current = await loadGrant(tx, request.actor, request.params.id);
        if (current.ownerId !== me(request.actor)) {
          throw new ForbiddenError('Only the owner of a share may change it.', 'owner_only');
        }
        checkSecretsFlag(current.objectType, body.secrets);
        const [row] = await tx
          .update(grants)
          .set({
            ...(body.permission !== undefined ? { permission: body.permission } : {}),
            ...(body.secrets !== undefined ? { secrets: body.secrets } : {}),
          })
          .where(eq(grants.id, current.id))
          .returning();
        if (!row) throw new NotFoundError('grant');
        await writeAudit(tx, auditContext(request), {
          action: 'grant.update',
          entityType: row.objectType,
          entityId: row.objectId,
          details: auditDetails(row, { grant_id: row.id, fields: Object.keys(body) }),
          alsoFor: row.granteeId,
        });
        return (await toDtos(tx, [row]))[0];
      });
      return dto as never;
    },
  );

  app.delete(
    '/grants/:id',
    {
      schema: {
        tags: ['grants'],
        summary: 'Revoke or leave a share',
        description:
          'The owner revokes a share; the grantee may also leave it. Takes effect at the next request. Audited in both ' +
          "users' logs (grant.delete, with left: true when the grantee left). Another user's grant answers 404.",
        params: IdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await app.tenant(request, async (tx) => {
        const current = await loadGrant(tx, request.actor, request.params.id);
        const left = current.granteeId === me(request.actor);
        // Written while the grant still exists: the entry in the other user's log is
        // allowed only between the two users of a grant (migration 0020).
        await writeAudit(tx, auditContext(request), {
          action: 'grant.delete',
          entityType: current.objectType,
          entityId: current.objectId,
          ownerId: current.ownerId,
          details: auditDetails(current, { grant_id: current.id, ...(left ? { left: true } : {}) }),
          alsoFor: current.granteeId,
        });
        await tx.delete(grants).where(eq(grants.id, current.id));
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
