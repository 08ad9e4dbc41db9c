import { CsvReader } from '../../http/csv-reader.js';
import { AppError, InvalidJsonError, ValidationError } from '../../http/errors.js';
import { checkJson, JsonSplitter } from '../../http/json-splitter.js';
import { LIMITS, limitErrors } from '../../http/limits.js';
import { LineSplitter } from '../../http/line-splitter.js';
import { parseJson } from '../../http/safe-json.js';
import type { Upload, UploadScanner } from '../../http/upload.js';
import {
  containerOf,
  csvRecordBody,
  IMPORT_FORMATS,
  type ImportFormat,
  legacyShapeOf,
  legacyUploadRecord,
  type ParsedRecord,
  toAccountRecord,
} from './import-formats.js';
import {
  LEGACY_TABLE_FIELD_NAMES,
  LEGACY_UPLOAD_FIELD_NAMES,
  legacyAccountRowBody,
} from './legacy-account.js';
import { csvKindOf, legacyCsvBody } from './legacy-csv.js';
import { isObj, LegacyFieldError } from './legacy-values.js';

/**
 * Account uploads read in two passes: while the upload arrives, a scanner counts its records
 * and checks the nesting and size of each JSON record (refusing the upload before anything is
 * written); then, in the import's transaction, the records are read one by one from the
 * upload's bytes. Neither pass holds more than one record parsed.
 */

const { records: MAX_RECORDS, recordJson: RECORD_JSON, csvFields: MAX_FIELDS } = LIMITS.import;
const WHAT = 'The upload';

