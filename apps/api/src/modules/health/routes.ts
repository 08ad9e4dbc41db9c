import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { VERSION } from '../../version.js';

export const routePrefix = '/api';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  db: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  version: Type.String(),
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Health check',
        description:
          'Answers 200 when the API and its database work, 503 when the database does not.',
        security: [],
        response: {
          200: { ...Health, examples: [{ status: 'ok', db: 'ok', version: VERSION }] },
          503: Health,
        },
      },
    },
    async (request, reply) => {
      try {
        // No tenant table is read: a constant query proves the connection.
        await app.deps.database.db.execute(sql`SELECT 1`);
        return { status: 'ok' as const, db: 'ok' as const, version: VERSION };
      } catch (err) {
        request.log.error({ err }, 'health check: database unreachable');
        return reply.code(503).send({ status: 'error', db: 'error', version: VERSION });
      }
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['health'],
        summary: 'OpenAPI document',
        description: 'The OpenAPI 3.1 description of this API, generated from the route schemas.',
        security: [],
        hide: true,
      },
    },
    async () => app.swagger(),
  );
};

export default routes;
