import { CsvReader, type CsvRecord } from '../../http/csv-reader.js';
import { InvalidJsonError, ValidationError } from '../../http/errors.js';
import type { FieldNames } from '../../http/field-names.js';
import { JsonSplitter } from '../../http/json-splitter.js';
import { LIMITS, limitErrors } from '../../http/limits.js';
import { parseJson } from '../../http/safe-json.js';
import type { Upload, UploadScanner } from '../../http/upload.js';
import {
  LEGACY_CARD_COLUMNS,
  LegacyCardRowError,
  type LegacyCardStatus,
  legacyCardRowBody,
} from './legacy-card.js';

/**
 * Card uploads, read in two passes like the account imports: a scanner counts the records
 * (and checks each JSON element's nesting) while the upload arrives, refusing it before
 * anything is written; the import then reads the records one at a time from its bytes.
 *
 * Formats, told from the content:
 * - `lines`: text, one card a line (`code1[,code2]`, CSV quoting; # comments);
 * - `table-csv`: a dump of the earlier AccountDB's cards table (psql `\copy … CSV HEADER`),
 *   recognised by its header: every column one of the table's, code1 among them;
 * - `codes-json`: the earlier card body, a JSON array of lists of 1 or 2 codes;
 * - `table-json`: a JSON array of the earlier table's rows (objects).
 */
export type CardFormat = 'lines' | 'table-csv' | 'codes-json' | 'table-json';

/** One card read from an upload: its body, or why it cannot be one. */
export interface CardItem {
  /** Line (text) or 1-based element (JSON) of the upload. */
  row: number;
  body?: CardBody;
  /** An earlier table row: when its code is yours already, its flags update that card. */
  table?: boolean;
  /** The upload's names of the body's fields where they are not AccountDB's (for errors). */
  names?: FieldNames;
  error?: string;
}

export interface CardBody {
  code1: string;
  code2?: string;
  status?: LegacyCardStatus;
  failure_reason?: string | null;
  tags?: string[];
}

const { records: MAX_RECORDS, recordJson: RECORD_JSON, csvFields: MAX_FIELDS } = LIMITS.import;
const COLUMNS = new Set<string>(LEGACY_CARD_COLUMNS);
const MAX_CODE = 500;
/** The earlier table's column of a body field named otherwise, and the list's names. */
export const LEGACY_CARD_FIELD_NAMES: FieldNames = { failure_reason: 'failed' };
const LIST_NAMES: FieldNames = { code1: 'code 1', code2: 'code 2' };

