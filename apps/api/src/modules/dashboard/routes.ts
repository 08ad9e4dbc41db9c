import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, count, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { accounts, auditLog, cards, hardware, proxmoxNodes, vms } from '../../db/schema.js';
import { problemResponses } from '../../http/problem.js';
import { iso } from '../../http/resource/fields.js';
import { ScopeParam, scopeOwner } from '../../http/scope.js';
import { effectiveStatusSql } from '../accounts/status.js';
import { effectiveCardStatusSql } from '../cards/resource.js';
import { effectiveNodeStatus, effectiveNodeStatusSql } from '../proxmox-nodes/node-status.js';
import { VM_STATUSES } from '../vms/vm-status.js';

/** Nodes listed with their health; the counts cover every node. */
const NODE_ITEMS = 200;

const Counts = Type.Object(
  {},
  { additionalProperties: Type.Integer(), description: 'Count per status' },
);

function tally(
  rows: Array<{ status: string; n: number }>,
  statuses: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(statuses.map((s) => [s, 0]));
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + Number(r.n);
  return out;
}

/** The outcome of a node's last agent cycle, from what its last sync and heartbeat left. */
function lastCycle(node: typeof proxmoxNodes.$inferSelect) {
  const duration = node.lastSyncStats?.duration_ms;
  const durationMs = typeof duration === 'number' && Number.isInteger(duration) ? duration : null;
  if (node.status === 'error') {
    return { outcome: 'error' as const, error: node.lastError, duration_ms: durationMs };
  }
  if (!node.lastSyncAt) return null;
  return { outcome: 'ok' as const, error: null, duration_ms: durationMs };
}

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/dashboard',
    {
      schema: {
        tags: ['dashboard'],
        summary: 'Dashboard',
        description:
          'Counts by status for accounts, cards, VMs and nodes, node health with freshness of the last sync, and the ' +
          "most recent audit entries, of your own inventory: an admin's too, unless scope=all (every user's).",
        querystring: Type.Object({ scope: ScopeParam }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            {
              accounts: Type.Object({
                total: Type.Integer(),
                by_status: Counts,
                claimed: Type.Integer(),
              }),
              cards: Type.Object({ total: Type.Integer(), by_status: Counts }),
              vms: Type.Object({
                total: Type.Integer(),
                by_status: Counts,
                absent: Type.Integer(),
                templates: Type.Integer(),
              }),
              hardware: Type.Object({ total: Type.Integer() }),
              nodes: Type.Object({
                total: Type.Integer(),
                by_status: Counts,
                items: Type.Array(
                  Type.Object({
                    id: Type.String({ format: 'uuid' }),
                    name: Type.String(),
                    status: Type.String(),
                    last_seen_at: Type.Union([Type.String(), Type.Null()]),
                    last_sync_at: Type.Union([Type.String(), Type.Null()]),
                    last_error: Type.Union([Type.String(), Type.Null()]),
                    sync_age_s: Type.Union([Type.Integer(), Type.Null()], {
                      description: 'Seconds since the last sync',
                    }),
                    last_cycle: Type.Union(
                      [
                        Type.Object({
                          outcome: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
                          error: Type.Union([Type.String(), Type.Null()]),
                          duration_ms: Type.Union([Type.Integer(), Type.Null()], {
                            description:
                              "How long the last applied sync's cycle took on the agent (null: not reported)",
                          }),
                        }),
                        Type.Null(),
                      ],
                      {
                        description:
                          "The agent's last cycle: error (with the agent's message) when it reported one since its last sync, else ok; null before the first report",
                      },
                    ),
                  }),
                ),
              }),
              recent_activity: Type.Array(
                Type.Object({
                  action: Type.String(),
                  entity_type: Type.Union([Type.String(), Type.Null()]),
                  entity_id: Type.Union([Type.String(), Type.Null()]),
                  actor_name: Type.Union([Type.String(), Type.Null()]),
                  at: Type.String({ format: 'date-time' }),
                }),
              ),
            },
            {
              examples: [
                {
                  accounts: {
                    total: 120,
                    by_status: { active: 104, locked: 6, disabled: 2, banned: 8 },
                    claimed: 12,
                  },
                  cards: {
                    total: 40,
                    by_status: { available: 25, claimed: 3, redeemed: 10, failed: 1, disabled: 1 },
                  },
                  vms: {
                    total: 96,
                    by_status: {
                      running: 80,
                      stopped: 13,
                      paused: 0,
                      suspended: 1,
                      'io-error': 0,
                      migrating: 0,
                      prelaunch: 0,
                      'internal-error': 0,
                      unknown: 2,
                    },
                    absent: 1,
                    templates: 2,
                  },
                  hardware: { total: 96 },
                  nodes: {
                    total: 1,
                    by_status: { pending: 0, online: 1, stale: 0, error: 0, offline: 0 },
                    items: [
                      {
                        id: '0194c3a2-0000-7000-8000-0000000000aa',
                        name: 'pve1',
                        status: 'online',
                        last_seen_at: '2026-11-24T12:00:00.000Z',
                        last_sync_at: '2026-11-24T12:00:00.000Z',
                        last_error: null,
                        sync_age_s: 42,
                        last_cycle: { outcome: 'ok', error: null, duration_ms: 850 },
                      },
                    ],
                  },
                  recent_activity: [
                    {
                      action: 'account.claim',
                      entity_type: 'account',
                      entity_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
                      actor_name: 'alice',
                      at: '2026-11-24T12:00:00.000Z',
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
      const owner = scopeOwner(request.actor, request.query);
      /** Only the owner's rows of a table (nothing more for scope=all: the policies decide). */
      const mine = (column: Parameters<typeof eq>[0]): SQL | undefined =>
        owner === null ? undefined : eq(column, owner);
      return app.tenant(request, async (tx) => {
        // One after the other: they share the transaction's connection (pg queues concurrent
        // queries on one client, which pg 9 refuses).
        const accountRows = await tx
          .select({ status: effectiveStatusSql, n: count() })
          .from(accounts)
          .where(mine(accounts.ownerId))
          .groupBy(effectiveStatusSql);
        const [claimed] = await tx
          .select({ n: count() })
          .from(accounts)
          .where(and(mine(accounts.ownerId), sql`${accounts.claimedUntil} > now()`));
        const cardRows = await tx
          .select({ status: sql<string>`${effectiveCardStatusSql}`, n: count() })
          .from(cards)
          .where(mine(cards.ownerId))
          .groupBy(effectiveCardStatusSql);
        const vmRows = await tx
          .select({ status: vms.status, n: count() })
          .from(vms)
          .where(mine(vms.ownerId))
          .groupBy(vms.status);
        const [vmExtra] = await tx
          .select({
            absent: sql<number>`count(*) FILTER (WHERE ${vms.absentSince} IS NOT NULL)::int`,
            templates: sql<number>`count(*) FILTER (WHERE ${vms.template})::int`,
          })
          .from(vms)
          .where(mine(vms.ownerId));
        const [hw] = await tx.select({ n: count() }).from(hardware).where(mine(hardware.ownerId));
        const nodes = await tx
          .select()
          .from(proxmoxNodes)
          .where(mine(proxmoxNodes.ownerId))
          .orderBy(proxmoxNodes.name)
          .limit(NODE_ITEMS);
        const nodeRows = await tx
          .select({ status: sql<string>`${effectiveNodeStatusSql}`, n: count() })
          .from(proxmoxNodes)
          .where(mine(proxmoxNodes.ownerId))
          .groupBy(effectiveNodeStatusSql);
        // Your own activity: entries about your data and what you did.
        const recent = await tx
          .select()
          .from(auditLog)
          .where(
            owner === null
              ? undefined
              : or(eq(auditLog.ownerId, owner), eq(auditLog.actorId, owner)),
          )
          .orderBy(desc(auditLog.at), desc(auditLog.id))
          .limit(15);
        const sum = (rows: Array<{ n: number }>) => rows.reduce((a, r) => a + Number(r.n), 0);
        const nodeItems = nodes.map((n) => ({
          id: n.id,
          name: n.name,
          status: effectiveNodeStatus(n),
          last_seen_at: iso(n.lastSeenAt),
          last_sync_at: iso(n.lastSyncAt),
          last_error: n.lastError,
          sync_age_s: n.lastSyncAt
            ? Math.max(0, Math.round((Date.now() - n.lastSyncAt.getTime()) / 1000))
            : null,
          last_cycle: lastCycle(n),
        }));
        return {
          accounts: {
            total: sum(accountRows),
            by_status: tally(accountRows, ['active', 'locked', 'disabled', 'banned']),
            claimed: Number(claimed?.n ?? 0),
          },
          cards: {
            total: sum(cardRows),
            by_status: tally(cardRows, ['available', 'claimed', 'redeemed', 'failed', 'disabled']),
          },
          vms: {
            total: sum(vmRows),
            by_status: tally(vmRows, VM_STATUSES),
            absent: Number(vmExtra?.absent ?? 0),
            templates: Number(vmExtra?.templates ?? 0),
          },
          hardware: { total: Number(hw?.n ?? 0) },
          nodes: {
            total: sum(nodeRows),
            by_status: tally(nodeRows, ['pending', 'online', 'stale', 'error', 'offline']),
            items: nodeItems,
          },
          recent_activity: recent.map((e) => ({
            action: e.action,
            entity_type: e.entityType,
            entity_id: e.entityId,
            actor_name: e.actorName,
            at: e.at.toISOString(),
          })),
        };
      });
    },
  );
};

export default routes;
