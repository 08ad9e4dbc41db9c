import { CsvReader, type CsvRecord } from '../csv-reader.js';

export type { CsvRecord };

/**
 * OWASP's rule against formula injection: a cell starting with =, +, -, @, a tab or a carriage
 * return is read by spreadsheets as a formula; a leading ' makes it text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

const defused = (text: string): string => (FORMULA_START.test(text) ? `'${text}` : text);

/** One element of a list cell: text is defused, an object is its JSON, a number stays. */
function elementText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return defused(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * The text of one CSV cell, defused against formula injection: a string; a list with each
 * element defused before they are joined with `;` (so splitting the cell cannot bring a
 * formula back) and the joined text as a whole; an object as JSON, which starts with `{` and
 * so is never a formula (its values stay as they are, so the JSON is the data). Numbers and
 * booleans are written as they are: a number is not a formula.
 */
function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return defused(value.map(elementText).join(';'));
  if (typeof value === 'object') return defused(JSON.stringify(value));
  return typeof value === 'string' ? defused(value) : String(value);
}

/** A cell's text quoted when needed (RFC 4180). */
const quoted = (text: string): string =>
  /[",\r\n;]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;

/** One CSV cell: defused (csvText), then quoted when needed (RFC 4180). */
export function csvCell(value: unknown): string {
  return quoted(csvText(value));
}

/**
 * A CSV record. `literal` writes every cell's text exactly as it is (quoted when needed, never
 * defused): for files meant for another program's importer, where a `'` put in front of a
 * value would change the value (a password starting with `=`); values must be text already.
 */
export function csvLine(values: unknown[], options: { literal?: boolean } = {}): string {
  const cells = options.literal
    ? values.map((v) => quoted(v === null || v === undefined ? '' : String(v)))
    : values.map(csvCell);
  return `${cells.join(',')}\r\n`;
}

/**
 * One CSV cell as a database dump writes it (psql's CSV format): the value exactly, NULL an
 * empty field, an empty string "" (so the two stay apart), quoted when it holds a comma, a
 * quote or a line break. No formula defusal: such a file is data to load, not a spreadsheet.
 */
export function exactCsvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return text === '' || /[",\r\n]/.test(text) || text === '\\.'
    ? `"${text.replace(/"/g, '""')}"`
    : text;
}

export function exactCsvLine(values: unknown[]): string {
  return `${values.map(exactCsvCell).join(',')}\n`;
}

/**
 * A whole CSV text read at once (see CsvReader): the records with their 1-based line numbers
 * and where each starts and ends in the text (`text.slice(start, end)` is the record as
 * written, with its line break), blank lines left out.
 */
export function parseCsv(text: string): CsvRecord[] {
  const reader = new CsvReader();
  return [...reader.push(text), ...reader.end()];
}
