import { JsonSplitter } from '../http/json-splitter.js';
import { LIMITS } from '../http/limits.js';
import { parseCsv } from '../http/resource/csv.js';

export type InputFormat = 'json' | 'jsonl' | 'csv' | 'text';

/** One piece of an input file as written, with the row number it starts at in the file. */
export interface InputRecord {
  text: string;
  /** 1-based: the element of a JSON array, else the line. */
  row: number;
}

export interface SplitInput {
  /** The CSV header line (CSV only), sent again with every batch. */
  header: string;
  records: InputRecord[];
}

export function detectInputFormat(fileName: string, text: string): InputFormat {
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'json' || ext === 'mafile') return 'json';
  if (ext === 'csv') return 'csv';
  if (ext === 'txt') return 'text';
  const start = text.trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) {
    const firstLine = start.split('\n', 1)[0] ?? '';
    try {
      JSON.parse(firstLine);
      return start.includes('\n{') ? 'jsonl' : 'json';
    } catch {
      return 'json';
    }
  }
  return 'csv';
}

/**
 * Splits an input file into its records without parsing their values (so that, say, a
 * 64-bit Steam id in a .maFile reaches the API digit for digit): the elements of a JSON
 * array (or the one object), the non-blank lines of JSON lines, the records of CSV (quoted
 * line breaks kept) or of a one-card-a-line text file.
 */
export function splitInput(format: InputFormat, text: string): SplitInput {
  if (format === 'json') return { header: '', records: jsonElements(text) };
  if (format === 'jsonl') {
    const records: InputRecord[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim()) records.push({ text: line.replace(/\r$/, ''), row: i + 1 });
    }
    return { header: '', records };
  }
  const rows = parseCsv(text);
  const withLineEnd = (s: string) => (/\n$/.test(s) ? s : `${s}\n`);
  const records = rows.map((r) => ({ text: withLineEnd(text.slice(r.start, r.end)), row: r.line }));
  if (format === 'text') return { header: '', records };
  const [header, ...rest] = records;
  return { header: header?.text ?? '', records: rest };
}

/** The top-level elements of a JSON array (or a single JSON value), as written. */
export function jsonElements(text: string): InputRecord[] {
  const splitter = new JsonSplitter({
    mode: 'records',
    limits: LIMITS.import.recordJson,
    keep: true,
    what: 'The file',
  });
  return [...splitter.push(text), ...splitter.end()];
}

/**
 * Records in batches of at most `size` records and `maxBytes` of record text (a record larger
 * than that goes alone), after skipping the first `skip`.
 */
export function* batchesOf(
  records: InputRecord[],
  options: { size: number; maxBytes: number; skip?: number },
): Generator<InputRecord[]> {
  let batch: InputRecord[] = [];
  let bytes = 0;
  for (let at = options.skip ?? 0; at < records.length; at++) {
    const record = records[at] as InputRecord;
    // The separator the upload puts between records (a comma and a line break) included.
    const size = Buffer.byteLength(record.text) + 2;
    if (batch.length > 0 && (batch.length >= options.size || bytes + size > options.maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
