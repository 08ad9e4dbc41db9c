import type { ReadContext } from '../../http/resource/spec.js';
import { type LegacySecrets, type LegacySource, legacyUploadRecord } from './legacy-account.js';
import { LEGACY_CSV_COLUMNS, LEGACY_CSV_SECRET_COLUMNS } from './legacy-csv.js';
import { toAccountDto } from './resource.js';
import { openSecrets } from './secrets.js';

type Row = Parameters<typeof toAccountDto>[0];
type Record = { [key: string]: unknown };

/** The text of one earlier-CSV cell: flags true/false, tags joined with `;`, numbers as digits. */
function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(';');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A dotted column's value in an upload object. */
function valueAt(record: Record, column: string): unknown {
  const dot = column.indexOf('.');
  if (dot < 0) return record[column];
  const group = record[column.slice(0, dot)];
  return group && typeof group === 'object' ? (group as Record)[column.slice(dot + 1)] : undefined;
}

/**
 * The rows and CSV columns of an export in the earlier AccountDB's upload format. Without
 * secrets, the secret columns are not in the CSV and the objects carry no password and no
 * steamguard. CSV cells are written exactly as they are (csv: 'literal'): the file is for the
 * earlier system's importer and AccountDB's, which read cells literally; a `'` in front of a
 * value starting with = + - @ would change it (a password, a Steam Guard secret), and an
 * importer could not tell such a mark from a value that really starts with `'`.
 */
export function legacyExport(options: { includeSecrets: boolean }) {
  const columns = LEGACY_CSV_COLUMNS.filter(
    (c) => options.includeSecrets || !LEGACY_CSV_SECRET_COLUMNS.has(c),
  );
  return {
    auditDetails: { include_secrets: options.includeSecrets },
    toRow: async (row: Row, ctx: ReadContext) => {
      const secrets = options.includeSecrets
        ? ((await openSecrets({
            tx: ctx.tx,
            keys: ctx.keys,
            row,
            actor: ctx.request.actor,
          })) as LegacySecrets)
        : null;
      return legacyUploadRecord(toAccountDto(row) as LegacySource, secrets);
    },
    columns: columns.map((header) => ({
      header,
      value: (record: never) => cellText(valueAt(record as Record, header)),
    })),
  };
}
