import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { vmStatusEvents, vms } from '../../db/schema.js';
import { NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { registerResourceRoutes } from '../../http/resource/routes.js';
import { vmSpec } from './resource.js';

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/vms/:id/events',
    {
      schema: {
        tags: ['vms'],
        summary: 'Status history of a VM',
        description: 'Every status change of the VM (from syncs and edits), newest first.',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              items: Type.Array(
                Type.Object({
                  from_status: Type.Union([Type.String(), Type.Null()]),
                  to_status: Type.String(),
                  at: Type.String({ format: 'date-time' }),
                }),
              ),
            },
            {
              examples: [
                {
                  items: [
                    {
                      from_status: 'running',
                      to_status: 'stopped',
                      at: '2026-11-25T09:30:00.000Z',
                    },
                    { from_status: null, to_status: 'running', at: '2026-11-24T12:00:00.000Z' },
                  ],
                },
              ],
            },
          ),
          ...problemResponses(400, 401, 404),
        },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => {
        const [vm] = await tx.select({ id: vms.id }).from(vms).where(eq(vms.id, request.params.id));
        if (!vm) throw new NotFoundError('VM');
        const events = await tx
          .select()
          .from(vmStatusEvents)
          .where(eq(vmStatusEvents.vmId, vm.id))
          .orderBy(desc(vmStatusEvents.at), desc(vmStatusEvents.id))
          .limit(request.query.limit);
        return {
          items: events.map((e) => ({
            from_status: e.fromStatus,
            to_status: e.toStatus,
            at: e.at.toISOString(),
          })),
        };
      }),
  );

  registerResourceRoutes(app, vmSpec);
};

export default routes;
