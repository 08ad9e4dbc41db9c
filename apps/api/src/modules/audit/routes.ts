import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { auditLog } from '../../db/schema.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { problemResponses } from '../../http/problem.js';
import { OwnerIdParam, ScopeParam, scopeOwner } from '../../http/scope.js';
import { entityNames } from './entity-names.js';

const Entry = Type.Object({
  id: Type.String({ format: 'uuid' }),
  owner_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  actor_type: Type.String({ description: 'user, token, node, anonymous or system' }),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  actor_name: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ examples: ['account.reveal_secrets'] }),
  entity_type: Type.Union([Type.String(), Type.Null()]),
  entity_id: Type.Union([Type.String(), Type.Null()]),
  entity_name: Type.Union([Type.String(), Type.Null()], {
    description:
      "What the entity is called now (an account's username, a VM's name, a card's masked code…), if you can still see it; null once it is deleted or not yours to see",
  }),
  at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.Object({}, { additionalProperties: true }),
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log',
        description:
          'What happened to your data and your account, newest first: writes, secret reveals (with the reason an admin ' +
          'gave for revealing yours), exports, logins, key rotations. An admin sees the same (their own data and what they ' +
          "did) unless scope=all: every user's entries, and those about no known user, such as failed logins with an " +
          "unknown name; owner_id: one user's. Never contains a secret.",
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 500 })),
            action: Type.Optional(
              Type.String({
                maxLength: 100,
                description: 'Exact action, or a prefix ending in "." (account.)',
              }),
            ),
            entity_type: Type.Optional(Type.String({ maxLength: 50 })),
            entity_id: Type.Optional(Type.String({ maxLength: 100 })),
            actor_id: Type.Optional(Type.String({ format: 'uuid' })),
            scope: ScopeParam,
            owner_id: OwnerIdParam,
            since: Type.Optional(Type.String({ format: 'date-time' })),
            until: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              items: Type.Array(Entry),
              next_cursor: Type.Union([Type.String(), Type.Null()]),
            },
            {
              examples: [
                {
                  items: [
                    {
                      id: '0194c3a2-9a00-7000-8000-000000000042',
                      owner_id: '0194c3a2-0000-7000-8000-000000000001',
                      actor_type: 'token',
                      actor_id: '0194c3a2-0000-7000-8000-000000000001',
                      actor_name: 'alice',
                      action: 'account.reveal_secrets',
                      entity_type: 'account',
                      entity_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
                      entity_name: 'farm_main_01',
                      at: '2026-11-24T12:00:00.000Z',
                      ip: '192.0.2.10',
                      request_id: 'a24f33e0-e044-4fae-9650-5c4dcd4438bb',
                      details: {
                        fields: ['password', 'shared_secret'],
                        token_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
                      },
                    },
                  ],
                  next_cursor: null,
                },
              ],
            },
          ),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const actor = request.actor;
      const owner = scopeOwner(actor, q);
      const conditions: Array<SQL | undefined> = [];
      // One's own entries: about one's data (the policy shows a user no more; the condition
      // lets the (owner_id, at) index serve), and an admin's also what they did to others'.
      if (owner !== null) {
        const admin = actor.kind === 'user' && actor.role === 'admin';
        conditions.push(
          admin && q.owner_id === undefined
            ? or(eq(auditLog.ownerId, owner), eq(auditLog.actorId, owner))
            : eq(auditLog.ownerId, owner),
        );
      }
      if (q.action) {
        conditions.push(
          q.action.endsWith('.')
            ? sql`${auditLog.action} LIKE ${`${q.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
            : eq(auditLog.action, q.action),
        );
      }
      if (q.entity_type) conditions.push(eq(auditLog.entityType, q.entity_type));
      if (q.entity_id) conditions.push(eq(auditLog.entityId, q.entity_id));
      if (q.actor_id) conditions.push(eq(auditLog.actorId, q.actor_id));
      if (q.since) conditions.push(gte(auditLog.at, new Date(q.since)));
      if (q.until) conditions.push(lt(auditLog.at, new Date(q.until)));
      if (q.cursor) {
        const [at, id] = decodeCursor(q.cursor, ['timestamptz', 'uuid']);
        conditions.push(
          or(
            sql`${auditLog.at} < ${at}::timestamptz`,
            and(sql`${auditLog.at} = ${at}::timestamptz`, sql`${auditLog.id} < ${id}::uuid`),
          ),
        );
      }
      const { rows, names } = await app.tenant(request, async (tx) => {
        const rows = await tx
          .select({ entry: auditLog, atText: sql<string>`${auditLog.at}::text` })
          .from(auditLog)
          .where(and(...conditions))
          .orderBy(desc(auditLog.at), desc(auditLog.id))
          .limit(q.limit + 1);
        const names = await entityNames(
          tx,
          rows.slice(0, q.limit).map((r) => r.entry),
        );
        return { rows, names };
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page.map(({ entry: e }) => ({
          id: e.id,
          owner_id: e.ownerId,
          actor_type: e.actorType,
          actor_id: e.actorId,
          actor_name: e.actorName,
          action: e.action,
          entity_type: e.entityType,
          entity_id: e.entityId,
          entity_name: names.get(`${e.entityType}:${e.entityId}`) ?? null,
          at: e.at.toISOString(),
          ip: e.ip,
          request_id: e.requestId,
          details: e.details,
        })),
        next_cursor:
          rows.length > q.limit && last ? encodeCursor([last.atText, last.entry.id]) : null,
      };
    },
  );
};

export default routes;