const JSON_LINES_TYPES = new Set([
  'application/x-ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);

/** The format named by ?format= or the content type; undefined: told from the content. */
export function formatOf(
  query: unknown,
  contentType: string | undefined,
): ImportFormat | undefined {
  if (IMPORT_FORMATS.includes(query as ImportFormat)) return query as ImportFormat;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/csv') return 'csv';
  if (JSON_LINES_TYPES.has(type)) return 'jsonl';
  if (type === 'application/json') return 'json';
  return undefined;
}

interface Scan {
  push(piece: string): void;
  end(): void;
}

function jsonScan(): Scan {
  const splitter = new JsonSplitter({
    mode: 'records',
    limits: RECORD_JSON,
    keep: false,
    maxRecords: MAX_RECORDS,
    what: WHAT,
  });
  return { push: (piece) => void splitter.push(piece), end: () => void splitter.end() };
}

/** Each line checked on its own; a line that is not JSON is the import's per-row error. */
function jsonLinesScan(maxRecords: number | undefined = MAX_RECORDS) {
  const lines = new LineSplitter({ ...(maxRecords ? { maxRecords } : {}), what: WHAT });
  const check = (found: Array<{ row: number; text: string }>) => {
    for (const line of found) {
      try {
        checkJson(line.text, RECORD_JSON, `Line ${line.row} of the upload`);
      } catch (err) {
        if (!(err instanceof InvalidJsonError)) throw err;
      }
    }
  };
  return {
    lines,
    push: (piece: string) => check(lines.push(piece)),
    end: () => check(lines.end()),
  };
}

function csvScan(): Scan {
  const reader = new CsvReader({ maxFields: MAX_FIELDS });
  let records = 0;
  const count = (found: unknown[]) => {
    records += found.length;
    // The header is not a record.
    if (records - 1 > MAX_RECORDS) throw limitErrors.tooManyRecords(MAX_RECORDS, WHAT);
  };
  return { push: (piece) => count(reader.push(piece)), end: () => count(reader.end()) };
}

/**
 * An upload starting with "{" is one JSON object (a .maFile) or JSON lines: both readings run
 * until the text tells them apart (a second value after the first); a limit either reading
 * breaks refuses the upload, except the record count of the reading that turns out wrong.
 */
function objectOrLinesScan(): Scan & { format(): ImportFormat } {
  let json: Scan | null = jsonScan();
  const lines = jsonLinesScan(undefined);
  const feed = (step: (s: Scan) => void) => {
    if (json) {
      try {
        step(json);
      } catch (err) {
        if (!(err instanceof InvalidJsonError)) throw err;
        json = null;
      }
    }
    step(lines);
    if (!json && lines.lines.rows > MAX_RECORDS) {
      throw limitErrors.tooManyRecords(MAX_RECORDS, WHAT);
    }
  };
  return {
    push: (piece) => feed((s) => s.push(piece)),
    end: () => feed((s) => s.end()),
    format: () => (json ? 'json' : 'jsonl'),
  };
}

/**
 * Pass 1: the scanner of an upload in `format`, or of one whose format it tells. Over a limit
 * it throws; JSON that is not JSON throws too when `strict` (an application/json body), else
 * it is kept as the upload's error and the rest only received (answered as one row error).
 */
export function accountUploadScanner(
  format: ImportFormat | undefined,
  options: { strict: boolean },
): UploadScanner {
  const scan = format
    ? { ...scannerFor(containerOf(format)), format: () => format }
    : detectingScan();
  let error: InvalidJsonError | undefined;
  const guard = (step: () => void) => {
    if (error) return;
    try {
      step();
    } catch (err) {
      if (options.strict || !(err instanceof InvalidJsonError)) throw err;
      error = err;
    }
  };
  return {
    push: (piece) => guard(() => scan.push(piece)),
    end: () => {
      guard(() => scan.end());
      return { format: scan.format(), ...(error ? { error } : {}) };
    },
  };
}

function scannerFor(format: 'json' | 'jsonl' | 'csv'): Scan {
  return format === 'json' ? jsonScan() : format === 'jsonl' ? jsonLinesScan() : csvScan();
}

/** The format told from the first character: [ JSON, { JSON or JSON lines, else CSV. */
function detectingScan(): Scan & { format(): ImportFormat } {
  let scan: (Scan & { format?: () => ImportFormat }) | null = null;
  let told: 'json' | 'csv' = 'csv';
  let waiting = '';
  return {
    push(piece) {
      if (scan) return scan.push(piece);
      waiting += piece;
      const first = waiting.replace(/^[\s\uFEFF]+/, '')[0];
      if (first === undefined) return;
      if (first === '{') scan = objectOrLinesScan();
      else {
        told = first === '[' ? 'json' : 'csv';
        scan = scannerFor(told);
      }
      scan.push(waiting);
      waiting = '';
    },
    end() {
      scan?.end();
    },
    format: () => scan?.format?.() ?? told,
  };
}

/** A record's JSON, or null when it is not JSON (over a limit, it throws). */
function recordJson(text: string): { value: unknown } | null {
  try {
    return { value: parseJson(text, { bigIntegers: true, limits: RECORD_JSON }) };
  } catch (err) {
    if (err instanceof AppError && !(err instanceof InvalidJsonError)) throw err;
    return null;
  }
}

/**
 * What reading found out about the upload: the format it was read in, refined while reading
 * (a CSV's header tells the earlier formats; a JSON array whose every record is in one of the
 * earlier shapes is that format).
 */
export interface ReadFormat {
  format: ImportFormat;
}

/** Pass 2: the upload's records, one at a time, each as a body or the reason it is not. */
export function* accountRecords(
  format: ImportFormat,
  upload: Upload,
  read: ReadFormat = { format },
): Generator<ParsedRecord> {
  read.format = format;
  const container = containerOf(format);
  if (container === 'json') {
    // Each element was found whole in pass 1: one that is not JSON spoils the upload.
    const splitter = new JsonSplitter({ mode: 'records', limits: RECORD_JSON, keep: true });
    const shapes = new Set<string | null>();
    for (const { row, text } of upload.records(splitter)) {
      const json = recordJson(text);
      if (!json) throw new InvalidJsonError('The upload is not valid JSON.', row);
      if (format === 'json') shapes.add(legacyShapeOf(json.value));
      yield recordOf(row, json.value, format);
    }
    const [only] = shapes;
    if (shapes.size === 1 && only) read.format = only as ImportFormat;
  } else if (container === 'jsonl') {
    for (const { row, text } of upload.records(new LineSplitter())) {
      const json = recordJson(text);
      yield json ? recordOf(row, json.value, format) : { row, error: 'is not valid JSON' };
    }
  } else {
    let header: string[] | null = null;
    let names: string[] = [];
    let kind: ReturnType<typeof csvKindOf> = 'csv';
    for (const { line, fields } of upload.records(new CsvReader({ maxFields: MAX_FIELDS }))) {
      if (!header) {
        header = fields;
        names = fields.map((h) => h.trim().toLowerCase());
        kind = csvKindOf(fields);
        if (format !== 'csv' && kind !== format) {
          throw new ValidationError(
            [{ path: '/querystring/format', message: `the CSV header is not one of ${format}` }],
            `The upload's header is not that of format ${format}.`,
          );
        }
        read.format = kind;
      } else if (kind === 'csv') yield csvRecordBody(names, line, fields);
      else yield legacyCsvRecord({ kind, header, line, fields });
    }
  }
}

function legacyCsvRecord(options: {
  kind: 'legacy-csv' | 'legacy-table-csv';
  header: string[];
  line: number;
  fields: string[];
}): ParsedRecord {
  const { header, line, fields } = options;
  if (fields.length > header.length)
    return { row: line, error: `has ${fields.length} fields, the header ${header.length}` };
  try {
    return {
      row: line,
      body: legacyCsvBody(options),
      names: options.kind === 'legacy-csv' ? LEGACY_UPLOAD_FIELD_NAMES : LEGACY_TABLE_FIELD_NAMES,
    };
  } catch (err) {
    if (err instanceof LegacyFieldError) return { row: line, error: err.message };
    throw err;
  }
}

/** A JSON record → a body; a chosen earlier format reads every record in that shape. */
function recordOf(row: number, value: unknown, format: ImportFormat): ParsedRecord {
  try {
    if (format === 'legacy-json' || format === 'legacy-table-json') {
      if (!isObj(value)) throw new Error('is not an object');
      return format === 'legacy-json'
        ? { row, ...legacyUploadRecord(value) }
        : { row, body: legacyAccountRowBody(value), names: LEGACY_TABLE_FIELD_NAMES };
    }
    return { row, ...toAccountRecord(value) };
  } catch (err) {
    if (err instanceof AppError) throw err;
    return { row, error: (err as Error).message };
  }
}
