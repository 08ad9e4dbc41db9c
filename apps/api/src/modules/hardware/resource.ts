import { eq, or, type SQL, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { Type } from 'typebox';
import { accounts, hardware, vms } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import {
  iso,
  LooseMac,
  LooseUuid,
  normalizeMac,
  normalizeTags,
  normalizeUuid,
} from '../../http/resource/fields.js';
import type { ResourceSpec, ResourceTable } from '../../http/resource/spec.js';
import { LEGACY_HARDWARE_COLUMNS } from './legacy-hardware.js';
import { CreateHardware, Hardware, TEXT_FIELDS, UpdateHardware, UUID_FIELDS } from './schemas.js';

type Row = typeof hardware.$inferSelect;
type Dto = Static<typeof Hardware>;
type Body = Static<typeof CreateHardware>;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Row values from a create or update body: MACs and UUIDs normalised, tags cleaned. */
function values(body: Partial<Body>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    let v: unknown = value;
    if (key === 'mac_address' && typeof value === 'string')
      v = normalizeMac(value, '/body/mac_address');
    else if ((UUID_FIELDS as readonly string[]).includes(key) && typeof value === 'string') {
      v = normalizeUuid(value, `/body/${key}`);
    } else if (key === 'tags') v = normalizeTags(value as string[]);
    else if (typeof value === 'string' && key !== 'notes')
      v = value.trim() === '' ? null : value.trim();
    out[camel(key)] = v;
  }
  return out;
}

/** Row values of a hardware create or update body. */
export const hardwareValues = values;

export function toHardwareDto(row: Row): Dto {
  const dto: Record<string, unknown> = {
    id: row.id,
    owner_id: row.ownerId,
    external_id: row.externalId,
    account_id: row.accountId,
    vm_id: row.vmId,
  };
  for (const f of [...TEXT_FIELDS, ...UUID_FIELDS, 'mac_address'] as const) {
    dto[f] = (row as Record<string, unknown>)[camel(f)] ?? null;
  }
  dto.tags = row.tags;
  dto.notes = row.notes;
  dto.created_at = iso(row.createdAt);
  dto.updated_at = iso(row.updatedAt);
  return dto as Dto;
}

const text = (col: SQL | unknown) => ({ expr: sql`coalesce(${col}, '')`, type: 'text' as const });

/** Any of the UUID identifier fields equal to the value. */
function anyUuid(value: string): SQL | undefined {
  const uuid = normalizeUuid(value, '/querystring/uuid');
  return or(
    eq(hardware.smbiosUuid, uuid),
    eq(hardware.machineGuid, uuid),
    eq(hardware.hwprofileGuid, uuid),
  );
}

/** The earlier table's columns an export writes: all but owner_id (not carried over). */
const LEGACY_COLUMNS = LEGACY_HARDWARE_COLUMNS.filter((c) => c !== 'owner_id');

/**
 * A record as a row of the earlier hardware table: id from external_id (a number when it is
 * one), acc_id the linked account's external_id, vmid the linked VM's VMID, the rest as
 * stored. Links are looked up once per export.
 */
function legacyRowMaker() {
  const accIds = new Map<string, Promise<string | null>>();
  const vmids = new Map<string, Promise<number | null>>();
  const accIdOf = (tx: Tx, id: string) => {
    if (!accIds.has(id)) {
      accIds.set(
        id,
        tx
          .select({ v: accounts.externalId })
          .from(accounts)
          .where(eq(accounts.id, id))
          .then((r) => r[0]?.v ?? null),
      );
    }
    return accIds.get(id) as Promise<string | null>;
  };
  const vmidOf = (tx: Tx, id: string) => {
    if (!vmids.has(id)) {
      vmids.set(
        id,
        tx
          .select({ v: vms.vmid })
          .from(vms)
          .where(eq(vms.id, id))
          .then((r) => r[0]?.v ?? null),
      );
    }
    return vmids.get(id) as Promise<number | null>;
  };
  return async (row: Row, ctx: { tx: Tx }): Promise<Record<string, unknown>> => {
    const dto = toHardwareDto(row) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const column of LEGACY_COLUMNS) {
      if (column === 'id') {
        const id = row.externalId;
        out.id = id && /^\d{1,15}$/.test(id) ? Number(id) : id;
      } else if (column === 'acc_id') {
        out.acc_id = row.accountId ? await accIdOf(ctx.tx, row.accountId) : null;
      } else if (column === 'vmid') out.vmid = row.vmId ? await vmidOf(ctx.tx, row.vmId) : null;
      else out[column] = dto[column] ?? null;
    }
    return out;
  };
}

