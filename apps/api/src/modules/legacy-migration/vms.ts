import { isIP } from 'node:net';
import { and, eq, inArray } from 'drizzle-orm';
import { accounts, vms } from '../../db/schema.js';
import { createRow, updateRow } from '../../http/resource/write-row.js';
import { vmSpec } from '../vms/resource.js';
import { fingerprint, mappingsOf, saveMapping } from './legacy-ids.js';
import { ownerBatches, rowWrite, type StepContext } from './owner-batches.js';
import { note, skip, type TableReport } from './report.js';

type VmRow = typeof vms.$inferSelect;

/** Earlier VM states: running and stopped as they are; error (and anything else) unknown. */
export function legacyVmStatus(status: unknown): 'running' | 'stopped' | 'unknown' {
  return status === 'running' || status === 'stopped' ? status : 'unknown';
}

/**
 * The earlier VMs with, from its hardware table, the account each one ran: hardware rows of
 * the same owner with the VM's VMID. The link is taken only when it is unambiguous: one
 * account among those rows, and one VM of the owner with that VMID (hardware names a VMID,
 * not a node).
 */
const VM_QUERY = (withHardware: boolean) => `
  SELECT v.id, v.vmid, v.name, v.ip_address, v.status, v.cpu_cores, v.memory_mb, v.disk_gb,
         v.proxmox_node_id, v.notes, v.owner_id,
         ${
           withHardware
             ? `(SELECT count(DISTINCT h.acc_id) FROM public.hardware h
                 WHERE h.owner_id = v.owner_id AND h.vmid = v.vmid) AS link_accounts,
                (SELECT min(h.acc_id) FROM public.hardware h
                 WHERE h.owner_id = v.owner_id AND h.vmid = v.vmid) AS link_acc_id,`
             : '0 AS link_accounts, NULL::text AS link_acc_id,'
         }
         (SELECT count(*) FROM public.vms w WHERE w.owner_id = v.owner_id AND w.vmid = v.vmid) AS same_vmid
  FROM public.vms v ORDER BY v.owner_id, v.id`;

/**
 * Earlier VMs → VMs on their migrated node, source `manual` until the node's agent reports
 * them (a sync matches them by node and VMID and takes them over). Notes kept; the single
 * IP address becomes ip_addresses.
 */
export async function migrateVms(
  ctx: StepContext,
  options: { report: TableReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query: VM_QUERY(ctx.source.has('hardware')),
    report: options.report,
    handle: async ({ tx, owner, request, rows, report: t }) => {
      const mapped = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'vms',
        legacyIds: rows.map((r) => String(r.id)),
      });
      const nodes = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'proxmox_nodes',
        legacyIds: [
          ...new Set(
            rows.filter((r) => r.proxmox_node_id != null).map((r) => String(r.proxmox_node_id)),
          ),
        ],
      });
      const accIds = [
        ...new Set(
          rows
            .filter((r) => Number(r.link_accounts) === 1 && Number(r.same_vmid) === 1)
            .map((r) => String(r.link_acc_id)),
        ),
      ];
      const accountOf = new Map<string, string>();
      if (accIds.length > 0) {
        const found = await tx
          .select({ id: accounts.id, externalId: accounts.externalId })
          .from(accounts)
          .where(and(eq(accounts.ownerId, owner.id), inArray(accounts.externalId, accIds)));
        for (const a of found) if (a.externalId) accountOf.set(a.externalId, a.id);
      }
      for (const row of rows) {
        const legacyId = String(row.id);
        let nodeId: string | null = null;
        if (row.proxmox_node_id != null) {
          const node = nodes.get(String(row.proxmox_node_id));
          if (!node) {
            skip(
              t,
              row.id,
              `its node (earlier proxmox_nodes ${String(row.proxmox_node_id)}) was not migrated`,
            );
            continue;
          }
          nodeId = node.rowId;
        }
        const ip = row.ip_address == null ? '' : String(row.ip_address).trim();
        const body: Record<string, unknown> = {
          node_id: nodeId,
          vmid: row.vmid,
          type: 'qemu',
          name: row.name == null ? null : String(row.name),
          status: legacyVmStatus(row.status),
          cpu_cores: row.cpu_cores ?? null,
          memory_mb: row.memory_mb ?? null,
          disk_gb: row.disk_gb == null ? null : Number(row.disk_gb),
          ip_addresses: ip && isIP(ip) ? [ip] : [],
          notes: row.notes == null || row.notes === '' ? null : String(row.notes),
        };
        const links = Number(row.link_accounts);
        if (links === 1 && Number(row.same_vmid) === 1) {
          const accountId = accountOf.get(String(row.link_acc_id));
          if (accountId) body.account_id = accountId;
          else
            note(
              t,
              row.id,
              `its hardware names account ${String(row.link_acc_id)}, which is not in AccountDB (yet): not linked`,
            );
        } else if (links > 0) {
          note(
            t,
            row.id,
            links > 1
              ? `its hardware names ${links} accounts for VMID ${String(row.vmid)}: no account linked`
              : `VMID ${String(row.vmid)} is on ${String(row.same_vmid)} of this owner's VMs and hardware names no node: no account linked`,
          );
        }
        if (ip && !isIP(ip))
          note(t, row.id, `ip_address ${JSON.stringify(ip)} is not an IP address: left out`);
        const print = fingerprint(body);
        const before = mapped.get(legacyId);
        if (before?.fingerprint === print) {
          t.unchanged++;
          continue;
        }
        await rowWrite(tx, { report: t, id: row.id, spec: vmSpec }, async (sp) => {
          const [current] = before
            ? await sp.select().from(vms).where(eq(vms.id, before.rowId)).for('update')
            : [];
          if (current) {
            await updateRow<VmRow>(vmSpec, { tx: sp, request, keys: ctx.keys, current, body });
            await saveMapping(sp, {
              ownerId: owner.id,
              table: 'vms',
              legacyId,
              rowId: current.id,
              fingerprint: print,
            });
            t.updated++;
            return;
          }
          const { row: vm } = await createRow<VmRow>(vmSpec, {
            tx: sp,
            request,
            keys: ctx.keys,
            ownerId: owner.id,
            body,
          });
          await saveMapping(sp, {
            ownerId: owner.id,
            table: 'vms',
            legacyId,
            rowId: vm.id,
            fingerprint: print,
          });
          t.created++;
        });
      }
    },
  });
}
