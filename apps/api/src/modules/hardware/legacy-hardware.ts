import type { FieldNames } from '../../http/field-names.js';
import { TEXT_FIELDS, UUID_FIELDS } from './schemas.js';

/**
 * The earlier AccountDB's hardware (docs/api.md#hardware-from-the-earlier-accountdb): its
 * table `hardware(id, acc_id, bios_vendor, …, mac_address, vmid, pcname, machine_guid,
 * hwprofile_guid, product_id, device_id, owner_id)`, one row mapped onto a hardware body plus
 * the two links it names by the earlier keys: acc_id (an account's SteamID64, AccountDB's
 * external_id) and vmid (a VM's VMID), which the caller resolves among the owner's own rows.
 */

/** The columns of the earlier table, in its order (a psql `\copy … CSV HEADER` header). */
export const LEGACY_HARDWARE_COLUMNS = [
  'id',
  'acc_id',
  'bios_vendor',
  'bios_version',
  'disk_serial',
  'disk_model',
  'smbios_uuid',
  'mb_manufacturer',
  'mb_product',
  'mb_version',
  'mb_serial',
  'mac_address',
  'vmid',
  'pcname',
  'machine_guid',
  'hwprofile_guid',
  'product_id',
  'device_id',
  'owner_id',
] as const;

/** Keys only the earlier shape has: a record with one of them is read as an earlier row. */
export const LEGACY_ONLY_KEYS = ['id', 'acc_id', 'vmid', 'owner_id'] as const;

const COLUMNS = new Set<string>(LEGACY_HARDWARE_COLUMNS);
const COPIED = new Set<string>([...TEXT_FIELDS, ...UUID_FIELDS, 'mac_address']);

export interface LegacyHardwareRow {
  body: Record<string, string | null> & { external_id?: string };
  links: { acc_id?: string; vmid?: number };
}

/**
 * The earlier table's column of each body field that it names otherwise, for errors
 * (http/field-names.ts); every other field has its column's name.
 */
export const LEGACY_HARDWARE_FIELD_NAMES: FieldNames = {
  external_id: 'id',
  account_id: 'acc_id',
  vm_id: 'vmid',
};

/** One earlier row that cannot be a hardware record; the message names the column. */
export class LegacyHardwareRowError extends Error {}

const MAX_VMID = 999_999_999;

function digits(value: unknown, column: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,30}$/.test(text.trim())) {
    throw new LegacyHardwareRowError(`${column} is not a whole number`);
  }
  return text.trim();
}

/**
 * One row of the earlier `hardware` table (values as node-postgres returns them, or the
 * strings of a CSV dump / the earlier JSON upload) as a hardware create body and its links.
 * - id → external_id (digits): the key a re-import matches on;
 * - acc_id → links.acc_id, vmid → links.vmid (a number); owner_id is not kept;
 * - every other column is copied; NULL and '' are both no value; MAC and UUIDs are
 *   normalised on write (MAC as AA:BB:CC:DD:EE:FF, UUIDs lower case).
 * Throws LegacyHardwareRowError naming the column.
 */
export function legacyHardwareRowBody(row: Record<string, unknown>): LegacyHardwareRow {
  const body: LegacyHardwareRow['body'] = {};
  const links: LegacyHardwareRow['links'] = {};
  for (const [key, value] of Object.entries(row)) {
    if (!COLUMNS.has(key)) {
      const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      throw new LegacyHardwareRowError(`${name} is not a column of the earlier hardware table`);
    }
    if (!COPIED.has(key)) continue;
    if (value === null || value === undefined || value === '') body[key] = null;
    else if (typeof value === 'string') body[key] = value;
    else throw new LegacyHardwareRowError(`${key} is not text`);
  }
  const id = digits(row.id, 'id');
  if (id !== undefined) body.external_id = id;
  const accId = digits(row.acc_id, 'acc_id');
  if (accId !== undefined) links.acc_id = accId;
  const vmid = digits(row.vmid, 'vmid');
  if (vmid !== undefined) {
    const n = Number(vmid);
    if (n < 1 || n > MAX_VMID) throw new LegacyHardwareRowError(`vmid ${vmid} is not a VMID`);
    links.vmid = n;
  }
  return { body, links };
}
