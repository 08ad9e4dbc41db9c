import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { agentSyncCycles, hardware, proxmoxNodes, vmStatusEvents, vms } from '../../db/schema.js';
import { rowsOf, type Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { ConflictError, NotFoundError } from '../../http/errors.js';
import { changedValues, type ObservedValues, observedValues, type Usage } from './normalize-vm.js';
import type { SyncBody, SyncResult } from './schemas.js';

type Body = Static<typeof SyncBody>;
type Result = Static<typeof SyncResult>;
type VmRow = typeof vms.$inferSelect;

const CHUNK = 500;

/** The identity of a sync body, for idempotency: same cycle_id and same hash → same answer. */
export function syncBodyHash(body: Body): Buffer {
  return createHash('sha256').update(JSON.stringify(body)).digest();
}

/** Links the owner's hardware records carrying the VM's SMBIOS UUID or one of its MACs. */
async function linkHardware(
  tx: Tx,
  options: { ownerId: string; vmId: string; smbiosUuid: string | null; macs: string[] },
) {
  const match: SQL[] = [];
  if (options.smbiosUuid) match.push(sql`${hardware.smbiosUuid} = ${options.smbiosUuid}::uuid`);
  if (options.macs.length) match.push(inArray(hardware.macAddress, options.macs));
  if (match.length === 0) return;
  await tx
    .update(hardware)
    .set({ vmId: options.vmId })
    .where(
      and(
        eq(hardware.ownerId, options.ownerId),
        isNull(hardware.vmId),
        sql`(${sql.join(match, sql` OR `)})`,
      ),
    );
}

/** Usage figures and last_seen_at of many VMs in one statement. */
async function touchSeen(tx: Tx, seen: Array<{ id: string; usage: Usage }>): Promise<void> {
  for (let i = 0; i < seen.length; i += CHUNK) {
    const rows = seen
      .slice(i, i + CHUNK)
      .map(
        (s) =>
          sql`(${s.id}::uuid, ${s.usage.cpuUsage}::double precision, ${s.usage.memUsage}::bigint, ${s.usage.uptimeS}::bigint)`,
      );
    await tx.execute(sql`
      UPDATE vms SET cpu_usage = v.cpu, mem_usage = v.mem, uptime_s = v.up, last_seen_at = now(), absent_since = NULL
      FROM (VALUES ${sql.join(rows, sql`, `)}) AS v(id, cpu, mem, up)
      WHERE vms.id = v.id`);
  }
}

/**
 * Applies one agent sync in the node's tenant transaction: serialised per node, idempotent
 * per cycle_id, stale snapshots ignored (by observed_at, capped at the server's clock),
 * whitelist enforced, guests missing from a complete sync marked absent (never deleted), user
 * notes and tags never touched.
 */
export async function applySync(
  tx: Tx,
  options: { nodeId: string; ownerId: string; body: Body },
): Promise<Result> {
  const { nodeId, ownerId, body } = options;
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`accountdb.sync:${nodeId}`}, 0))`,
  );

  const hash = syncBodyHash(body);
  const [previous] = await tx
    .select()
    .from(agentSyncCycles)
    .where(and(eq(agentSyncCycles.nodeId, nodeId), eq(agentSyncCycles.cycleId, body.cycle_id)));
  if (previous) {
    if (!previous.bodyHash.equals(hash)) {
      throw new ConflictError(
        `Cycle ${body.cycle_id} was already applied with another body.`,
        'cycle_conflict',
      );
    }
    return previous.response as Result;
  }

  const [node] = await tx
    .select()
    .from(proxmoxNodes)
    .where(eq(proxmoxNodes.id, nodeId))
    .for('update');
  if (!node) throw new NotFoundError('Proxmox node');
  // Snapshots are ordered by the agent's clock, but never ahead of the server's: an agent
  // whose clock ran a day ahead would otherwise leave a "tomorrow" behind that makes every
  // snapshot after NTP corrects it look older, and freeze the node for a day.
  const [clock] = rowsOf<{ now: Date | string }>(await tx.execute(sql`SELECT now() AS now`));
  const serverNow = new Date(clock?.now ?? Date.now());
  const sent = new Date(body.observed_at);
  const observedAt = sent.getTime() > serverNow.getTime() ? serverNow : sent;
  const result: Result = {
    created: 0,
    updated: 0,
    unchanged: 0,
    absent: 0,
    returned: 0,
    ignored: 0,
    stale: false,
  };
  const nodeUpdate: Partial<typeof proxmoxNodes.$inferInsert> = {
    lastSeenAt: sql`now()` as never,
    agentVersion: body.agent_version,
    ...(body.pve_version ? { pveVersion: body.pve_version } : {}),
  };

  if (node.lastObservedAt && observedAt.getTime() <= node.lastObservedAt.getTime()) {
    result.stale = true;
    result.ignored = body.vms.length;
  } else {
    const allowed = node.syncMode === 'whitelist' ? new Set(node.whitelist) : null;
    const wanted = allowed ? body.vms.filter((v) => allowed.has(v.vmid)) : body.vms;
    const skipped = allowed ? body.vms.filter((v) => !allowed.has(v.vmid)).map((v) => v.vmid) : [];
    result.ignored = skipped.length;

    const existing = await tx.select().from(vms).where(eq(vms.nodeId, nodeId));
    const byVmid = new Map<number, VmRow>();
    for (const row of existing) if (row.vmid !== null) byVmid.set(row.vmid, row);
    const knownPresent = existing.filter((r) => r.vmid !== null && r.absentSince === null).length;
    const suspicious = body.complete && body.vms.length === 0 && knownPresent > 0;

    const seen: Array<{ id: string; usage: Usage }> = [];
    const inserts: Array<Record<string, unknown>> = [];
    const events: Array<typeof vmStatusEvents.$inferInsert> = [];
    const links: Array<{ vmId: string; smbiosUuid: string | null; macs: string[] }> = [];

    for (const vm of wanted) {
      const { values, usage } = observedValues(vm);
      let row = byVmid.get(vm.vmid);
      if (row?.smbiosUuid && values.smbiosUuid && row.smbiosUuid !== values.smbiosUuid) {
        // The VMID was reused by another guest: the old VM keeps its row, without the VMID.
        await tx
          .update(vms)
          .set({ vmid: null, absentSince: sql`coalesce(${vms.absentSince}, now())` as never })
          .where(eq(vms.id, row.id));
        row = undefined;
      }
      if (!row && values.smbiosUuid) {
        const [adopted] = rowsOf<{ id: string | null }>(
          await tx.execute(
            sql`SELECT agent_adopt_vm(${nodeId}::uuid, ${vm.vmid}::int, ${values.smbiosUuid}::uuid) AS id`,
          ),
        );
        if (adopted?.id) {
          [row] = await tx.select().from(vms).where(eq(vms.id, adopted.id));
          if (row)
            events.push({ ownerId, vmId: row.id, fromStatus: row.status, toStatus: row.status });
        }
      }
      if (!row) {
        const id = uuidv7();
        inserts.push({
          ...values,
          id,
          ownerId,
          nodeId,
          vmid: vm.vmid,
          source: 'agent',
          ...usage,
          lastSeenAt: sql`now()`,
        });
        events.push({ ownerId, vmId: id, fromStatus: null, toStatus: values.status ?? 'unknown' });
        links.push({
          vmId: id,
          smbiosUuid: values.smbiosUuid ?? null,
          macs: values.macAddresses ?? [],
        });
        result.created++;
        continue;
      }
      const changes: ObservedValues = changedValues(row, values);
      if (row.absentSince) result.returned++;
      // A VM entered by hand (or brought over by migrate-legacy) on this node with this VMID
      // is the guest the agent reports: the agent takes it over (notes, tags and account stay).
      const adopt = row.source === 'manual';
      if (Object.keys(changes).length > 0 || adopt) {
        await tx
          .update(vms)
          .set({ ...changes, ...(adopt ? { source: 'agent' as const } : {}) })
          .where(eq(vms.id, row.id));
        if (changes.status !== undefined)
          events.push({ ownerId, vmId: row.id, fromStatus: row.status, toStatus: changes.status });
        if (changes.smbiosUuid !== undefined || changes.macAddresses !== undefined) {
          links.push({
            vmId: row.id,
            smbiosUuid: values.smbiosUuid ?? row.smbiosUuid,
            macs: values.macAddresses ?? row.macAddresses,
          });
        }
        result.updated++;
      } else {
        result.unchanged++;
      }
      seen.push({ id: row.id, usage });
    }

    for (let i = 0; i < inserts.length; i += CHUNK) {
      await tx.insert(vms).values(inserts.slice(i, i + CHUNK) as never);
    }
    await touchSeen(tx, seen);
    // A migration adoption is recorded as a move, not a status change: keep only real changes.
    const realEvents = events.filter((e) => e.fromStatus !== e.toStatus);
    for (let i = 0; i < realEvents.length; i += CHUNK) {
      await tx.insert(vmStatusEvents).values(realEvents.slice(i, i + CHUNK));
    }
    // Most syncs have nothing to link: look once whether the owner has unlinked hardware.
    const [unlinked] = links.length
      ? await tx
          .select({ id: hardware.id })
          .from(hardware)
          .where(and(eq(hardware.ownerId, ownerId), isNull(hardware.vmId)))
          .limit(1)
      : [];
    if (unlinked) for (const link of links) await linkHardware(tx, { ownerId, ...link });

    if (body.complete && !suspicious) {
      const reported = new Set(body.vms.map((v) => v.vmid));
      const missing = existing
        .filter((r) => r.vmid !== null && r.absentSince === null && !reported.has(r.vmid))
        .map((r) => r.id);
      for (let i = 0; i < missing.length; i += CHUNK) {
        await tx
          .update(vms)
          .set({ absentSince: sql`now()` as never })
          .where(inArray(vms.id, missing.slice(i, i + CHUNK)));
      }
      result.absent = missing.length;
    }

    Object.assign(nodeUpdate, {
      lastSyncAt: sql`now()`,
      lastObservedAt: observedAt,
      lastSyncStats: {
        ...result,
        guests: body.vms.length,
        at: new Date().toISOString(),
        ...(body.duration_ms !== undefined ? { duration_ms: body.duration_ms } : {}),
      },
      skippedVmids: [...new Set(skipped)].sort((a, b) => a - b).slice(0, 100_000),
      status: suspicious ? 'error' : 'online',
      lastError: suspicious
        ? `A complete sync reported no guests while ${knownPresent} were known; nothing was marked absent. Check the Proxmox token's permissions.`
        : null,
    });
  }

  // The "Sync now" this cycle serves is done (a newer one, asked for since, stays); a stale
  // snapshot serves it too: the agent did run the cycle that was asked for.
  if (
    body.sync_request &&
    node.syncRequestedAt &&
    node.syncRequestedAt.getTime() <= Date.parse(body.sync_request)
  ) {
    nodeUpdate.syncRequestedAt = null;
  }
  await tx.update(proxmoxNodes).set(nodeUpdate).where(eq(proxmoxNodes.id, nodeId));
  await tx
    .insert(agentSyncCycles)
    .values({ nodeId, ownerId, cycleId: body.cycle_id, bodyHash: hash, response: result });
  await tx
    .delete(agentSyncCycles)
    .where(
      and(
        eq(agentSyncCycles.nodeId, nodeId),
        sql`${agentSyncCycles.createdAt} < now() - interval '1 day'`,
      ),
    );
  return result;
}
