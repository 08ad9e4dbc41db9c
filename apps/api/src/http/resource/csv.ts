import { CsvReader, type CsvRecord } from '../csv-reader.js';

export type { CsvRecord };

/** One CSV cell: quoted when needed; a leading = + - @ is defused against formula injection. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (Array.isArray(value)) text = value.join(';');
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n;]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
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
