import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { proxmoxNodes } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { ForbiddenError, NotFoundError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem.js';
import { registerResourceRoutes } from '../../http/resource/routes.js';
import { writeAudit } from '../audit/write-audit.js';
import { agentConfig } from './agent-config.js';
import { newNodeKey } from './node-keys.js';
import { nodeSpec, toNodeDto, uniqueVmids } from './resource.js';

type Row = typeof proxmoxNodes.$inferSelect;
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const VmidParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  vmid: Type.Integer({ minimum: 1, maximum: 999_999_999 }),
});
const NodeRef = Type.Ref('ProxmoxNode');

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  /** Changes a node's whitelist under a row lock, audited. */
  async function changeWhitelist(
    request: FastifyRequest,
    id: string,
    change: (current: number[]) => number[],
  ) {
    return app.tenant(request, async (tx) => {
      const [row] = await tx
        .select()
        .from(proxmoxNodes)
        .where(eq(proxmoxNodes.id, id))
        .for('update');
      if (!row) {
        // Visible but not lockable: shared read-only (migration 0020).
        const [seen] = await tx
          .select({ id: proxmoxNodes.id })
          .from(proxmoxNodes)
          .where(eq(proxmoxNodes.id, id));
        if (seen)
          throw new ForbiddenError(
            'This Proxmox node is shared with you read-only.',
            'share_read_only',
          );
        throw new NotFoundError('Proxmox node');
      }
      const whitelist = uniqueVmids(change(row.whitelist));
      const [updated] = (await tx
        .update(proxmoxNodes)
        .set({ whitelist })
        .where(eq(proxmoxNodes.id, id))
        .returning()) as Row[];
      if (!updated) throw new NotFoundError('Proxmox node');
      await writeAudit(tx, auditContext(request), {
        action: 'proxmox_node.whitelist',
        entityType: 'proxmox_node',
        entityId: id,
        ownerId: row.ownerId,
        details: { count: whitelist.length },
      });
      return toNodeDto(updated);
    });
  }

  app.post(
    '/proxmox-nodes/:id/rotate-key',
    {
      schema: {
        tags: ['proxmox-nodes'],
        summary: "Rotate a node's agent key",
        description:
          'Issues a new agent key and answers it once with a fresh agent configuration; the old key stops working at once. ' +
          'Agent keys are never shared: a user the node is shared with gets 403 owner_only.',
        params: IdParams,
        response: { 200: NodeRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const answer = await app.tenant(request, async (tx) => {
        // A node's agent key is never shared (migration 0020): a grantee gets 403 owner_only.
        const [owned] = await tx
          .select({ ownerId: proxmoxNodes.ownerId })
          .from(proxmoxNodes)
          .where(eq(proxmoxNodes.id, request.params.id));
        const actor = request.actor;
        if (
          owned &&
          actor.kind === 'user' &&
          actor.role !== 'admin' &&
          owned.ownerId !== actor.userId
        ) {
          throw new ForbiddenError("Only the node's owner may rotate its agent key.", 'owner_only');
        }
        const key = newNodeKey();
        const [row] = (await tx
          .update(proxmoxNodes)
          .set({ apiKeyPrefix: key.prefix, apiKeyHash: key.hash, apiKeyRotatedAt: sql`now()` })
          .where(eq(proxmoxNodes.id, request.params.id))
          .returning()) as Row[];
        if (!row) throw new NotFoundError('Proxmox node');
        await writeAudit(tx, auditContext(request), {
          action: 'proxmox_node.rotate_key',
          entityType: 'proxmox_node',
          entityId: row.id,
          ownerId: row.ownerId,
          details: { prefix: key.prefix },
        });
        return {
          ...toNodeDto(row),
          api_key: key.key,
          agent_config: agentConfig({
            request,
            nodeName: row.name,
            key: key.key,
            intervalS: row.syncIntervalS,
          }),
        };
      });
      // The old key's cached lookup goes at once here; other processes hear of it.
      app.deps.credentials.forget({ nodeId: request.params.id });
      return answer;
    },
  );

  app.post(
    '/proxmox-nodes/:id/sync-now',
    {
      schema: {
        tags: ['proxmox-nodes'],
        summary: 'Ask the agent to sync now',
        description:
          "Sets the node's sync_requested_at. The agent sees it on its next config poll (GET /agent/config, every " +
          "10 s between cycles), runs a cycle at once, and that sync clears it; the node's live event (GET /events) " +
          "tells when. Only the node's owner may ask (an admin viewing another user's node gets 403 owner_only). " +
          'Asking again while a request is pending moves it to now. Audited as proxmox_node.sync_now.',
        params: IdParams,
        response: {
          202: Type.Object(
            { sync_requested_at: Type.String({ format: 'date-time' }) },
            {
              description: 'Requested; the agent serves it on its next config poll',
              examples: [{ sync_requested_at: '2026-11-24T12:00:05.123Z' }],
            },
          ),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const answer = await app.tenant(request, async (tx) => {
        // Read first without a lock: a node shared read-only is visible but not lockable,
        // and its grantee gets owner_only like any other non-owner.
        const [seen] = await tx
          .select({ ownerId: proxmoxNodes.ownerId })
          .from(proxmoxNodes)
          .where(eq(proxmoxNodes.id, request.params.id));
        if (seen && (request.actor.kind !== 'user' || seen.ownerId !== request.actor.userId)) {
          throw new ForbiddenError("Only the node's owner may ask it to sync.", 'owner_only');
        }
        const [row] = await tx
          .select({ ownerId: proxmoxNodes.ownerId })
          .from(proxmoxNodes)
          .where(eq(proxmoxNodes.id, request.params.id))
          .for('update');
        if (!row) throw new NotFoundError('Proxmox node');
        if (request.actor.kind !== 'user' || row.ownerId !== request.actor.userId) {
          throw new ForbiddenError("Only the node's owner may ask it to sync.", 'owner_only');
        }
        const [updated] = await tx
          .update(proxmoxNodes)
          .set({ syncRequestedAt: sql`clock_timestamp()` as never })
          .where(eq(proxmoxNodes.id, request.params.id))
          .returning({ at: proxmoxNodes.syncRequestedAt });
        await writeAudit(tx, auditContext(request), {
          action: 'proxmox_node.sync_now',
          entityType: 'proxmox_node',
          entityId: request.params.id,
          ownerId: row.ownerId,
        });
        return { sync_requested_at: (updated?.at ?? new Date()).toISOString() };
      });
      return reply.code(202).send(answer);
    },
  );

  app.put(
    '/proxmox-nodes/:id/whitelist',
    {
      schema: {
        tags: ['proxmox-nodes'],
        summary: "Replace a node's whitelist",
        description:
          'The VMIDs synced when sync_mode is whitelist (kept sorted, without duplicates).',
        params: IdParams,
        body: Type.Object(
          {
            vmids: Type.Array(Type.Integer({ minimum: 1, maximum: 999_999_999 }), {
              maxItems: 100_000,
            }),
          },
          { additionalProperties: false, examples: [{ vmids: [101, 102, 105] }] },
        ),
        response: { 200: NodeRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => changeWhitelist(request, request.params.id, () => request.body.vmids),
  );

  app.post(
    '/proxmox-nodes/:id/whitelist/:vmid',
    {
      schema: {
        tags: ['proxmox-nodes'],
        summary: "Add a VMID to a node's whitelist",
        description: 'Idempotent: adding a listed VMID changes nothing.',
        params: VmidParams,
        response: { 200: NodeRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      changeWhitelist(request, request.params.id, (current) => [...current, request.params.vmid]),
  );

  app.delete(
    '/proxmox-nodes/:id/whitelist/:vmid',
    {
      schema: {
        tags: ['proxmox-nodes'],
        summary: "Remove a VMID from a node's whitelist",
        description: 'Idempotent: removing an unlisted VMID changes nothing.',
        params: VmidParams,
        response: { 200: NodeRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      changeWhitelist(request, request.params.id, (current) =>
        current.filter((v) => v !== request.params.vmid),
      ),
  );

  registerResourceRoutes(app, nodeSpec);
};

export default routes;
