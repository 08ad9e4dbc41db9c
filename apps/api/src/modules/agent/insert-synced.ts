import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/tenant.js';
import type { ObservedValues } from './normalize-vm.js';

/**
 * Set-based inserts of a sync's new VMs and status events: one JSON document per statement
 * (jsonb_to_recordset), not thousands of bound parameters. A first sync of 10,000 guests
 * spent most of its time building, sending and planning multi-row VALUES lists.
 */

/** Rows per statement: bounds the size of one document (a VM row is below 10 KiB). */
const CHUNK = 2_000;

export interface NewVm {
  id: string;
  vmid: number;
  values: ObservedValues;
  usage: { cpuUsage: number | null; memUsage: number | null; uptimeS: number | null };
}

export async function insertSyncedVms(
  tx: Tx,
  options: { ownerId: string; nodeId: string; rows: NewVm[] },
): Promise<void> {
  const { ownerId, nodeId, rows } = options;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const doc = rows.slice(i, i + CHUNK).map(({ id, vmid, values: v, usage: u }) => ({
      id,
      vmid,
      type: v.type,
      name: v.name,
      status: v.status,
      template: v.template,
      pve_lock: v.pveLock,
      cpu_cores: v.cpuCores,
      memory_mb: v.memoryMb,
      disk_gb: v.diskGb,
      ip_addresses: v.ipAddresses,
      mac_addresses: v.macAddresses,
      smbios_uuid: v.smbiosUuid,
      pve_tags: v.pveTags,
      description: v.description,
      cpu_usage: u.cpuUsage,
      mem_usage: u.memUsage,
      uptime_s: u.uptimeS,
    }));
    // A key left out (not observed) is NULL here: the NOT NULL columns take their defaults.
    await tx.execute(sql`
      INSERT INTO vms (id, owner_id, node_id, vmid, type, name, status, template, pve_lock,
                       cpu_cores, memory_mb, disk_gb, ip_addresses, mac_addresses, smbios_uuid,
                       pve_tags, description, cpu_usage, mem_usage, uptime_s, source, last_seen_at)
      SELECT r.id, ${ownerId}::uuid, ${nodeId}::uuid, r.vmid, coalesce(r.type, 'qemu'),
             r.name, coalesce(r.status, 'unknown'), coalesce(r.template, false), r.pve_lock,
             r.cpu_cores, r.memory_mb, r.disk_gb, coalesce(r.ip_addresses, '{}'),
             coalesce(r.mac_addresses, '{}'), r.smbios_uuid, coalesce(r.pve_tags, '{}'),
             r.description, r.cpu_usage, r.mem_usage, r.uptime_s, 'agent', now()
      FROM jsonb_to_recordset(${JSON.stringify(doc)}::jsonb) AS r(
        id uuid, vmid integer, type text, name text, status text, template boolean,
        pve_lock text, cpu_cores integer, memory_mb bigint, disk_gb double precision,
        ip_addresses text[], mac_addresses text[], smbios_uuid uuid, pve_tags text[],
        description text, cpu_usage double precision, mem_usage bigint, uptime_s bigint)`);
  }
}

export interface StatusEvent {
  vmId: string;
  fromStatus: string | null;
  toStatus: string;
}

export async function insertStatusEvents(
  tx: Tx,
  options: { ownerId: string; events: StatusEvent[] },
): Promise<void> {
  const { ownerId, events } = options;
  for (let i = 0; i < events.length; i += CHUNK) {
    const doc = events
      .slice(i, i + CHUNK)
      .map((e) => ({ vm_id: e.vmId, from_status: e.fromStatus, to_status: e.toStatus }));
    await tx.execute(sql`
      INSERT INTO vm_status_events (owner_id, vm_id, from_status, to_status)
      SELECT ${ownerId}::uuid, r.vm_id, r.from_status, r.to_status
      FROM jsonb_to_recordset(${JSON.stringify(doc)}::jsonb)
        AS r(vm_id uuid, from_status text, to_status text)`);
  }
}

/** The first field of a guest holding a NUL character (PostgreSQL text cannot store one). */
export function nulField(vm: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(vm)) {
    if (typeof value === 'string' && value.includes('\u0000')) return key;
    if (Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes('\u0000')))
      return key;
  }
  return undefined;
}
