import { limitErrors } from './limits.js';

/** Characters that end a run of plain ones, outside and inside quotes. */
const SPECIAL = /[,\r\n"]/g;
const QUOTED_SPECIAL = /["\n]/g;

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
  /** Where the record starts and ends in the text (the end includes its line break). */
  start: number;
  end: number;
}

/**
 * RFC 4180 CSV read piece by piece: quoted fields with "" escapes and line breaks inside
 * quotes, CRLF, LF or CR line ends, a leading byte-order mark ignored, blank lines left out.
 * A quote or a CR at the end of one piece is settled by the first character of the next.
 * maxFields refuses (400 too_many_fields) a record with more fields than that.
 */
export class CsvReader {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  /** A quote inside a quoted field: an escaped quote or the field's end, by the next char. */
  private quotePending = false;
  /** A record ended at a CR (absolute offset); a LF right after belongs to it. */
  private crAt = -1;
  private line = 1;
  private recordLine = 1;
  /** Absolute offset of the current piece, and of the current record's start. */
  private offset = 0;
  private start = 0;
  private first = true;

  constructor(private readonly options: { maxFields?: number } = {}) {}

  push(piece: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    if (this.first && piece.length > 0) {
      this.first = false;
      if (piece.charCodeAt(0) === 0xfeff) {
        i = 1;
        this.start = this.offset + 1;
      }
    }
    for (; i < piece.length; i++) {
      const c = piece[i] as string;
      const at = this.offset + i;
      if (this.crAt >= 0) {
        const crAt = this.crAt;
        this.crAt = -1;
        if (c === '\n') {
          this.endRecord(at + 1, out);
          continue;
        }
        this.endRecord(crAt + 1, out);
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (c === '"') {
          this.field += '"';
          continue;
        }
        this.quoted = false;
      }
      if (this.quoted) {
        if (c === '"') this.quotePending = true;
        else if (c === '\n') {
          this.line++;
          this.field += c;
        } else i = this.takeRun(piece, i, QUOTED_SPECIAL);
      } else if (c === '"' && this.field === '') this.quoted = true;
      else if (c === ',') {
        this.fields.push(this.field);
        this.field = '';
        const max = this.options.maxFields;
        if (max !== undefined && this.fields.length >= max)
          throw limitErrors.tooManyFields(max, this.recordLine);
      } else if (c === '\r') this.crAt = at;
      else if (c === '\n') this.endRecord(at + 1, out);
      else i = this.takeRun(piece, i, SPECIAL);
    }
    this.offset += piece.length;
    return out;
  }

  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.crAt >= 0) {
      this.endRecord(this.crAt + 1, out);
      this.crAt = -1;
    }
    this.quotePending = false;
    this.quoted = false;
    if (this.field !== '' || this.fields.length > 0) this.endRecord(this.offset, out, false);
    return out;
  }

  /** Appends the characters from i up to the next special one; answers the last index taken. */
  private takeRun(piece: string, i: number, special: RegExp): number {
    special.lastIndex = i + 1;
    const next = special.exec(piece)?.index ?? piece.length;
    this.field += piece.slice(i, next);
    return next - 1;
  }

  private endRecord(end: number, out: CsvRecord[], lineEnds = true): void {
    this.fields.push(this.field);
    if (!(this.fields.length === 1 && this.fields[0] === '')) {
      out.push({ line: this.recordLine, fields: this.fields, start: this.start, end });
    }
    this.fields = [];
    this.field = '';
    this.start = end;
    if (lineEnds) {
      this.line++;
      this.recordLine = this.line;
    }
  }
}
