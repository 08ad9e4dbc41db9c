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

/** One CSV cell: defused (csvText), then quoted when needed (RFC 4180). */
export function csvCell(value: unknown): string {
  const text = csvText(value);
  return /[",\r\n;]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvRecord {
  line: number;
  fields: string[];
  start: number;
  end: number;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/**
 * RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes, CRLF or LF,
 * a leading byte-order mark ignored. Returns the records with their 1-based line numbers and
 * where each starts and ends in the text (`text.slice(start, end)` is the record as written,
 * with its line break), blank lines left out.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let start = i;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === ''))
      records.push({ line: recordLine, fields, start, end: Math.min(i + 1, text.length) });
    fields = [];
    field = '';
    start = i + 1;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += c;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
