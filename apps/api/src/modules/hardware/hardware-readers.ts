import { CsvReader } from '../../http/csv-reader.js';
import { AppError, InvalidJsonError } from '../../http/errors.js';
import type { FieldNames } from '../../http/field-names.js';
import { JsonSplitter } from '../../http/json-splitter.js';
import { LIMITS } from '../../http/limits.js';
import { LineSplitter } from '../../http/line-splitter.js';
import { parseJson } from '../../http/safe-json.js';
import type { Upload } from '../../http/upload.js';
import type { ImportFormat } from '../accounts/import-formats.js';
import {
  LEGACY_HARDWARE_FIELD_NAMES,
  LEGACY_ONLY_KEYS,
  LegacyHardwareRowError,
  legacyHardwareRowBody,
} from './legacy-hardware.js';

/**
 * Pass 2 of a hardware upload (pass 1 is the account import's scanner: the same formats and
 * limits): its records one at a time, each as a create body plus the earlier links it names,
 * or the reason it is not one. A record with id, acc_id, vmid or owner_id is a row of the
 * earlier AccountDB's hardware table (legacyHardwareRowBody); any other uses AccountDB's own
 * field names (as POST /hardware).
 */

export interface HardwareItem {
  row: number;
  body?: Record<string, unknown>;
  links?: { acc_id?: string; vmid?: number };
  /** An earlier row's names of the body's fields (for errors). */
  names?: FieldNames;
  error?: string;
}

const { recordJson: RECORD_JSON, csvFields: MAX_FIELDS } = LIMITS.import;

function itemOf(row: number, value: unknown, fromCsv: boolean): HardwareItem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { row, error: 'is not an object of hardware fields' };
  }
  const record = value as Record<string, unknown>;
  if (LEGACY_ONLY_KEYS.some((k) => k in record)) {
    try {
      const { body, links } = legacyHardwareRowBody(record);
      return { row, body, links, names: LEGACY_HARDWARE_FIELD_NAMES };
    } catch (err) {
      if (err instanceof LegacyHardwareRowError) return { row, error: err.message };
      throw err;
    }
  }
  if (!fromCsv) return { row, body: record };
  // AccountDB's own fields as CSV: an empty field is no value, tags are `a;b`.
  const body: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(record)) {
    if (text === '') continue;
    body[key] =
      key === 'tags'
        ? String(text)
            .split(';')
            .map((t) => t.trim())
            .filter(Boolean)
        : text;
  }
  return { row, body };
}

function jsonValue(text: string): { value: unknown } | null {
  try {
    return { value: parseJson(text, { bigIntegers: true, limits: RECORD_JSON }) };
  } catch (err) {
    if (err instanceof AppError && !(err instanceof InvalidJsonError)) throw err;
    return null;
  }
}

export function* hardwareItems(format: ImportFormat, upload: Upload): Generator<HardwareItem> {
  if (format === 'json') {
    // Each element was found whole in pass 1: one that is not JSON spoils the upload.
    const splitter = new JsonSplitter({ mode: 'records', limits: RECORD_JSON, keep: true });
    for (const { row, text } of upload.records(splitter)) {
      const json = jsonValue(text);
      if (!json) throw new InvalidJsonError('The upload is not valid JSON.', row);
      yield itemOf(row, json.value, false);
    }
  } else if (format === 'jsonl') {
    for (const { row, text } of upload.records(new LineSplitter())) {
      const json = jsonValue(text);
      yield json ? itemOf(row, json.value, false) : { row, error: 'is not valid JSON' };
    }
  } else {
    let names: string[] | null = null;
    for (const { line, fields } of upload.records(new CsvReader({ maxFields: MAX_FIELDS }))) {
      if (!names) {
        names = fields.map((h) => h.trim().toLowerCase());
        continue;
      }
      if (fields.length !== names.length) {
        yield { row: line, error: `has ${fields.length} fields; the header has ${names.length}` };
        continue;
      }
      const record: Record<string, string> = {};
      names.forEach((name, i) => {
        record[name] = fields[i] ?? '';
      });
      yield itemOf(line, record, true);
    }
  }
}
