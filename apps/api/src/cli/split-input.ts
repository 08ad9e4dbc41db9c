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
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  skipSpace();
  if (text[i] !== '[') {
    const single = text.slice(i).trim();
    return single ? [{ text: single, row: 1 }] : [];
  }
  i++;
  const out: InputRecord[] = [];
  let depth = 0;
  let inString = false;
  skipSpace();
  let start = i;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    else if ((c === ',' || c === ']') && depth === 0) {
      const element = text.slice(start, i).trim();
      if (element) out.push({ text: element, row: out.length + 1 });
      else if (c === ',')
        throw new Error(`the JSON array has an empty element at item ${out.length + 1}`);
      if (c === ']') {
        if (text.slice(i + 1).trim()) throw new Error('the file has text after the JSON array');
        return out;
      }
      start = i + 1;
    }
  }
  throw new Error('the JSON array is not closed (the file is cut short?)');
}

/** Records in batches of `size`, after skipping the first `skip`. */
export function* batchesOf<T>(records: T[], size: number, skip = 0): Generator<T[]> {
  for (let at = skip; at < records.length; at += size) yield records.slice(at, at + size);
}
