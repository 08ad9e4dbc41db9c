import { and, eq, inArray } from 'drizzle-orm';
import { accounts, hardware, vms } from '../../db/schema.js';
import { createRow, updateRow } from '../../http/resource/write-row.js';
import {
  LEGACY_HARDWARE_COLUMNS,
  LEGACY_HARDWARE_FIELD_NAMES,
  LegacyHardwareRowError,
  legacyHardwareRowBody,
} from '../hardware/legacy-hardware.js';
import { hardwareSpec } from '../hardware/resource.js';
import { fingerprint, mappingsOf } from './legacy-ids.js';
import { writeMapped } from './mapped-write.js';
import { ownerBatches, type StepContext } from './owner-batches.js';
import { note, skip, type TableReport } from './report.js';

type HardwareRow = typeof hardware.$inferSelect;

/**
 * The earlier hardware rows with, for the VMID each names, how many of the same owner's
 * earlier VMs have it and which (hardware names a VMID, not a node).
 */
const HARDWARE_QUERY = (withVms: boolean) => `
  SELECT ${LEGACY_HARDWARE_COLUMNS.map((c) => `h.${c}`).join(', ')},
         ${
           withVms
             ? `(SELECT count(*) FROM public.vms v WHERE v.owner_id = h.owner_id AND v.vmid = h.vmid) AS earlier_vms,
                (SELECT min(v.id) FROM public.vms v WHERE v.owner_id = h.owner_id AND v.vmid = h.vmid) AS earlier_vm_id`
             : '0 AS earlier_vms, NULL::integer AS earlier_vm_id'
         }
  FROM public.hardware h ORDER BY h.owner_id, h.id`;

/**
 * Earlier hardware → hardware records of their owner through the hardware resource's write
 * path (MAC and UUIDs normalised, audited), the earlier id kept as external_id. Links are
 * resolved among the owner's own rows and never guessed:
 * - acc_id → the owner's account with that SteamID as external_id (the accounts step ran);
 * - vmid → the VM this migration made of the owner's one earlier VM with that VMID
 *   (legacy_ids); with no such earlier VM, the owner's one AccountDB VM with that VMID (as
 *   POST /hardware/import). A VMID on several of the owner's VMs, or a link that finds
 *   nothing, is left out and noted for that row; the rest of the record is written (a later
 *   run adds the link once its target exists).
 */
export async function migrateHardware(
  ctx: StepContext,
  options: { report: TableReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query: HARDWARE_QUERY(ctx.source.has('vms')),
    report: options.report,
    handle: async (batch) => {
      const { tx, owner, request, rows, report: t } = batch;
      const mapped = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'hardware',
        legacyIds: rows.map((r) => String(r.id)),
      });
      const earlierVms = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'vms',
        legacyIds: [
          ...new Set(
            rows.filter((r) => Number(r.earlier_vms) === 1).map((r) => String(r.earlier_vm_id)),
          ),
        ],
      });
      const accIds = [
        ...new Set(
          rows
            .filter((r) => r.acc_id != null && r.acc_id !== '')
            .map((r) => String(r.acc_id).trim()),
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
      const otherVmids = [
        ...new Set(
          rows
            .filter((r) => r.vmid != null && Number(r.earlier_vms) === 0)
            .map((r) => Number(r.vmid)),
        ),
      ].filter((v) => Number.isInteger(v));
      const vmsOf = new Map<number, string[]>();
      if (otherVmids.length > 0) {
        const found = await tx
          .select({ id: vms.id, vmid: vms.vmid })
          .from(vms)
          .where(and(eq(vms.ownerId, owner.id), inArray(vms.vmid, otherVmids)));
        for (const v of found)
          if (v.vmid !== null) vmsOf.set(v.vmid, [...(vmsOf.get(v.vmid) ?? []), v.id]);
      }

      for (const row of rows) {
        const legacyId = String(row.id);
        const { earlier_vms: count, earlier_vm_id: earlierVmId, ...columns } = row;
        let mappedRow: ReturnType<typeof legacyHardwareRowBody>;
        try {
          mappedRow = legacyHardwareRowBody(columns);
        } catch (err) {
          if (!(err instanceof LegacyHardwareRowError)) throw err;
          skip(t, legacyId, err.message);
          continue;
        }
        const body: Record<string, unknown> = { ...mappedRow.body };
        const { acc_id: accId, vmid } = mappedRow.links;
        if (accId !== undefined) {
          const id = accountOf.get(accId);
          if (id) body.account_id = id;
          else
            note(
              t,
              legacyId,
              `acc_id ${accId}: none of this owner's accounts has this SteamID (not migrated, or another user's): no account linked`,
            );
        }
        if (vmid !== undefined) {
          const earlier = Number(count);
          if (earlier === 1) {
            const vm = earlierVms.get(String(earlierVmId));
            if (vm) body.vm_id = vm.rowId;
            else
              note(
                t,
                legacyId,
                `vmid ${vmid}: its earlier VM (vms ${String(earlierVmId)}) is not in AccountDB (yet): no VM linked`,
              );
          } else if (earlier > 1) {
            note(
              t,
              legacyId,
              `vmid ${vmid} is on ${earlier} of this owner's earlier VMs (different nodes) and hardware names no node: no VM linked; set vm_id by hand`,
            );
          } else {
            const ids = vmsOf.get(vmid) ?? [];
            if (ids.length === 1) body.vm_id = ids[0];
            else
              note(
                t,
                legacyId,
                ids.length === 0
                  ? `vmid ${vmid}: none of this owner's VMs has this VMID: no VM linked`
                  : `vmid ${vmid} is on ${ids.length} of this owner's VMs (different nodes): no VM linked; set vm_id by hand`,
              );
          }
        }
        const externalId = typeof body.external_id === 'string' ? body.external_id : null;
        await writeMapped<HardwareRow>(batch, {
          table: 'hardware',
          spec: hardwareSpec,
          names: LEGACY_HARDWARE_FIELD_NAMES,
          legacyId,
          print: fingerprint(body),
          before: mapped.get(legacyId),
          naturalKey: `id ${externalId}`,
          load: async (sp, id) =>
            (await sp.select().from(hardware).where(eq(hardware.id, id)).for('update'))[0],
          adopt: async (sp) =>
            externalId === null
              ? undefined
              : (
                  await sp
                    .select()
                    .from(hardware)
                    .where(and(eq(hardware.ownerId, owner.id), eq(hardware.externalId, externalId)))
                    .for('update')
                )[0],
          create: async (sp) =>
            (
              await createRow<HardwareRow>(hardwareSpec, {
                tx: sp,
                request,
                keys: ctx.keys,
                ownerId: owner.id,
                body,
              })
            ).row,
          update: async (sp, current) => {
            await updateRow<HardwareRow>(hardwareSpec, {
              tx: sp,
              request,
              keys: ctx.keys,
              current,
              body: { account_id: null, vm_id: null, ...body },
            });
          },
        });
      }
    },
  });
}