const legacyCsvColumns = LEGACY_COLUMNS.map((c) => ({
  header: c,
  value: (r: Record<string, unknown>) => r[c],
}));

export const hardwareSpec: ResourceSpec<Row, Dto, Body, Partial<Body>> = {
  path: 'hardware',
  entity: 'hardware',
  table: hardware as unknown as ResourceTable,
  dto: Hardware,
  createBody: CreateHardware,
  updateBody: UpdateHardware,
  description:
    'Hardware profiles: BIOS, disk, motherboard, SMBIOS UUID, MAC and Windows identifiers, optionally linked to an account and a VM.',
  sort: {
    created_at: { expr: hardware.createdAt, type: 'timestamptz' },
    updated_at: { expr: hardware.updatedAt, type: 'timestamptz' },
    pcname: text(hardware.pcname),
    mac_address: text(hardware.macAddress),
    mb_product: text(hardware.mbProduct),
  },
  defaultSort: 'created_at',
  filters: {
    external_id: {
      schema: Type.String({ minLength: 1, maxLength: 200 }),
      where: (v: string) => eq(hardware.externalId, v),
    },
    mac_address: {
      schema: LooseMac,
      where: (v: string) => eq(hardware.macAddress, normalizeMac(v, '/querystring/mac_address')),
    },
    smbios_uuid: {
      schema: LooseUuid,
      where: (v: string) => eq(hardware.smbiosUuid, normalizeUuid(v, '/querystring/smbios_uuid')),
    },
    machine_guid: {
      schema: LooseUuid,
      where: (v: string) => eq(hardware.machineGuid, normalizeUuid(v, '/querystring/machine_guid')),
    },
    hwprofile_guid: {
      schema: LooseUuid,
      where: (v: string) =>
        eq(hardware.hwprofileGuid, normalizeUuid(v, '/querystring/hwprofile_guid')),
    },
    uuid: { schema: { ...LooseUuid, description: 'Any UUID field equals this' }, where: anyUuid },
    account_id: {
      schema: Type.String({ format: 'uuid' }),
      where: (v: string) => eq(hardware.accountId, v),
    },
    vm_id: { schema: Type.String({ format: 'uuid' }), where: (v: string) => eq(hardware.vmId, v) },
    linked: {
      schema: Type.Boolean({
        description: 'true: linked to an account or VM; false: linked to neither',
      }),
      where: (v: boolean) =>
        v
          ? sql`(${hardware.accountId} IS NOT NULL OR ${hardware.vmId} IS NOT NULL)`
          : sql`(${hardware.accountId} IS NULL AND ${hardware.vmId} IS NULL)`,
    },
  },
  search: 'search_hardware',
  links: { account_id: 'account', vm_id: 'VM' },
  uniques: { hardware_owner_external_key: 'external_id' },
  toDto: toHardwareDto,
  exportFormats: {
    'legacy-json': {
      body: 'json',
      description:
        "the earlier AccountDB's hardware rows: id (the external_id), acc_id (the linked account's external_id), " +
        "vmid (the linked VM's VMID) and the identifier columns.",
      exporter: async () => ({ toRow: legacyRowMaker(), columns: [], auditDetails: {} }),
    },
    'legacy-csv': {
      body: 'csv',
      csv: 'dump',
      description:
        'the same as the earlier hardware table as psql writes it (NULL empty; values exact, not defused ' +
        'against spreadsheet formulas).',
      exporter: async () => ({
        toRow: legacyRowMaker(),
        columns: legacyCsvColumns as Array<{ header: string; value: (row: never) => unknown }>,
        auditDetails: {},
      }),
    },
  },
  toInsert: async (body) => values(body),
  toUpdate: async (body) => values(body),
  csv: [
    { header: 'id', value: (d) => d.id },
    ...[...TEXT_FIELDS, ...UUID_FIELDS, 'mac_address' as const].map((f) => ({
      header: f,
      value: (d: Dto) => (d as Record<string, unknown>)[f],
    })),
    { header: 'account_id', value: (d) => d.account_id },
    { header: 'vm_id', value: (d) => d.vm_id },
    { header: 'tags', value: (d) => d.tags },
    { header: 'notes', value: (d) => d.notes },
    { header: 'created_at', value: (d) => d.created_at },
    { header: 'updated_at', value: (d) => d.updated_at },
    { header: 'external_id', value: (d) => d.external_id },
  ],
};
