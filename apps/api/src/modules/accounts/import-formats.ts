import { AppError } from '../../http/errors.js';
import type { FieldNames } from '../../http/field-names.js';
import { LIMITS } from '../../http/limits.js';
import { parseJson } from '../../http/safe-json.js';
import {
  LEGACY_TABLE_FIELD_NAMES,
  LEGACY_UPLOAD_FIELD_NAMES,
  legacyAccountRowBody,
  legacyUploadBody,
  legacyUploadIgnored,
} from './legacy-account.js';
import { isMaFile, maFileBody, maFileFieldNames } from './ma-file.js';

/**
 * The shapes an imported account record may have: AccountDB's own field names, the earlier
 * AccountDB's upload object or accounts-table row (legacy-account.ts), or a Steam Guard .maFile
 * (a CSV record: AccountDB's field names as columns, or the earlier CSVs of legacy-csv.ts). Every record becomes a create/update body for POST /accounts. How an upload is
 * split into records is import-readers.ts.
 */

/**
 * How an upload is read: its container (json, jsonl, csv), or one of the earlier AccountDB's
 * formats (legacy-json: its upload objects; legacy-table-json: rows of its accounts table;
 * legacy-csv: its dotted-header upload CSV; legacy-table-csv: a dump of its accounts table).
 */
export type ImportFormat =
  | 'json'
  | 'jsonl'
  | 'csv'
  | 'legacy-json'
  | 'legacy-table-json'
  | 'legacy-csv'
  | 'legacy-table-csv';

export const IMPORT_FORMATS: readonly ImportFormat[] = [
  'json',
  'jsonl',
  'csv',
  'legacy-json',
  'legacy-table-json',
  'legacy-csv',
  'legacy-table-csv',
];

/** The container an upload of a format is split into records by. */
export const containerOf = (format: ImportFormat): 'json' | 'jsonl' | 'csv' =>
  format === 'jsonl' ? 'jsonl' : format.endsWith('csv') ? 'csv' : 'json';

/** The earlier format a JSON record is in, if any. */
export function legacyShapeOf(record: unknown): 'legacy-json' | 'legacy-table-json' | null {
  if (!isObj(record)) return null;
  if (isObj(record.user)) return 'legacy-json';
  if ('acc_id' in record) return 'legacy-table-json';
  return null;
}

export interface ParsedRecord {
  /** 1-based position of the record in the upload (for CSV: its line number). */
  row: number;
  body?: Record<string, unknown>;
  /** The record's names of the body's fields when they are not AccountDB's (for errors). */
  names?: FieldNames;
  /** Fields of the record the import reads past (legacyUploadIgnored), to be listed. */
  ignored?: string[];
  error?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function splitTags(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((t): t is string => typeof t === 'string');
  if (typeof v === 'string')
    return v
      .split(/[;,|]/)
      .map((t) => t.trim())
      .filter(Boolean);
  return undefined;
}

/**
 * One record in any supported shape → a body in AccountDB's field names, with the record's
 * own names of those fields when they differ.
 */
export function toAccountRecord(record: unknown): {
  body: Obj;
  names?: FieldNames;
  ignored?: string[];
} {
  if (!isObj(record)) throw new Error('is not an object');
  const legacy = legacyShapeOf(record);
  if (legacy === 'legacy-json') return legacyUploadRecord(record);
  if (legacy === 'legacy-table-json')
    return { body: legacyAccountRowBody(record), names: LEGACY_TABLE_FIELD_NAMES };
  if (isMaFile(record)) return { body: maFileBody(record), names: maFileFieldNames(record) };
  return { body: record };
}

/** An earlier upload object → its body, its field names and the fields read past. */
export function legacyUploadRecord(record: Obj): {
  body: Obj;
  names: FieldNames;
  ignored?: string[];
} {
  const body = legacyUploadBody(record);
  const ignored = legacyUploadIgnored(record);
  return { body, names: LEGACY_UPLOAD_FIELD_NAMES, ...(ignored.length > 0 ? { ignored } : {}) };
}

const CSV_ARRAY_FIELDS = new Set(['tags']);
const CSV_OBJECT_FIELDS = new Set(['attributes', 'steam_guard']);

/**
 * One CSV record under its header's (lower-case) column names → a body. Empty cells are left
 * out; tags are split, attributes and steam_guard read as JSON (within the JSON limits of an
 * import record: over them the whole upload is refused).
 */
export function csvRecordBody(names: string[], line: number, fields: string[]): ParsedRecord {
  const body: Obj = {};
  for (const [i, name] of names.entries()) {
    const raw = fields[i];
    if (!name || raw === undefined || raw.trim() === '') continue;
    if (CSV_ARRAY_FIELDS.has(name)) body[name] = splitTags(raw);
    else if (CSV_OBJECT_FIELDS.has(name)) {
      try {
        body[name] = parseJson(raw, {
          limits: LIMITS.import.recordJson,
          what: `Column ${name} on line ${line}`,
        });
      } catch (err) {
        if (err instanceof AppError) throw err;
        return { row: line, error: `column ${name} is not JSON` };
      }
    } else body[name] = raw;
  }
  if (fields.length > names.length)
    return { row: line, error: `has ${fields.length} fields, the header ${names.length}` };
  return { row: line, body };
}
