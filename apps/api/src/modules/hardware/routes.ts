import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { rowsOf } from '../../db/tenant.js';
import { problemResponses } from '../../http/problem.js';
import { registerResourceRoutes } from '../../http/resource/routes.js';
import { OwnerIdParam, ScopeParam, scopeOwner } from '../../http/scope.js';
import { importRoute } from './import-route.js';
import { hardwareSpec } from './resource.js';

/** Identifier fields whose value should be unique to one machine. */
const IDENTIFIERS = [
  'mac_address',
  'smbios_uuid',
  'machine_guid',
  'hwprofile_guid',
  'disk_serial',
  'mb_serial',
  'product_id',
  'device_id',
] as const;

const Collision = Type.Object({
  field: Type.String({ description: 'Identifier field' }),
  value: Type.String(),
  owner_id: Type.String({ format: 'uuid' }),
  count: Type.Integer({ description: 'Records carrying this value' }),
  hardware_ids: Type.Array(Type.String({ format: 'uuid' })),
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  await app.register(importRoute);

  app.get(
    '/hardware/collisions',
    {
      schema: {
        tags: ['hardware'],
        summary: 'Identifiers used by more than one hardware record',
        description:
          'Every MAC, UUID and serial that appears on more than one of your hardware records (a cloned VM that kept ' +
          "its identity, a copy-paste slip). An admin's own records too; with scope=all every user's (collisions " +
          "within each user's records), with owner_id one user's.",
        querystring: Type.Object(
          {
            field: Type.Optional(Type.Union(IDENTIFIERS.map((f) => Type.Literal(f)))),
            scope: ScopeParam,
            owner_id: OwnerIdParam,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { items: Type.Array(Collision) },
            {
              examples: [
                {
                  items: [
                    {
                      field: 'mac_address',
                      value: 'BC:24:11:5E:0A:01',
                      owner_id: '0194c3a2-0000-7000-8000-000000000001',
                      count: 2,
                      hardware_ids: [
                        '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
                        '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70',
                      ],
                    },
                  ],
                },
              ],
            },
          ),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const fields = request.query.field ? [request.query.field] : IDENTIFIERS;
      const owner = scopeOwner(request.actor, request.query);
      const mine = owner === null ? sql`` : sql` AND owner_id = ${owner}`;
      const union = sql.join(
        fields.map(
          (f) =>
            sql`SELECT ${f}::text AS field, ${sql.identifier(f)}::text AS value, owner_id, id FROM hardware WHERE ${sql.identifier(f)} IS NOT NULL${mine}`,
        ),
        sql` UNION ALL `,
      );
      const items = await app.tenant(request, async (tx) =>
        rowsOf<{
          field: string;
          value: string;
          owner_id: string;
          count: number;
          hardware_ids: string[];
        }>(
          await tx.execute(sql`
            SELECT field, value, owner_id, count(*)::int AS count, array_agg(id::text ORDER BY id) AS hardware_ids
            FROM (${union}) ids
            GROUP BY field, value, owner_id
            HAVING count(*) > 1
            ORDER BY count(*) DESC, field, value
            LIMIT 1000`),
        ),
      );
      return { items };
    },
  );

  registerResourceRoutes(app, hardwareSpec);
};

export default routes;
