import { limitErrors } from './limits.js';

/** One non-blank line of a text, without its line break. */
export interface TextLine {
  /** 1-based line number (blank lines counted). */
  row: number;
  text: string;
}

/**
 * Splits text read piece by piece into its non-blank lines (LF or CRLF), for JSON lines
 * uploads. maxRecords refuses (400 too_many_records) the non-blank line after that many.
 */
export class LineSplitter {
  private partial = '';
  private lineNo = 0;
  /** Non-blank lines so far. */
  rows = 0;

  constructor(private readonly options: { maxRecords?: number; what?: string } = {}) {}

  push(piece: string): TextLine[] {
    const out: TextLine[] = [];
    let from = 0;
    for (let nl = piece.indexOf('\n'); nl >= 0; nl = piece.indexOf('\n', from)) {
      this.take(this.partial + piece.slice(from, nl), out);
      this.partial = '';
      from = nl + 1;
    }
    this.partial += piece.slice(from);
    return out;
  }

  end(): TextLine[] {
    const out: TextLine[] = [];
    if (this.partial !== '') this.take(this.partial, out);
    this.partial = '';
    return out;
  }

  private take(line: string, out: TextLine[]): void {
    this.lineNo++;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!text.trim()) return;
    this.rows++;
    const max = this.options.maxRecords;
    if (max !== undefined && this.rows > max)
      throw limitErrors.tooManyRecords(max, this.options.what);
    out.push({ row: this.lineNo, text });
  }
}
