import { and, count, eq } from 'drizzle-orm';
import { grants } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { writeAudit } from '../audit/write-audit.js';
import { MAX_GRANTS_PER_OBJECT } from '../grants/shares.js';
import { vmSpec } from '../vms/resource.js';
import { mappingsOf } from './legacy-ids.js';
import { ownerBatches, rowWrite, type StepContext } from './owner-batches.js';
import { skip, type TableReport } from './report.js';

/**
 * The earlier `whitelist` (vm_id → vms, user_id → users: a VM shared with another user, see
 * /work/shared/LEGACY.md) → VM grants (migration 0020), permission read, made by the VM's
 * owner in their own tenant transaction like every other row. Skipped with the reason: a row
 * whose VM or user did not migrate, a VM "shared" with its own owner, one beyond the cap of
 * grants per object. A grant already there (an earlier run) is left as it is.
 */
export async function migrateWhitelist(
  ctx: StepContext,
  options: { report: TableReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query: `SELECT w.id, w.vm_id, w.user_id, v.owner_id
            FROM public.whitelist w JOIN public.vms v ON v.id = w.vm_id
            ORDER BY v.owner_id, w.id`,
    report: options.report,
    handle: async ({ tx, owner, request, rows, report: t }) => {
      const vms = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'vms',
        legacyIds: [...new Set(rows.map((r) => String(r.vm_id)))],
      });
      for (const row of rows) {
        const vm = vms.get(String(row.vm_id));
        if (!vm) {
          skip(t, row.id, `its VM (earlier vms ${String(row.vm_id)}) was not migrated`);
          continue;
        }
        const grantee = ctx.owners.get(String(row.user_id));
        if (!grantee) {
          skip(
            t,
            row.id,
            `the user it shares the VM with (earlier user ${String(row.user_id)}) was not migrated (see users)`,
          );
          continue;
        }
        if (grantee.id === owner.id) {
          skip(t, row.id, 'it shares the VM with its own owner: nothing to share');
          continue;
        }
        const [existing] = await tx
          .select({ id: grants.id })
          .from(grants)
          .where(
            and(
              eq(grants.objectType, 'vm'),
              eq(grants.objectId, vm.rowId),
              eq(grants.granteeId, grantee.id),
            ),
          );
        if (existing) {
          t.unchanged++;
          continue;
        }
        const [n] = await tx
          .select({ n: count() })
          .from(grants)
          .where(and(eq(grants.objectType, 'vm'), eq(grants.objectId, vm.rowId)));
        if ((n?.n ?? 0) >= MAX_GRANTS_PER_OBJECT) {
          skip(
            t,
            row.id,
            `the VM is already shared with ${MAX_GRANTS_PER_OBJECT} users (the most)`,
          );
          continue;
        }
        await rowWrite(tx, { report: t, id: row.id, spec: vmSpec }, async (sp) => {
          const [grant] = await sp
            .insert(grants)
            .values({
              ownerId: owner.id,
              granteeId: grantee.id,
              objectType: 'vm',
              objectId: vm.rowId,
              permission: 'read',
            })
            .returning();
          if (!grant) throw new Error('insert returned no row');
          await writeAudit(sp, auditContext(request), {
            action: 'grant.create',
            entityType: 'vm',
            entityId: vm.rowId,
            details: {
              grant_id: grant.id,
              owner_id: owner.id,
              grantee_id: grantee.id,
              permission: 'read',
              secrets: false,
              legacy_whitelist_id: String(row.id),
            },
            alsoFor: grantee.id,
          });
          t.created++;
        });
      }
    },
  });
}
