import { LEGACY_GUARD_KEYS, legacyAccountRowBody, legacyUploadBody } from './legacy-account.js';
import { LegacyFieldError } from './legacy-values.js';

/**
 * The earlier AccountDB's account CSVs:
 * - its upload CSV (`/upload/csv`): the upload object flattened under dotted headers. The
 *   columns and their order are those of its handler (backend/routers/upload.py in
 *   Xenogy/SLLAB: ten required columns, then `steamguard.*`); its web UI's template
 *   (frontend/nextjs/public/sample_accounts_template.csv) holds the first ten. The upload
 *   model's `metadata.tags` and the `prime`/`lock`/`perm_lock` flags follow them.
 * - a dump of its `accounts` table (`psql \copy accounts TO … CSV HEADER`): the table's
 *   column names as the header, `t`/`f`, NULL as an empty cell.
 * Which one an upload is, is told by its header.
 */

/** The ten columns of the earlier web UI's template, in its order. */
export const LEGACY_TEMPLATE_COLUMNS = [
  'id',
  'user.username',
  'user.password',
  'email.address',
  'email.password',
  'vault.address',
  'vault.password',
  'metadata.createdAt',
  'metadata.sessionStart',
  'metadata.guard',
] as const;

/** Every column of the earlier upload CSV, in the order AccountDB writes them. */
export const LEGACY_CSV_COLUMNS = [
  ...LEGACY_TEMPLATE_COLUMNS,
  ...LEGACY_GUARD_KEYS.map((k) => `steamguard.${k}`),
  'metadata.tags',
  'prime',
  'lock',
  'perm_lock',
] as const;

/** Columns that hold a secret (left out of an export without secrets). */
export const LEGACY_CSV_SECRET_COLUMNS = new Set<string>([
  'user.password',
  'email.password',
  'vault.password',
  ...LEGACY_GUARD_KEYS.map((k) => `steamguard.${k}`),
]);

export type CsvKind = 'csv' | 'legacy-csv' | 'legacy-table-csv';

const GROUPS = ['user.', 'email.', 'vault.', 'metadata.', 'steamguard.'];

/** The kind of an account CSV, from its header (names as written, any case). */
export function csvKindOf(header: readonly string[]): CsvKind {
  const names = header.map((h) => h.trim().toLowerCase());
  if (names.some((n) => GROUPS.some((g) => n.startsWith(g)))) return 'legacy-csv';
  if (names.includes('acc_id') || names.includes('acc_username')) return 'legacy-table-csv';
  return 'csv';
}

/** Lower-case dotted name → the name as the earlier format spells it. */
const CANONICAL = new Map<string, string>(LEGACY_CSV_COLUMNS.map((c) => [c.toLowerCase(), c]));

/**
 * One row of the earlier upload CSV → the upload object it stands for (empty cells left
 * out). A `steamguard.<key>` column it does not know is kept under that key; any other
 * unknown column is refused.
 */
export function legacyCsvObject(header: readonly string[], fields: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const [i, raw] of header.entries()) {
    const cell = fields[i];
    if (cell === undefined || cell === '') continue;
    const lower = raw.trim().toLowerCase();
    const name =
      CANONICAL.get(lower) ??
      (lower.startsWith('steamguard.') && lower.length > 11
        ? `steamguard.${raw.trim().slice(11)}`
        : null);
    if (!name)
      throw new LegacyFieldError(
        raw.trim() || `column ${i + 1}`,
        'is not a column of the earlier upload CSV',
      );
    const dot = name.indexOf('.');
    if (dot < 0) out[name] = cell;
    else {
      const group = name.slice(0, dot);
      const parent = (out[group] ?? {}) as Record<string, unknown>;
      parent[name.slice(dot + 1)] = cell;
      out[group] = parent;
    }
  }
  return out;
}

/** One row of a CSV dump of the earlier `accounts` table → the row under its column names. */
export function legacyTableCsvRow(header: readonly string[], fields: readonly string[]) {
  const row: Record<string, unknown> = {};
  for (const [i, raw] of header.entries()) {
    const name = raw.trim().toLowerCase();
    if (!name) throw new LegacyFieldError(`column ${i + 1}`, 'has no name');
    const cell = fields[i];
    row[name] = cell === undefined || cell === '' ? null : cell;
  }
  return row;
}

/** A CSV record of the given kind → a create/update body (throws LegacyFieldError). */
export function legacyCsvBody(options: {
  kind: 'legacy-csv' | 'legacy-table-csv';
  header: readonly string[];
  fields: readonly string[];
}): Record<string, unknown> {
  return options.kind === 'legacy-csv'
    ? legacyUploadBody(legacyCsvObject(options.header, options.fields))
    : legacyAccountRowBody(legacyTableCsvRow(options.header, options.fields));
}
