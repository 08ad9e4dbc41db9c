import { CsvReader } from '../../http/csv-reader.js';
import { AppError, InvalidJsonError } from '../../http/errors.js';
import { checkJson, JsonSplitter } from '../../http/json-splitter.js';
import { LIMITS, limitErrors } from '../../http/limits.js';
import { LineSplitter } from '../../http/line-splitter.js';
import { parseJson } from '../../http/safe-json.js';
import type { Upload, UploadScanner } from '../../http/upload.js';
import {
  csvRecordBody,
  type ImportFormat,
  type ParsedRecord,
  toAccountBody,
} from './import-formats.js';

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
  if (query === 'json' || query === 'jsonl' || query === 'csv') return query;
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
  const scan = format ? { ...scannerFor(format), format: () => format } : detectingScan();
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

function scannerFor(format: ImportFormat): Scan {
  return format === 'json' ? jsonScan() : format === 'jsonl' ? jsonLinesScan() : csvScan();
}

/** The format told from the first character: [ JSON, { JSON or JSON lines, else CSV. */
function detectingScan(): Scan & { format(): ImportFormat } {
  let scan: (Scan & { format?: () => ImportFormat }) | null = null;
  let told: ImportFormat = 'csv';
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

/** Pass 2: the upload's records, one at a time, each as a body or the reason it is not. */
export function* accountRecords(format: ImportFormat, upload: Upload): Generator<ParsedRecord> {
  if (format === 'json') {
    // Each element was found whole in pass 1: one that is not JSON spoils the upload.
    const splitter = new JsonSplitter({ mode: 'records', limits: RECORD_JSON, keep: true });
    for (const { row, text } of upload.records(splitter)) {
      const json = recordJson(text);
      if (!json) throw new InvalidJsonError('The upload is not valid JSON.', row);
      yield recordOf(row, json.value);
    }
  } else if (format === 'jsonl') {
    for (const { row, text } of upload.records(new LineSplitter())) {
      const json = recordJson(text);
      yield json ? recordOf(row, json.value) : { row, error: 'is not valid JSON' };
    }
  } else {
    let names: string[] | null = null;
    for (const { line, fields } of upload.records(new CsvReader({ maxFields: MAX_FIELDS }))) {
      if (!names) names = fields.map((h) => h.trim().toLowerCase());
      else yield csvRecordBody(names, line, fields);
    }
  }
}

function recordOf(row: number, value: unknown): ParsedRecord {
  try {
    return { row, body: toAccountBody(value) };
  } catch (err) {
    return { row, error: (err as Error).message };
  }
}