/** A name from the upload as an error message quotes it: at most 64 characters. */
const named = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}…` : name);

const isComment = (r: CsvRecord) => (r.fields[0] ?? '').trim().startsWith('#');

/** The header of a table dump: every field a column of the earlier cards table, code1 too. */
export function isCardTableHeader(fields: readonly string[]): boolean {
  const names = fields.map((f) => f.trim().toLowerCase());
  return names.includes('code1') && names.every((n) => COLUMNS.has(n));
}

/**
 * Pass 1 of a text upload (text/plain, text/csv): counts its cards as they arrive (400
 * too_many_records); a table dump's header is not a card, and a dump has no comment lines.
 */
export function cardTextScanner(): UploadScanner {
  const reader = new CsvReader({ maxFields: MAX_FIELDS });
  let first = true;
  let table = false;
  let lines = 0;
  const count = (records: CsvRecord[]) => {
    for (const record of records) {
      if (first) {
        first = false;
        if (isCardTableHeader(record.fields)) {
          table = true;
          continue;
        }
      }
      if (table || !isComment(record)) lines++;
    }
    if (lines > MAX_RECORDS) throw limitErrors.tooManyRecords(MAX_RECORDS);
  };
  return {
    push: (piece) => count(reader.push(piece)),
    end: () => {
      count(reader.end());
      return { format: table ? 'table-csv' : 'lines' };
    },
  };
}

/**
 * Pass 1 of an application/json upload: an array is read element by element (counted, each
 * element's nesting checked); any other value is one document (a JSON string holding the
 * lines, as before the earlier formats were read), checked against the JSON body limits.
 */
export function cardJsonScanner(): UploadScanner {
  let splitter: JsonSplitter | null = null;
  let waiting = '';
  let array = false;
  const what = 'The upload';
  return {
    push(piece) {
      if (splitter) return void splitter.push(piece);
      waiting += piece;
      const first = waiting.replace(/^[\s\uFEFF]+/, '')[0];
      if (first === undefined) return;
      array = first === '[';
      splitter = array
        ? new JsonSplitter({
            mode: 'records',
            limits: RECORD_JSON,
            keep: false,
            maxRecords: MAX_RECORDS,
            what,
          })
        : new JsonSplitter({ mode: 'document', limits: LIMITS.json, keep: false, what });
      splitter.push(waiting);
      waiting = '';
    },
    end() {
      if (!splitter) throw new InvalidJsonError('The request body is empty, not JSON.');
      splitter.end();
      return { format: array ? 'json-array' : 'json-text' };
    },
  };
}

/** The text a JSON (non-array) card upload holds: it must be a string. */
export function cardJsonText(upload: Upload): string {
  let text = '';
  for (const piece of upload.pieces()) text += piece;
  let value: unknown;
  try {
    value = parseJson(text, { what: 'The request body' });
  } catch (err) {
    if (err instanceof SyntaxError) throw new InvalidJsonError();
    throw err;
  }
  if (typeof value !== 'string') {
    throw new ValidationError([
      {
        path: '/body',
        message:
          'must be a string (one card a line), a JSON array of code lists ([["CODE1","CODE2"],["CODE1"]]) ' +
          'or a JSON array of rows of the earlier cards table',
      },
    ]);
  }
  return value;
}

/** Pass 2 of a text upload: its cards, one at a time. */
export function* cardTextItems(upload: Upload): Generator<CardItem> {
  let table: string[] | null = null;
  let first = true;
  for (const record of upload.records(new CsvReader({ maxFields: MAX_FIELDS }))) {
    if (first) {
      first = false;
      if (isCardTableHeader(record.fields)) {
        table = record.fields.map((f) => f.trim().toLowerCase());
        continue;
      }
    }
    if (table) yield tableItem(record.line, rowOf(table, record.fields));
    else if (!isComment(record)) {
      const item = lineItem(record);
      if (item) yield item;
    }
  }
}

function rowOf(names: string[], fields: string[]): Record<string, unknown> | string {
  if (fields.length !== names.length) {
    return `has ${fields.length} fields; the header has ${names.length}`;
  }
  const row: Record<string, unknown> = {};
  names.forEach((name, i) => {
    row[name] = fields[i];
  });
  return row;
}

function lineItem({ line, fields }: CsvRecord): CardItem | null {
  const [code1 = '', code2 = ''] = fields.map((f) => f.trim());
  if (!code1) return null;
  if (fields.length > 2) {
    return { row: line, error: `has ${fields.length} fields; expected code1[,code2]` };
  }
  return codesItem({ row: line, code1, code2, names: ['code1', 'code2'] });
}

/**
 * Two codes as a card. `names` are the upload's names of the two: `code1`/`code2` in a line,
 * `code 1`/`code 2` in a list of the earlier card body.
 */
function codesItem(options: {
  row: number;
  code1: string;
  code2: string;
  names: readonly [string, string];
}): CardItem {
  const { row, code1, code2, names } = options;
  const long = [code1, code2].findIndex((code) => code.length > MAX_CODE);
  if (long >= 0) return { row, error: `${names[long]} is longer than ${MAX_CODE} characters` };
  return { row, body: { code1, ...(code2 ? { code2 } : {}) } };
}

function tableItem(row: number, value: Record<string, unknown> | string): CardItem {
  if (typeof value === 'string') return { row, error: value };
  const unknown = Object.keys(value).find((k) => !COLUMNS.has(k));
  if (unknown !== undefined) {
    return { row, error: `${named(unknown)} is not a column of the earlier cards table` };
  }
  try {
    return { row, table: true, body: legacyCardRowBody(value), names: LEGACY_CARD_FIELD_NAMES };
  } catch (err) {
    if (err instanceof LegacyCardRowError) return { row, error: err.message };
    throw err;
  }
}

/** An element of the earlier card body: a list of 1 or 2 code strings. */
function codesElement(row: number, value: unknown[]): CardItem {
  if (value.length < 1 || value.length > 2) {
    return { row, error: `has ${value.length} codes; expected 1 or 2 (["CODE1","CODE2"])` };
  }
  const bad = value.findIndex((v) => typeof v !== 'string');
  if (bad >= 0) return { row, error: `code ${bad + 1} is not a string` };
  const [code1, code2 = ''] = (value as string[]).map((c) => c.trim());
  if (!code1) return { row, error: 'code 1 is empty' };
  return { ...codesItem({ row, code1, code2, names: ['code 1', 'code 2'] }), names: LIST_NAMES };
}

/**
 * Pass 2 of a JSON array upload: each element a list of codes (the earlier card body) or a
 * row of the earlier table (an object). An element that is not JSON spoils the upload (400
 * invalid_json, nothing written), as with the account import. The format is the first
 * element's kind.
 */
export function* cardJsonItems(
  upload: Upload,
  onFormat: (format: CardFormat) => void,
): Generator<CardItem> {
  const splitter = new JsonSplitter({ mode: 'records', limits: RECORD_JSON, keep: true });
  for (const { row, text } of upload.records(splitter)) {
    let value: unknown;
    try {
      value = parseJson(text, { limits: RECORD_JSON });
    } catch (err) {
      if (err instanceof SyntaxError) {
        throw new InvalidJsonError(`The upload is not valid JSON (item ${row}).`, row);
      }
      throw err;
    }
    if (row === 1) onFormat(Array.isArray(value) ? 'codes-json' : 'table-json');
    if (Array.isArray(value)) yield codesElement(row, value);
    else if (value !== null && typeof value === 'object') {
      yield tableItem(row, value as Record<string, unknown>);
    } else {
      yield {
        row,
        error: 'is not a list of codes (["CODE1","CODE2"]) or a row of the earlier cards table',
      };
    }
  }
}
