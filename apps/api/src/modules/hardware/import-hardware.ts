import { and, eq, inArray } from 'drizzle-orm';
import { accounts, hardware, vms } from '../../db/schema.js';
import { uuidv7 } from '../../db/uuid.js';
import { validatorFor } from '../../http/body-validator.js';
import { AppError } from '../../http/errors.js';
import { type FieldNames, fileFieldName, rowMessage } from '../../http/field-names.js';
import { type ImportTarget, importInBatches, type RowError } from '../../http/import-batches.js';
import { writeProblem } from '../../http/resource/errors.js';
import {
  type BulkRowError,
  insertRows,
  type PreparedRow,
} from '../../http/resource/insert-rows.js';
import type { ImportFormat } from '../accounts/import-formats.js';
import type { HardwareItem } from './hardware-readers.js';
import { hardwareSpec, hardwareValues } from './resource.js';
import { CreateHardware } from './schemas.js';

export interface HardwareImportResult {
  dry_run: boolean;
  format: ImportFormat;
  /** Records read: created + updated + unchanged + failed. */
  total: number;
  created: number;
  /** Records matching one of yours (external_id, else smbios_uuid) with other values. */
  updated: number;
  /** Records matching one of yours with the same values: nothing written. */
  unchanged: number;
  failed: number;
  errors: RowError[];
  errors_total: number;
  errors_truncated: boolean;
}

export class HardwareDryRun extends Error {
  constructor(readonly result: HardwareImportResult) {
    super('dry run');
  }
}

type Row = typeof hardware.$inferSelect;
const validate = validatorFor(CreateHardware);

/**
 * Imports hardware records in batches of 500 read lazily from `items`. The earlier links are
 * resolved among the owner's own rows only: acc_id to the account whose external_id it is,
 * vmid to the VM with that VMID; a link that matches nothing, or a VMID on two of the owner's
 * nodes, is the row's error and the row is not written (never guessed, never written without
 * its link). A record matching one of the owner's records, by external_id or else by
 * smbios_uuid, updates it (or leaves it when nothing differs); others are created.
 */
export async function importHardware(
  options: ImportTarget & {
    format: ImportFormat;
    items: Iterable<HardwareItem>;
    dryRun: boolean;
  },
): Promise<HardwareImportResult> {
  const seen = new Map<string, number>();
  const counts = { total: 0, created: 0, updated: 0, unchanged: 0 };
  const errors = await importInBatches(options.items, async (batch) => {
    const done = await importBatch({ ...options, batch, seen });
    counts.total += batch.length;
    counts.created += done.created;
    counts.updated += done.updated;
    counts.unchanged += done.unchanged;
    return done.errors;
  });
  const result: HardwareImportResult = {
    dry_run: options.dryRun,
    format: options.format,
    ...counts,
    ...errors.answer(),
  };
  if (options.dryRun) throw new HardwareDryRun(result);
  return result;
}

const strings = (values: Array<string | undefined>) => [
  ...new Set(values.filter((v): v is string => typeof v === 'string')),
];

/** The owner's accounts by external_id and VMs by VMID (several when on several nodes). */
async function linkTargets(options: ImportTarget & { batch: HardwareItem[] }) {
  const { tx, ownerId, batch } = options;
  const accIds = strings(batch.map((i) => i.links?.acc_id));
  const vmids = [...new Set(batch.flatMap((i) => (i.links?.vmid ? [i.links.vmid] : [])))];
  const accountsBy = new Map<string, string>();
  if (accIds.length > 0) {
    const rows = await tx
      .select({ id: accounts.id, externalId: accounts.externalId })
      .from(accounts)
      .where(and(eq(accounts.ownerId, ownerId), inArray(accounts.externalId, accIds)));
    for (const r of rows) if (r.externalId) accountsBy.set(r.externalId, r.id);
  }
  const vmsBy = new Map<number, string[]>();
  if (vmids.length > 0) {
    const rows = await tx
      .select({ id: vms.id, vmid: vms.vmid })
      .from(vms)
      .where(and(eq(vms.ownerId, ownerId), inArray(vms.vmid, vmids)));
    for (const r of rows) {
      if (r.vmid !== null) vmsBy.set(r.vmid, [...(vmsBy.get(r.vmid) ?? []), r.id]);
    }
  }
  return { accountsBy, vmsBy };
}

/** The owner's records a batch may match: by external_id, and by smbios_uuid. */
async function matchTargets(options: ImportTarget & { bodies: Record<string, unknown>[] }) {
  const { tx, ownerId, bodies } = options;
  const externalIds = strings(bodies.map((b) => b.external_id as string | undefined));
  const uuids = strings(
    bodies.filter((b) => !b.external_id).map((b) => b.smbios_uuid as string | undefined),
  );
  const byExternal = new Map<string, Row>();
  const byUuid = new Map<string, Row[]>();
  if (externalIds.length > 0) {
    const rows = await tx
      .select()
      .from(hardware)
      .where(and(eq(hardware.ownerId, ownerId), inArray(hardware.externalId, externalIds)))
      .for('update');
    for (const r of rows) if (r.externalId) byExternal.set(r.externalId, r);
  }
  if (uuids.length > 0) {
    const rows = await tx
      .select()
      .from(hardware)
      .where(and(eq(hardware.ownerId, ownerId), inArray(hardware.smbiosUuid, uuids)))
      .for('update');
    for (const r of rows) {
      if (r.smbiosUuid) byUuid.set(r.smbiosUuid, [...(byUuid.get(r.smbiosUuid) ?? []), r]);
    }
  }
  return { byExternal, byUuid };
}

