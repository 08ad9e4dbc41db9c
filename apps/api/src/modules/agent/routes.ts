import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { proxmoxNodes } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { NotFoundError } from '../../http/errors.js';
import { formatCount, LIMITS } from '../../http/limits.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { applySync } from './apply-sync.js';
import { AgentConfig, HeartbeatBody, SyncBody, SyncResult } from './schemas.js';

const node = { auth: 'node' as const };

function nodeOf(request: FastifyRequest): { nodeId: string; ownerId: string } {
  const actor = request.actor;
  if (actor.kind !== 'node') throw new NotFoundError('Proxmox node');
  return { nodeId: actor.nodeId, ownerId: actor.ownerId };
}

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/agent/config',
    {
      config: node,
      schema: {
        tags: ['agent'],
        summary: 'Agent configuration',
        description:
          "What the node's agent should sync and how often. Answers an ETag; with If-None-Match of the same ETag, 304 " +
          'and no body. Authenticated with the node key (Bearer adb_node_…).',
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
        response: {
          200: AgentConfig,
          304: Type.Null({ description: 'Unchanged since the ETag sent (no body)' }),
          ...problemResponses(401),
        },
      },
    },
    async (request, reply) => {
      const { nodeId } = nodeOf(request);
      const [row] = await app.tenant(request, (tx) =>
        tx.select().from(proxmoxNodes).where(eq(proxmoxNodes.id, nodeId)),
      );
      if (!row) throw new NotFoundError('Proxmox node');
      const config = {
        node_id: row.id,
        name: row.name,
        sync_mode: row.syncMode,
        whitelist: row.whitelist,
        interval_s: row.syncIntervalS,
        sync_requested_at: row.syncRequestedAt ? row.syncRequestedAt.toISOString() : null,
      };
      const etag = `"${createHash('sha256').update(JSON.stringify(config)).digest('base64url').slice(0, 27)}"`;
      reply.header('etag', etag);
      if (request.headers['if-none-match'] === etag) {
        // send() without a payload: a 304 carries no body (null would be serialised as "null").
        return (reply as unknown as FastifyReply).code(304).send();
      }
      return config;
    },
  );

  app.post(
    '/agent/sync',
    {
      config: { ...node, heavy: true },
      bodyLimit: LIMITS.sync.bytes,
      schema: {
        tags: ['agent'],
        summary: "Push the state of the node's guests",
        description:
          'One transaction, serialised per node. complete=true means vms is every guest of the node: those missing ' +
          'are marked absent (never deleted) and come back when they reappear. Guests outside a whitelist are ignored ' +
          'and their VMIDs kept as skipped_vmids. A retry with the same cycle_id and body gets the same answer; the ' +
          'same cycle_id with another body is 409 cycle_conflict. A snapshot older than the last applied one changes ' +
          'nothing (stale: true). A complete sync with no guests while guests were known is treated as suspicious: ' +
          'nothing is marked absent and the node shows an error. Your notes and tags are never touched. ' +
          `At most ${formatCount(LIMITS.sync.vms)} guests per sync (400 validation_error).`,
        body: SyncBody,
        response: { 200: SyncResult, ...problemResponses(400, 401, 409, 413) },
      },
    },
    async (request) => {
      const { nodeId, ownerId } = nodeOf(request);
      const stopTimer = app.metrics.syncDuration.startTimer({ node_id: nodeId });
      const outcome = await app
        .tenant(request, async (tx) => {
          const result = await applySync(tx, { nodeId, ownerId, body: request.body });
          if (result.created + result.updated + result.absent + result.returned > 0) {
            await writeAudit(tx, auditContext(request), {
              action: 'agent.sync',
              entityType: 'proxmox_node',
              entityId: nodeId,
              details: { cycle_id: request.body.cycle_id, ...result },
            });
          }
          return result;
        })
        .catch((err: unknown) => {
          app.metrics.syncs.inc({ node_id: nodeId, result: 'error' });
          throw err;
        });
      stopTimer();
      app.metrics.syncs.inc({ node_id: nodeId, result: outcome.stale ? 'stale' : 'applied' });
      if (!outcome.stale) app.metrics.syncGuests.set({ node_id: nodeId }, request.body.vms.length);
      return outcome;
    },
  );

  app.post(
    '/agent/heartbeat',
    {
      config: node,
      schema: {
        tags: ['agent'],
        summary: "Report the agent's health",
        description:
          "Marks the node as seen now (by the server's clock). status error with an error message shows the node as " +
          'error until a later ok heartbeat or a successful sync; the agent sends it instead of a sync when Proxmox ' +
          'could not be read.',
        body: HeartbeatBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const { nodeId } = nodeOf(request);
      const body = request.body;
      await app.tenant(request, (tx) =>
        tx
          .update(proxmoxNodes)
          .set({
            lastSeenAt: sql`now()` as never,
            status: body.status === 'ok' ? 'online' : 'error',
            lastError:
              body.status === 'ok'
                ? null
                : (body.error ?? 'The agent reported an error without details.'),
            agentVersion: body.agent_version,
            ...(body.pve_version ? { pveVersion: body.pve_version } : {}),
          })
          .where(eq(proxmoxNodes.id, nodeId)),
      );
      return reply.code(204).send(null);
    },
  );
};

export default routes;
