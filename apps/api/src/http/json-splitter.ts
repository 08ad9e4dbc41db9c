import { InvalidJsonError } from './errors.js';
import { type JsonLimits, limitErrors } from './limits.js';

/** One record of a JSON upload as written: an element of the top-level array, or the value. */
export interface JsonRecord {
  /** 1-based position in the upload. */
  row: number;
  /** The record's text (empty when the splitter does not keep texts). */
  text: string;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const BOM = 0xfeff;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Reads JSON text piece by piece without parsing it: finds where each record starts and ends
 * and refuses, before any parser sees it, nesting deeper than `limits.depth` and more than
 * `limits.containers` objects and arrays per record (what makes a JSON parser or encoder
 * overflow its stack, or allocate hundreds of megabytes for a few of text). Strings and
 * escapes are followed across pieces; the records' own syntax is left to JSON.parse.
 *
 * - mode 'records': a top-level array's elements are the records (row 1, 2, …); any other
 *   top-level value is one record. Text after the array or value is an error.
 * - mode 'document': the whole text is one document (a request body); only the limits and
 *   the brackets are checked.
 */
export class JsonSplitter {
  private state: 'start' | 'array' | 'value' | 'done' = 'start';
  /** The text is a top-level array (records mode). */
  private isArray = false;
  /** Closing brackets expected, innermost last; a top-level array's own is the first. */
  private readonly stack: number[] = [];
  private inString = false;
  private escaped = false;
  private inRecord = false;
  /** Between two elements of the top-level array: a comma was read, an element must follow. */
  private afterComma = false;
  private containers = 0;
  private text = '';
  /** Records started so far. */
  rows = 0;

  constructor(
    private readonly options: {
      mode: 'records' | 'document';
      limits: JsonLimits;
      /** Keep each record's text (false: count and check only). */
      keep: boolean;
      /** Refuse the record after this many. */
      maxRecords?: number;
      /** What the texts are, for messages: "The upload". */
      what?: string;
    },
  ) {}

  /** Feeds the next piece of text; answers the records it completed. */
  push(piece: string): JsonRecord[] {
    const out: JsonRecord[] = [];
    const { limits } = this.options;
    let start = this.inRecord ? 0 : -1;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (!this.inRecord) {
        if (isSpace(c) || (c === BOM && this.state === 'start')) continue;
        if (this.state === 'done') {
          throw this.syntax(`there is text after the JSON ${this.isArray ? 'array' : 'value'}`);
        }
        if (this.state === 'start') {
          if (c === OPEN_ARRAY && this.options.mode === 'records') {
            this.state = 'array';
            this.isArray = true;
            this.stack.push(CLOSE_ARRAY);
            continue;
          }
          this.state = 'value';
        } else if (c === COMMA || c === CLOSE_ARRAY) {
          // Between elements of the top-level array.
          if (this.afterComma || (c === COMMA && this.rows === 0)) {
            throw this.syntax(`the JSON array has an empty element at item ${this.rows + 1}`);
          }
          if (c === CLOSE_ARRAY) {
            this.stack.pop();
            this.state = 'done';
          } else this.afterComma = true;
          continue;
        }
        this.beginRecord();
        start = i;
      }
      // Inside a record.
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.stack.push(c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
        if (this.stack.length > limits.depth) throw limitErrors.tooDeep(limits.depth, this.where());
        if (++this.containers > limits.containers)
          throw limitErrors.tooComplex(limits.containers, this.where());
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        const arrayEnds = this.state === 'array' && this.stack.length === 1;
        if (this.stack.at(-1) !== c)
          throw this.syntax(`a bracket does not match in ${this.item()}`);
        if (arrayEnds) {
          out.push(this.endRecord(piece, start, i));
          this.stack.pop();
          this.state = 'done';
          continue;
        }
        this.stack.pop();
        if (this.state === 'value' && this.stack.length === 0) {
          out.push(this.endRecord(piece, start, i + 1));
          this.state = 'done';
        }
      } else if (c === COMMA && this.state === 'array' && this.stack.length === 1) {
        out.push(this.endRecord(piece, start, i));
        this.afterComma = true;
      }
    }
    if (this.inRecord && this.options.keep) this.text += piece.slice(Math.max(start, 0));
    return out;
  }

  /** The end of the text: answers the last record (a top-level number, string…) if any. */
  end(): JsonRecord[] {
    if (this.inString || this.stack.length > 0) {
      throw this.syntax(`the JSON ${this.isArray ? 'array' : 'value'} is not closed (cut short?)`);
    }
    if (!this.inRecord) return [];
    const record = { row: this.rows, text: this.options.keep ? this.text.trim() : '' };
    this.inRecord = false;
    this.text = '';
    this.state = 'done';
    return [record];
  }

  private beginRecord(): void {
    this.rows++;
    const max = this.options.maxRecords;
    if (max !== undefined && this.rows > max)
      throw limitErrors.tooManyRecords(max, this.options.what);
    this.inRecord = true;
    this.afterComma = false;
    this.containers = 0;
    this.text = '';
  }

  private endRecord(piece: string, start: number, end: number): JsonRecord {
    const text = this.options.keep ? (this.text + piece.slice(Math.max(start, 0), end)).trim() : '';
    this.inRecord = false;
    this.text = '';
    return { row: this.rows, text };
  }

  private item(): string {
    return this.state === 'array' ? `item ${this.rows}` : 'the JSON value';
  }

  private where(): string {
    const what = this.options.what ?? 'The JSON';
    return this.state === 'array' ? `${what} (item ${this.rows})` : what;
  }

  private syntax(message: string): InvalidJsonError {
    const what = this.options.what ?? 'The request body';
    return new InvalidJsonError(`${what} is not valid JSON: ${message}.`, Math.max(this.rows, 1));
  }
}

/** Checks one JSON document against the limits without parsing it (throws a 4xx AppError). */
export function checkJson(text: string, limits: JsonLimits, what?: string): void {
  const splitter = new JsonSplitter({
    mode: 'document',
    limits,
    keep: false,
    ...(what ? { what } : {}),
  });
  splitter.push(text);
  splitter.end();
}
