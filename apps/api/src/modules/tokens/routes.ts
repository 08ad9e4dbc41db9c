import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { randomToken, sha256 } from '../../crypto/tokens.js';
import { apiTokens } from '../../db/schema.js';
import { auditContext, PAT_LOOKUP_LENGTH, PAT_PREFIX } from '../../http/auth-hooks.js';
import { ConflictError, NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { Uuid } from '../users/schemas.js';
import { ApiToken, CreatedToken, CreateTokenBody, TokenList } from './schemas.js';

type Row = typeof apiTokens.$inferSelect;

const toDto = (r: Row) => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes as Array<'read' | 'write'>,
  expires_at: r.expiresAt?.toISOString() ?? null,
  last_used_at: r.lastUsedAt?.toISOString() ?? null,
  last_used_ip: r.lastUsedIp,
  created_at: r.createdAt.toISOString(),
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(ApiToken);

  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List your personal access tokens',
        description:
          'Your tokens, newest first: names, scopes, expiry and last use. Never the tokens themselves.',
        response: { 200: TokenList, ...problemResponses(401, 403) },
      },
    },
    async (request) => {
      const rows = await app.tenant(request, (tx) =>
        tx
          .select()
          .from(apiTokens)
          .where(eq(apiTokens.ownerId, actorId(request.actor)))
          .orderBy(desc(apiTokens.createdAt)),
      );
      return { items: rows.map(toDto) };
    },
  );

  app.post(
    '/tokens',
    {
      config: { sessionOnly: true },
      schema: {
        tags: ['tokens'],
        summary: 'Create a personal access token',
        description:
          'Creates a token for scripts (`Authorization: Bearer adb_pat_…`). The token is in this response only; ' +
          'AccountDB keeps a hash. A read-only token gets 403 insufficient_scope on writes. ' +
          'Only a logged-in user (not another token) may create tokens.',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { name, scopes, expires_in_days } = request.body;
      const token = randomToken(PAT_PREFIX);
      const ownerId = actorId(request.actor);
      const row = await app
        .tenant(request, async (tx) => {
          const [created] = await tx
            .insert(apiTokens)
            .values({
              ownerId,
              name,
              prefix: token.slice(0, PAT_LOOKUP_LENGTH),
              tokenHash: sha256(token),
              scopes,
              expiresAt: expires_in_days
                ? new Date(Date.now() + expires_in_days * 86_400_000)
                : null,
            })
            .returning();
          if (!created) throw new Error('insert returned no row');
          await writeAudit(tx, auditContext(request), {
            action: 'token.create',
            entityType: 'api_token',
            entityId: created.id,
            details: { name, scopes, expires_at: created.expiresAt?.toISOString() ?? null },
          });
          return created;
        })
        .catch((err: { code?: string; cause?: { code?: string } }) => {
          if (err.code === '23505' || err.cause?.code === '23505') {
            throw new ConflictError(
              `You already have a token named "${name}".`,
              'token_name_taken',
              [{ path: '/body/name', message: 'is already used by another of your tokens' }],
            );
          }
          throw err;
        });
      return reply.code(201).send({ ...toDto(row), token });
    },
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a personal access token',
        description: "The token stops working at once. Another user's token answers 404.",
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await app.tenant(request, async (tx) => {
        const [deleted] = await tx
          .delete(apiTokens)
          .where(eq(apiTokens.id, request.params.id))
          .returning({ id: apiTokens.id, name: apiTokens.name, ownerId: apiTokens.ownerId });
        if (!deleted) throw new NotFoundError('token');
        await writeAudit(tx, auditContext(request), {
          action: 'token.delete',
          entityType: 'api_token',
          entityId: deleted.id,
          ownerId: deleted.ownerId,
          details: { name: deleted.name },
        });
      });
      app.deps.credentials.forget({ tokenId: request.params.id });
      return reply.code(204).send(null);
    },
  );
};

function actorId(actor: import('../../db/tenant.js').Actor): string {
  if (actor.kind !== 'user') throw new NotFoundError('user');
  return actor.userId;
}

export default routes;
