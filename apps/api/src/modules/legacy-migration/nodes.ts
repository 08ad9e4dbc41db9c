import { eq } from 'drizzle-orm';
import { proxmoxNodes } from '../../db/schema.js';
import { createRow, updateRow } from '../../http/resource/write-row.js';
import { nodeSpec, uniqueVmids } from '../proxmox-nodes/resource.js';
import { fingerprint, mappingsOf, saveMapping } from './legacy-ids.js';
import { ownerBatches, rowWrite, type StepContext } from './owner-batches.js';
import type { MigrationReport, TableReport } from './report.js';

type NodeRow = typeof proxmoxNodes.$inferSelect;

const VMID_MAX = 999_999_999;

/** The AccountDB body of an earlier proxmox_nodes row (its plain-text api_key is left behind). */
export function legacyNodeBody(row: Record<string, unknown>): Record<string, unknown> {
  const whitelist = Array.isArray(row.whitelist)
    ? uniqueVmids(
        (row.whitelist as unknown[])
          .map(Number)
          .filter((v) => Number.isInteger(v) && v >= 1 && v <= VMID_MAX),
      )
    : [];
  const port = Number(row.port ?? 8006);
  return {
    name: String(row.name ?? '').trim(),
    hostname: row.hostname == null ? null : String(row.hostname).trim() || null,
    port: Number.isInteger(port) ? port : 8006,
    sync_mode: whitelist.length > 0 ? 'whitelist' : 'all',
    whitelist,
  };
}

/**
 * Earlier Proxmox nodes → nodes. Each new node gets a fresh agent key, listed once in the
 * report; a node an earlier run made keeps its key. It starts `pending` until its agent
 * reports (the earlier connected/disconnected state says nothing about the new agent).
 */
export async function migrateNodes(
  ctx: StepContext,
  options: { report: TableReport; migration: MigrationReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query:
      'SELECT id, name, hostname, port, status, whitelist, owner_id FROM public.proxmox_nodes ORDER BY owner_id, id',
    report: options.report,
    handle: async ({ tx, owner, request, rows, report: t, onCommit }) => {
      const mapped = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'proxmox_nodes',
        legacyIds: rows.map((r) => String(r.id)),
      });
      for (const row of rows) {
        const legacyId = String(row.id);
        const body = legacyNodeBody(row);
        const print = fingerprint(body);
        const before = mapped.get(legacyId);
        if (before?.fingerprint === print) {
          t.unchanged++;
          onCommit(() => options.migration.nodes_existing++);
          continue;
        }
        await rowWrite(tx, { report: t, id: row.id, spec: nodeSpec }, async (sp) => {
          const [current] = before
            ? await sp
                .select()
                .from(proxmoxNodes)
                .where(eq(proxmoxNodes.id, before.rowId))
                .for('update')
            : [];
          if (current) {
            await updateRow<NodeRow>(nodeSpec, { tx: sp, request, keys: ctx.keys, current, body });
            await saveMapping(sp, {
              ownerId: owner.id,
              table: 'proxmox_nodes',
              legacyId,
              rowId: current.id,
              fingerprint: print,
            });
            t.updated++;
            onCommit(() => options.migration.nodes_existing++);
            return;
          }
          const { row: node, respond } = await createRow<NodeRow>(nodeSpec, {
            tx: sp,
            request,
            keys: ctx.keys,
            ownerId: owner.id,
            body,
          });
          await saveMapping(sp, {
            ownerId: owner.id,
            table: 'proxmox_nodes',
            legacyId,
            rowId: node.id,
            fingerprint: print,
          });
          t.created++;
          const key = {
            owner: owner.username,
            node: node.name,
            node_id: node.id,
            api_key: String(respond?.api_key ?? ''),
            agent_config: String(respond?.agent_config ?? ''),
          };
          // Reported as issued only once the owner's batch committed.
          onCommit(() => options.migration.node_keys.push(key));
        });
      }
    },
  });
}
