import { csvLine, exactCsvLine } from './csv.js';
import type { CsvStyle } from './spec.js';

/** One column of a CSV export, from the row's shape. */
export interface ExportColumn {
  header: string;
  value: (row: unknown) => unknown;
}

/** The HTTP trailer that says how an export ended: `ok`, or `failed` (see exportBody). */
export const EXPORT_STATUS_TRAILER = 'x-export-status';

/** The key of the JSON object that ends an export that failed after it started. */
export const EXPORT_ERROR_KEY = 'accountdb_export_error';

/** The first words of the CSV line that ends an export that failed after it started. */
export const EXPORT_FAILED_CSV = 'EXPORT FAILED';

/** What the body says of a failure: nothing internal, only what to quote when reporting it. */
export interface ExportFailure {
  code: 'export_failed';
  detail: string;
  rows: number;
  request_id: string;
}

/**
 * The body of an export: a JSON array or CSV (UTF-8 with a byte-order mark, a header row).
 * When reading a page fails after the answer has started (a 200 and part of the file are
 * already sent), the file ends with an error instead of its normal end, so that it can never
 * pass for a complete one:
 * - JSON: a last line `{"accountdb_export_error": {code, detail, rows, request_id}}` after the
 *   last element, with no comma before it and no closing `]`: the document is not valid JSON;
 * - CSV: a last record whose first cell reads `EXPORT FAILED: …` and which has one field more
 *   than the header, so strict CSV readers stop on it and people see it.
 * `fail` logs the error and answers what the body says of it.
 */
export async function* exportBody(options: {
  format: 'csv' | 'json';
  /**
   * How CSV cells are written: defused for spreadsheets (default); `literal`, exactly as they
   * are for another program's importer (csvLine's literal); `dump`, as a database dump writes
   * them (exactCsvLine: NULL empty, '' as "", LF line ends, no byte-order mark).
   */
  csv?: CsvStyle | undefined;
  columns: ExportColumn[];
  pages: AsyncIterable<unknown[]>;
  fail: (error: unknown, rows: number) => ExportFailure;
}): AsyncGenerator<string> {
  const { format, columns } = options;
  const dump = options.csv === 'dump';
  const line = dump
    ? exactCsvLine
    : (values: unknown[]) => csvLine(values, { literal: options.csv === 'literal' });
  let rows = 0;
  yield format === 'csv' ? `${dump ? '' : '\uFEFF'}${line(columns.map((c) => c.header))}` : '[';
  try {
    for await (const page of options.pages) {
      yield format === 'csv'
        ? page.map((row) => line(columns.map((c) => c.value(row)))).join('')
        : page.map((row, i) => `${rows + i === 0 ? '' : ','}\n${JSON.stringify(row)}`).join('');
      rows += page.length;
    }
  } catch (error) {
    const failure = options.fail(error, rows);
    yield format === 'csv'
      ? line([`${EXPORT_FAILED_CSV}: ${failure.detail}`, ...columns.map(() => '')])
      : `\n${JSON.stringify({ [EXPORT_ERROR_KEY]: failure })}\n`;
    return;
  }
  if (format === 'json') yield rows === 0 ? ']\n' : '\n]\n';
}

/** The pages of an export with the first one, read before the answer started, in front. */
export async function* withFirstPage(
  first: IteratorResult<unknown[]>,
  rest: AsyncIterator<unknown[]>,
): AsyncGenerator<unknown[]> {
  if (first.done) return;
  yield first.value;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
