import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvReader, type CsvRecord } from '../src/http/csv-reader.js';
import { InvalidJsonError, LimitExceededError } from '../src/http/errors.js';
import { type JsonRecord, JsonSplitter } from '../src/http/json-splitter.js';
import { LineSplitter } from '../src/http/line-splitter.js';
import { Upload } from '../src/http/upload.js';

/**
 * The readers an upload goes through arrive at a record's end in pieces of any size (64 KiB
 * socket chunks, cut anywhere: inside a string, after a backslash, between CR and LF, inside
 * a UTF-8 character). Whatever the cuts, they find the same records as from the whole text.
 */

/** The text cut at the given places. */
function cut(text: string, at: number[]): string[] {
  const places = [...new Set(at.map((n) => Math.min(n, text.length)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const n of [...places, text.length]) {
    pieces.push(text.slice(from, n));
    from = n;
  }
  return pieces;
}

function readAll<R>(reader: { push(p: string): R[]; end(): R[] }, pieces: string[]): R[] {
  return [...pieces.flatMap((p) => reader.push(p)), ...reader.end()];
}

const cuts = fc.array(fc.nat(400), { maxLength: 8 });
const NO_LIMITS = { depth: 10_000, containers: 1e9 };

describe('JsonSplitter', () => {
  const splitter = (options: Partial<ConstructorParameters<typeof JsonSplitter>[0]> = {}) =>
    new JsonSplitter({ mode: 'records', limits: NO_LIMITS, keep: true, ...options });

  it('finds each element of an array, as written, whatever the pieces', () => {
    const space = fc.constantFrom('', ' ', '\n', '\r\n\t');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.jsonValue(), space)), cuts, (items, at) => {
        const text = `\uFEFF[${items.map(([v, s]) => `${s}${JSON.stringify(v, null, s ? 1 : 0)}${s}`).join(',')}]\n`;
        const records = readAll(splitter(), cut(text, at));
        expect(records.map((r) => r.row)).toEqual(items.map((_, i) => i + 1));
        expect(records.map((r) => JSON.parse(r.text))).toEqual(
          items.map(([v]) => JSON.parse(JSON.stringify(v))),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a single value as one record, and counts without keeping texts', () => {
    expect(readAll(splitter(), cut(' {"a": "}\\"]"} ', [3, 8, 9]))).toEqual([
      { row: 1, text: '{"a": "}\\"]"}' },
    ]);
    const counting = splitter({ keep: false });
    expect(readAll(counting, ['[1,', '{"b":[2]},"x"]'])).toEqual<JsonRecord[]>([
      { row: 1, text: '' },
      { row: 2, text: '' },
      { row: 3, text: '' },
    ]);
  });

  it('refuses broken arrays as not JSON, naming the item', () => {
    for (const [text, message] of [
      ['[{"a": 1},', /array is not closed/],
      ['[1,,2]', /empty element at item 2/],
      ['[1,]', /empty element at item 2/],
      ['[1] x', /text after the JSON array/],
      ['[{"a": [1}]', /bracket does not match in item 1/],
    ] as const) {
      expect(() => readAll(splitter(), [text]), text).toThrow(InvalidJsonError);
      expect(() => readAll(splitter(), [text]), text).toThrow(message);
    }
  });

  it('refuses nesting, objects and arrays, and records over their limits, before the end', () => {
    const limited = (options: Partial<ConstructorParameters<typeof JsonSplitter>[0]>) =>
      splitter({ limits: { depth: 4, containers: 5 }, what: 'The upload', ...options });
    // The top-level array is one of the four levels.
    expect(readAll(limited({}), ['[[[[]]]]'])).toHaveLength(1);
    expect(() => limited({}).push('[[[[[')).toThrow(
      'The upload (item 1) is nested deeper than 4 levels.',
    );
    // Five per record, counted again for each record.
    expect(readAll(limited({}), ['[[[],[],[],[]],[[],[],[],[]]]'])).toHaveLength(2);
    expect(() => limited({}).push('[[[],[],[],[],[]]')).toThrow(LimitExceededError);
    expect(readAll(limited({ maxRecords: 3 }), ['[1,2,3]'])).toHaveLength(3);
    expect(() => limited({ maxRecords: 3 }).push('[1,2,3,4')).toThrow(
      'The upload has more than 3 records',
    );
  });
});

describe('CsvReader', () => {
  it('finds the same records, lines and offsets whatever the pieces', () => {
    const part = fc.constantFrom('a', 'bc', ',', '"', '""', '\r', '\n', '\r\n', ' ', '\uFEFF', 'é');
    fc.assert(
      fc.property(
        fc.array(part, { maxLength: 40 }).map((p) => p.join('')),
        cuts,
        (text, at) => {
          const whole = readAll(new CsvReader(), [text]);
          expect(readAll(new CsvReader(), cut(text, at))).toEqual(whole);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('reads quotes, line breaks in quotes, CR/LF/CRLF and blank lines as RFC 4180 says', () => {
    const text = '\uFEFFa,"b ""c""\nd"\r\n\r\ne,f\rg\n';
    expect(readAll(new CsvReader(), cut(text, [2, 9, 14, 15]))).toEqual<CsvRecord[]>([
      { line: 1, fields: ['a', 'b "c"\nd'], start: 1, end: 16 },
      { line: 4, fields: ['e', 'f'], start: 18, end: 22 },
      { line: 5, fields: ['g'], start: 22, end: 24 },
    ]);
  });

  it('refuses a record of more fields than allowed', () => {
    expect(readAll(new CsvReader({ maxFields: 3 }), ['a,b,c\n'])).toHaveLength(1);
    expect(() => new CsvReader({ maxFields: 3 }).push('x\na,b,c,d')).toThrow(
      'The CSV record on line 2 has more than 3 fields.',
    );
  });
});

describe('LineSplitter', () => {
  it('finds the same non-blank lines whatever the pieces, counting blank ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('{}', ' ', '', 'x\r', 'é'), { maxLength: 30 }),
        cuts,
        (lines, at) => {
          const text = lines.join('\n');
          const expected = lines
            .map((l, i) => ({ row: i + 1, text: l.endsWith('\r') ? l.slice(0, -1) : l }))
            .filter((l) => l.text.trim() !== '');
          expect(readAll(new LineSplitter(), cut(text, at))).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
    expect(() => readAll(new LineSplitter({ maxRecords: 2 }), ['a\n\nb\nc'])).toThrow(
      'more than 2 records',
    );
  });
});

describe('Upload', () => {
  it('decodes UTF-8 cut inside a character, and lets go of each chunk once read', async () => {
    const text = '[{"username":"Zoë ✓ 𝄞"}]';
    const bytes = Buffer.from(text);
    const chunks = Array.from(bytes).map((b) => Buffer.from([b]));
    const seen: string[] = [];
    const upload = await Upload.receive(Readable.from(chunks), {
      limit: 1000,
      scanner: { push: (p) => void seen.push(p), end: () => ({ format: 'json' }) },
    });
    expect(seen.join('')).toBe(text);
    expect(upload.scan).toEqual({ format: 'json' });
    expect([...upload.pieces()].join('')).toBe(text);
    expect([...upload.pieces()].join('')).toBe('');
  });

  it('refuses more bytes than the limit, announced or not', async () => {
    const scanner = { push: () => {}, end: () => ({}) };
    await expect(
      Upload.receive(Readable.from([Buffer.alloc(10)]), { limit: 9, scanner }),
    ).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
    await expect(
      Upload.receive(Readable.from([]), { limit: 9, contentLength: '10', scanner }),
    ).rejects.toMatchObject({ status: 413 });
    await expect(
      Upload.receive(Readable.from([Buffer.alloc(9)]), { limit: 9, scanner }),
    ).resolves.toBeInstanceOf(Upload);
  });
});
