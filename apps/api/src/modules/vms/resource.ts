import { isIP } from 'node:net';
import { arrayContains, eq, sql } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { vmStatusEvents, vms } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { ValidationError } from '../../http/errors.js';
import {
  iso,
  LooseMac,
  LooseUuid,
  normalizeMac,
  normalizeTags,
  normalizeUuid,
} from '../../http/resource/fields.js';
import type { ReadContext, ResourceSpec, ResourceTable } from '../../http/resource/spec.js';
import { lastSeenExpr, preloadLiveness, vmLivenessOf } from './liveness.js';
import { CreateVm, UpdateVm, Vm, VmStatus, VmType } from './schemas.js';

type Row = typeof vms.$inferSelect;
type Dto = Static<typeof Vm>;
type Create = Static<typeof CreateVm>;

/** A VM in its API shape; last_seen_at and usage derived as vmLivenessOf says. */
export async function toVmDto(row: Row, ctx: ReadContext): Promise<Dto> {
  const live = await vmLivenessOf(row, ctx);
  return {
    id: row.id,
    owner_id: row.ownerId,
    node_id: row.nodeId,
    vmid: row.vmid,
    type: row.type,
    name: row.name,
    status: row.status,
    template: row.template,
    pve_lock: row.pveLock,
    cpu_cores: row.cpuCores,
    memory_mb: row.memoryMb,
    disk_gb: row.diskGb,
    ip_addresses: row.ipAddresses,
    mac_addresses: row.macAddresses,
    smbios_uuid: row.smbiosUuid,
    tags: row.tags,
    pve_tags: row.pveTags,
    description: row.description,
    notes: row.notes,
    account_id: row.accountId,
    cpu_usage: live.cpuUsage,
    mem_usage: live.memUsage,
    uptime_s: live.uptimeS,
    source: row.source,
    last_seen_at: iso(live.lastSeenAt),
    absent_since: iso(row.absentSince),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function values(body: Partial<Create>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const copy: Array<[keyof Create, string]> = [
    ['node_id', 'nodeId'],
    ['vmid', 'vmid'],
    ['type', 'type'],
    ['name', 'name'],
    ['status', 'status'],
    ['template', 'template'],
    ['cpu_cores', 'cpuCores'],
    ['memory_mb', 'memoryMb'],
    ['disk_gb', 'diskGb'],
    ['description', 'description'],
    ['account_id', 'accountId'],
    ['notes', 'notes'],
  ];
  for (const [from, to] of copy) if (body[from] !== undefined) out[to] = body[from];
  if (body.ip_addresses !== undefined) {
    out.ipAddresses = body.ip_addresses.map((ip, i) => {
      const bare = ip.trim().replace(/\/\d{1,3}$/, '');
      if (!isIP(bare))
        throw new ValidationError([
          { path: `/body/ip_addresses/${i}`, message: 'is not an IP address' },
        ]);
      return bare.toLowerCase();
    });
  }
  if (body.mac_addresses !== undefined) {
    out.macAddresses = [
      ...new Set(body.mac_addresses.map((m, i) => normalizeMac(m, `/body/mac_addresses/${i}`))),
    ];
  }
  if (body.smbios_uuid !== undefined)
    out.smbiosUuid = body.smbios_uuid ? normalizeUuid(body.smbios_uuid, '/body/smbios_uuid') : null;
  if (body.tags !== undefined) out.tags = normalizeTags(body.tags);
  return out;
}

/** Appends to the VM's status history when a write changed its status. */
export async function recordVmStatus(tx: Tx, before: Row | null, after: Row): Promise<void> {
  if (before?.status === after.status) return;
  await tx.insert(vmStatusEvents).values({
    ownerId: after.ownerId,
    vmId: after.id,
    fromStatus: before?.status ?? null,
    toStatus: after.status,
  });
}

export const vmSpec: ResourceSpec<Row, Dto, Create, Partial<Create>> = {
  path: 'vms',
  entity: 'vm',
  label: 'VM',
  table: vms as unknown as ResourceTable,
  dto: Vm,
  createBody: CreateVm,
  updateBody: UpdateVm,
  description:
    'Virtual machines and containers: entered by hand, or kept current by the agent of a Proxmox node.',
  sort: {
    created_at: { expr: vms.createdAt, type: 'timestamptz' },
    updated_at: { expr: vms.updatedAt, type: 'timestamptz' },
    name: { expr: sql`lower(coalesce(${vms.name}, ''))`, type: 'text' },
    vmid: { expr: sql`coalesce(${vms.vmid}, 0)`, type: 'integer' },
    status: { expr: vms.status, type: 'text' },
    last_seen_at: {
      expr: sql`coalesce(${lastSeenExpr(vms)}, '-infinity'::timestamptz)`,
      type: 'timestamptz',
    },
  },
  defaultSort: 'created_at',
  filters: {
    status: { schema: VmStatus, where: (v: string) => eq(vms.status, v as Row['status']) },
    type: { schema: VmType, where: (v: string) => eq(vms.type, v as Row['type']) },
    node_id: { schema: Type.String({ format: 'uuid' }), where: (v: string) => eq(vms.nodeId, v) },
    account_id: {
      schema: Type.String({ format: 'uuid' }),
      where: (v: string) => eq(vms.accountId, v),
    },
    vmid: {
      schema: Type.Integer({ minimum: 1, maximum: 999_999_999 }),
      where: (v: number) => eq(vms.vmid, v),
    },
    template: { schema: Type.Boolean(), where: (v: boolean) => eq(vms.template, v) },
    absent: {
      schema: Type.Boolean({
        description: 'true: missing from the last complete sync of its node',
      }),
      where: (v: boolean) =>
        v ? sql`${vms.absentSince} IS NOT NULL` : sql`${vms.absentSince} IS NULL`,
    },
    source: {
      schema: Type.Union([Type.Literal('agent'), Type.Literal('manual')]),
      where: (v: string) => eq(vms.source, v as Row['source']),
    },
    mac_address: {
      schema: { ...LooseMac, description: 'Has this MAC address (any common spelling)' },
      where: (v: string) =>
        arrayContains(vms.macAddresses, [normalizeMac(v, '/querystring/mac_address')]),
    },
    smbios_uuid: {
      schema: LooseUuid,
      where: (v: string) => eq(vms.smbiosUuid, normalizeUuid(v, '/querystring/smbios_uuid')),
    },
    assigned: {
      schema: Type.Boolean({ description: 'true: has an account assigned' }),
      where: (v: boolean) =>
        v ? sql`${vms.accountId} IS NOT NULL` : sql`${vms.accountId} IS NULL`,
    },
  },
  search: 'search_vms',
  share: 'vm',
  links: { node_id: 'Proxmox node', account_id: 'account' },
  uniques: { vms_node_vmid_owner_key: 'vmid' },
  toDto: toVmDto,
  prepareRead: preloadLiveness,
  toInsert: async (body) => values(body),
  toUpdate: async (body) => values(body),
  afterWrite: ({ before, after, ctx }) => recordVmStatus(ctx.tx, before, after),
  csv: [
    { header: 'id', value: (d) => d.id },
    { header: 'node_id', value: (d) => d.node_id },
    { header: 'vmid', value: (d) => d.vmid },
    { header: 'type', value: (d) => d.type },
    { header: 'name', value: (d) => d.name },
    { header: 'status', value: (d) => d.status },
    { header: 'template', value: (d) => d.template },
    { header: 'cpu_cores', value: (d) => d.cpu_cores },
    { header: 'memory_mb', value: (d) => d.memory_mb },
    { header: 'disk_gb', value: (d) => d.disk_gb },
    { header: 'ip_addresses', value: (d) => d.ip_addresses },
    { header: 'mac_addresses', value: (d) => d.mac_addresses },
    { header: 'smbios_uuid', value: (d) => d.smbios_uuid },
    { header: 'account_id', value: (d) => d.account_id },
    { header: 'tags', value: (d) => d.tags },
    { header: 'source', value: (d) => d.source },
    { header: 'last_seen_at', value: (d) => d.last_seen_at },
    { header: 'absent_since', value: (d) => d.absent_since },
  ],
};