function differs(current: Row, values: Record<string, unknown>): boolean {
  const same = (a: unknown, b: unknown) =>
    Array.isArray(a) || Array.isArray(b) ? JSON.stringify(a) === JSON.stringify(b) : a === b;
  return Object.entries(values).some(
    ([key, v]) => !same((current as Record<string, unknown>)[key] ?? null, v ?? null),
  );
}

async function importBatch(
  options: ImportTarget & { batch: HardwareItem[]; seen: Map<string, number> },
): Promise<{ created: number; updated: number; unchanged: number; errors: RowError[] }> {
  const { tx, ownerId, batch, seen } = options;
  const errors: RowError[] = [];
  const fail = (row: number, text: string) => errors.push({ row, message: text });
  const { accountsBy, vmsBy } = await linkTargets(options);
  /** Each row's names of the fields, for the errors after its checks. */
  const namesOf = new Map<number, FieldNames | undefined>(batch.map((i) => [i.row, i.names]));
  const message = (row: number, e: BulkRowError['errors']) => rowMessage(e, namesOf.get(row));
  /** Records that passed their checks, with the row values to write. */
  const ready: Array<{
    row: number;
    values: Record<string, unknown>;
    body: Record<string, unknown>;
  }> = [];
  for (const item of batch) {
    if (!item.body) {
      fail(item.row, item.error ?? 'cannot be read');
      continue;
    }
    const body = { ...item.body };
    const { acc_id: accId, vmid } = item.links ?? {};
    if (accId !== undefined) {
      const id = accountsBy.get(accId);
      if (!id) {
        fail(item.row, `acc_id ${accId}: none of your accounts has this external_id (SteamID64)`);
        continue;
      }
      body.account_id = id;
    }
    if (vmid !== undefined) {
      const ids = vmsBy.get(vmid) ?? [];
      if (ids.length !== 1) {
        fail(
          item.row,
          ids.length === 0
            ? `vmid ${vmid}: none of your VMs has this VMID`
            : `vmid ${vmid}: ${ids.length} of your VMs (on different nodes) have this VMID; link it by vm_id`,
        );
        continue;
      }
      body.vm_id = ids[0];
    }
    const fieldErrors = validate(body, 'body');
    if (fieldErrors.length > 0) {
      fail(item.row, message(item.row, fieldErrors));
      continue;
    }
    const key = typeof body.external_id === 'string' ? `e:${body.external_id}` : undefined;
    if (key) {
      const first = seen.get(key);
      if (first !== undefined) {
        fail(
          item.row,
          `${fileFieldName('external_id', item.names)} ${body.external_id} was already in row ${first}`,
        );
        continue;
      }
      seen.set(key, item.row);
    }
    try {
      ready.push({ row: item.row, values: hardwareValues(body), body });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      fail(item.row, err.extra.errors ? message(item.row, err.extra.errors) : err.message);
    }
  }
  const { byExternal, byUuid } = await matchTargets({
    ...options,
    bodies: ready.map((r) => ({ ...r.body, smbios_uuid: r.values.smbiosUuid })),
  });
  const inserts: PreparedRow[] = [];
  let updated = 0;
  let unchanged = 0;
  for (const { row, values } of ready) {
    const external = values.externalId as string | undefined;
    const uuid = values.smbiosUuid as string | undefined;
    let current: Row | undefined;
    if (external) current = byExternal.get(external);
    else if (uuid) {
      const found = byUuid.get(uuid) ?? [];
      if (found.length > 1) {
        fail(
          row,
          `smbios_uuid ${uuid}: ${found.length} of your records have it; give an external_id`,
        );
        continue;
      }
      current = found[0];
    }
    if (!current) {
      const id = uuidv7();
      inserts.push({
        index: row,
        values: { ...values, id, ownerId },
        ctx: { tx, request: options.request, ownerId, keys: options.keys, rowId: id },
      });
      continue;
    }
    if (!differs(current, values)) {
      unchanged++;
      continue;
    }
    try {
      await tx.transaction(async (sp) => {
        await sp.update(hardware).set(values).where(eq(hardware.id, current.id));
      });
      updated++;
    } catch (err) {
      const problem = writeProblem(hardwareSpec, err);
      if (!problem) throw err;
      fail(row, problem.extra.errors ? message(row, problem.extra.errors) : problem.message);
    }
  }
  const insertErrors: BulkRowError[] = [];
  const created = (await insertRows(tx, hardwareSpec, inserts, insertErrors)).length;
  for (const e of insertErrors) fail(e.row, message(e.row, e.errors));
  return { created, updated, unchanged, errors };
}
