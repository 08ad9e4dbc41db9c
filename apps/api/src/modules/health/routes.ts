import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { VERSION } from '../../version.js';

export const routePrefix = '/api';

const SteamTime = Type.Object(
  {
    enabled: Type.Boolean({
      description: 'A Steam time source is configured (ACCOUNTDB_STEAM_TIME_URL is not off)',
    }),
    source: Type.Union([Type.Literal('steam'), Type.Literal('local')], {
      description:
        "The clock Steam Guard codes use now: steam (the source's last answer) or local (source off, not asked yet, or failing)",
    }),
    offset_s: Type.Integer({
      description: "Seconds added to the local clock for Steam Guard codes (Steam's time − local)",
    }),
    checked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the source was last asked (null: off or not asked yet)',
    }),
    warning: Type.Optional(
      Type.String({
        description: 'Present while the source fails: why, and that codes use the local clock',
      }),
    ),
  },
  {
    description:
      "Steam's clock for Steam Guard codes. Informational: a failing source never makes health 503.",
  },
);

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  db: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  version: Type.String(),
  steam_time: SteamTime,
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
          'Answers 200 when the API and its database work, 503 when the database does not. ' +
          'steam_time tells which clock Steam Guard codes use (a failing Steam time source is a warning there, never a 503).',
        security: [],
        response: {
          200: {
            ...Health,
            examples: [
              {
                status: 'ok',
                db: 'ok',
                version: VERSION,
                steam_time: {
                  enabled: true,
                  source: 'steam',
                  offset_s: 2,
                  checked_at: '2025-01-01T12:00:00.000Z',
                },
              },
            ],
          },
          503: Health,
        },
      },
    },
    async (request, reply) => {
      const steam_time = app.deps.steamClock.status();
      try {
        // No tenant table is read: a constant query proves the connection.
        await app.deps.database.db.execute(sql`SELECT 1`);
        return { status: 'ok' as const, db: 'ok' as const, version: VERSION, steam_time };
      } catch (err) {
        request.log.error({ err }, 'health check: database unreachable');
        return reply.code(503).send({ status: 'error', db: 'error', version: VERSION, steam_time });
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
