import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import {
  agentSyncCycles,
  hardware,
  type LiveUsageEntry,
  proxmoxNodes,
  vmLiveness,
  vms,
} from '../../db/schema.js';
import { rowsOf, type Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { ConflictError, NotFoundError, ValidationError } from '../../http/errors.js';
import {
  insertStatusEvents,
  insertSyncedVms,
  type NewVm,
  nulField,
  type StatusEvent,
} from './insert-synced.js';
import { changedValues, type ObservedValues, observedValues } from './normalize-vm.js';
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

/** last_seen_at of many VMs (a sync that is not complete: only its own VMs were seen). */
async function touchSeen(tx: Tx, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    await tx
      .update(vms)
      .set({ lastSeenAt: sql`now()` as never })
      .where(inArray(vms.id, ids.slice(i, i + CHUNK)));
  }
}

/**
 * Marks VMs absent. Each keeps, in its own row, the time it was last seen (the node's last
 * complete sync) and its last usage: the node's liveness row stops speaking for it.
 */
async function markAbsent(
  tx: Tx,
  options: { rows: VmRow[]; live: { seenAt: Date | null; usage: Record<string, LiveUsageEntry> } },
): Promise<void> {
  const { rows, live } = options;
  const seen = live.seenAt ? live.seenAt.toISOString() : null;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => {
      const u = r.vmid === null ? undefined : live.usage[String(r.vmid)];
      return sql`(${r.id}::uuid, ${u ? u[0] : r.cpuUsage}::double precision, ${u ? u[1] : r.memUsage}::bigint, ${u ? u[2] : r.uptimeS}::bigint)`;
    });
    await tx.execute(sql`
      UPDATE vms SET absent_since = now(), cpu_usage = v.cpu, mem_usage = v.mem, uptime_s = v.up,
        last_seen_at = greatest(vms.last_seen_at, ${seen}::timestamptz)
      FROM (VALUES ${sql.join(values, sql`, `)}) AS v(id, cpu, mem, up)
      WHERE vms.id = v.id`);
  }
}

/**
 * Writes the node's liveness row: a complete sync replaces the usage of every guest and
 * moves seen_at (every VM of the node not absent was in it); any other sync adds the usage
 * of the guests it reported and leaves seen_at alone.
 */
async function writeLiveness(
  tx: Tx,
  options: {
    nodeId: string;
    ownerId: string;
    complete: boolean;
    usage: Record<string, LiveUsageEntry>;
  },
): Promise<void> {
  const { nodeId, ownerId, complete, usage } = options;
  const doc = JSON.stringify(usage);
  await tx.execute(sql`
    INSERT INTO vm_liveness (node_id, owner_id, seen_at, usage)
    VALUES (${nodeId}::uuid, ${ownerId}::uuid, ${complete ? sql`now()` : sql`NULL`}, ${doc}::jsonb)
    ON CONFLICT (node_id) DO UPDATE SET
      seen_at = ${complete ? sql`now()` : sql`vm_liveness.seen_at`},
      usage = ${complete ? sql`EXCLUDED.usage` : sql`vm_liveness.usage || EXCLUDED.usage`},
      version = vm_liveness.version + 1,
      updated_at = now()`);
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

    // Usage of every guest reported, for the node's liveness row; rows of an incomplete
    // sync that were not written otherwise, to move their own last_seen_at.
    const liveUsage: Record<string, LiveUsageEntry> = {};
    const touched: string[] = [];
    const inserts: NewVm[] = [];
    const events: StatusEvent[] = [];
    const links: Array<{ vmId: string; smbiosUuid: string | null; macs: string[] }> = [];

    for (const [index, vm] of wanted.entries()) {
      const bad = nulField(vm);
      if (bad) {
        throw new ValidationError([
          {
            path: `/body/vms/${body.vms.indexOf(vm)}/${bad}`,
            message: `holds a NUL character, which cannot be stored (VMID ${vm.vmid}, guest ${index + 1} of the sync)`,
          },
        ]);
      }
      const { values, usage } = observedValues(vm);
      liveUsage[String(vm.vmid)] = [usage.cpuUsage, usage.memUsage, usage.uptimeS];
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
          if (row) events.push({ vmId: row.id, fromStatus: row.status, toStatus: row.status });
        }
      }
      if (!row) {
        const id = uuidv7();
        inserts.push({ id, vmid: vm.vmid, values, usage });
        events.push({ vmId: id, fromStatus: null, toStatus: values.status ?? 'unknown' });
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
      const changed = Object.keys(changes).length > 0 || adopt;
      if (changed || row.absentSince) {
        // The row is written anyway: it takes the usage and the time of this moment too.
        await tx
          .update(vms)
          .set({
            ...changes,
            ...(adopt ? { source: 'agent' as const } : {}),
            ...usage,
            lastSeenAt: sql`now()` as never,
            absentSince: null,
          })
          .where(eq(vms.id, row.id));
      } else if (!body.complete) {
        touched.push(row.id);
      }
      if (changed) {
        if (changes.status !== undefined)
          events.push({ vmId: row.id, fromStatus: row.status, toStatus: changes.status });
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
    }

    await insertSyncedVms(tx, { ownerId, nodeId, rows: inserts });
    await touchSeen(tx, touched);
    // A migration adoption is recorded as a move, not a status change: keep only real changes.
    const realEvents = events.filter((e) => e.fromStatus !== e.toStatus);
    await insertStatusEvents(tx, { ownerId, events: realEvents });
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
      const missing = existing.filter(
        (r) => r.vmid !== null && r.absentSince === null && !reported.has(r.vmid),
      );
      if (missing.length > 0) {
        const [live] = await tx
          .select({ seenAt: vmLiveness.seenAt, usage: vmLiveness.usage })
          .from(vmLiveness)
          .where(eq(vmLiveness.nodeId, nodeId));
        await markAbsent(tx, { rows: missing, live: live ?? { seenAt: null, usage: {} } });
      }
      result.absent = missing.length;
    }
    // A suspicious empty sync says nothing about the guests: their liveness stays as it was.
    if (!suspicious && (body.complete || wanted.length > 0)) {
      await writeLiveness(tx, { nodeId, ownerId, complete: body.complete, usage: liveUsage });
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
