import { and, eq, inArray } from 'drizzle-orm';
import { cards } from '../../db/schema.js';
import { uuidv7 } from '../../db/uuid.js';
import { CsvReader, type CsvRecord } from '../../http/csv-reader.js';
import { type ImportTarget, importInBatches, type RowError } from '../../http/import-batches.js';
import { LIMITS, limitErrors } from '../../http/limits.js';
import {
  type BulkRowError,
  insertRows,
  type PreparedRow,
} from '../../http/resource/insert-rows.js';
import type { WriteContext } from '../../http/resource/spec.js';
import type { Upload, UploadScanner } from '../../http/upload.js';
import { cardInsertValues, cardSpec } from './resource.js';

export interface CardImportResult {
  dry_run: boolean;
  /** Cards read: created + duplicates + failed. */
  total: number;
  created: number;
  duplicates: number;
  failed: number;
  /** The first errors by row (LIMITS.import.errors); errors_total counts them all. */
  errors: RowError[];
  errors_total: number;
  errors_truncated: boolean;
}

export class CardDryRun extends Error {
  constructor(readonly result: CardImportResult) {
    super('dry run');
  }
}

type Defaults = {
  value?: number | undefined;
  currency?: string | undefined;
  tags?: string[] | undefined;
  expires_at?: string | undefined;
};

/** A one-card-a-line upload's lines: CSV records, with comment lines (#…) left out. */
export function* cardLines(upload: Upload): Generator<CsvRecord> {
  for (const record of upload.records(new CsvReader({ maxFields: LIMITS.import.csvFields }))) {
    if (isCard(record)) yield record;
  }
}

const isCard = (r: CsvRecord) => !(r.fields[0] ?? '').trim().startsWith('#');

/** Pass 1 of a card upload: counts its lines as it arrives (400 too_many_records). */
export function cardUploadScanner(): UploadScanner {
  const reader = new CsvReader({ maxFields: LIMITS.import.csvFields });
  let lines = 0;
  const count = (records: CsvRecord[]) => {
    lines += records.filter(isCard).length;
    if (lines > LIMITS.import.records) throw limitErrors.tooManyRecords(LIMITS.import.records);
  };
  return {
    push: (piece) => count(reader.push(piece)),
    end: () => {
      count(reader.end());
      return {};
    },
  };
}

/**
 * Imports cards, one a line: `code1` or `code1,code2` (CSV quoting allowed; blank lines and
 * lines starting with # skipped), in batches of 500 read lazily from `lines`. A code already
 * among your cards, or twice in the upload, is counted as a duplicate and skipped.
 */
export async function importCards(
  options: ImportTarget & {
    lines: Iterable<CsvRecord>;
    defaults: Defaults;
    dryRun: boolean;
  },
): Promise<CardImportResult> {
  /** Blind indexes (hex) of the codes met so far in the upload. */
  const seen = new Set<string>();
  const counts = { total: 0, created: 0, duplicates: 0 };
  const errors = await importInBatches(options.lines, async (batch) => {
    const done = await importBatch({ ...options, batch, seen });
    counts.total += done.read;
    counts.created += done.created;
    counts.duplicates += done.duplicates;
    return done.errors;
  });
  const result = { dry_run: options.dryRun, ...counts, ...errors.answer() };
  if (options.dryRun) throw new CardDryRun(result);
  return result;
}

async function importBatch(
  options: ImportTarget & {
    batch: CsvRecord[];
    defaults: Defaults;
    seen: Set<string>;
  },
): Promise<{ read: number; created: number; duplicates: number; errors: RowError[] }> {
  const { tx, ownerId, seen } = options;
  const errors: RowError[] = [];
  const prepared: Array<PreparedRow & { bidx: Buffer }> = [];
  let duplicates = 0;
  let read = 0;
  for (const { line, fields } of options.batch) {
    const [code1 = '', code2 = ''] = fields.map((f) => f.trim());
    if (!code1) continue;
    read++;
    if (fields.length > 2) {
      errors.push({ row: line, message: `has ${fields.length} fields; expected code1[,code2]` });
      continue;
    }
    if (code1.length > 500 || code2.length > 500) {
      errors.push({ row: line, message: 'a code is longer than 500 characters' });
      continue;
    }
    const ctx: WriteContext = {
      tx,
      request: options.request,
      ownerId,
      keys: options.keys,
      rowId: uuidv7(),
    };
    const d = options.defaults;
    const values = await cardInsertValues(
      {
        code1,
        ...(code2 ? { code2 } : {}),
        ...(d.value !== undefined ? { value: d.value } : {}),
        ...(d.currency ? { currency: d.currency } : {}),
        ...(d.tags ? { tags: d.tags } : {}),
        ...(d.expires_at ? { expires_at: d.expires_at } : {}),
      },
      ctx,
    );
    const bidx = values.code1Bidx as Buffer;
    const key = bidx.toString('hex');
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    prepared.push({ index: line, values: { ...values, id: ctx.rowId, ownerId }, ctx, bidx });
  }
  const existing = new Set<string>();
  if (prepared.length > 0) {
    const rows = await tx
      .select({ bidx: cards.code1Bidx })
      .from(cards)
      .where(
        and(
          eq(cards.ownerId, ownerId),
          inArray(
            cards.code1Bidx,
            prepared.map((p) => p.bidx),
          ),
        ),
      );
    for (const r of rows) existing.add(r.bidx.toString('hex'));
  }
  const fresh = prepared.filter((p) => !existing.has(p.bidx.toString('hex')));
  duplicates += prepared.length - fresh.length;
  const insertErrors: BulkRowError[] = [];
  const created = (await insertRows(tx, cardSpec, fresh, insertErrors)).length;
  for (const e of insertErrors)
    errors.push({ row: e.row, message: e.errors.map((x) => x.message).join('; ') });
  return { read, created, duplicates, errors };
}
