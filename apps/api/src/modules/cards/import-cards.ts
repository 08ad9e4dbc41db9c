import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { cards } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { parseCsv } from '../../http/resource/csv.js';
import {
  type BulkRowError,
  insertRows,
  type PreparedRow,
} from '../../http/resource/insert-rows.js';
import type { WriteContext } from '../../http/resource/spec.js';
import { cardInsertValues, cardSpec } from './resource.js';

export interface CardImportResult {
  dry_run: boolean;
  created: number;
  duplicates: number;
  failed: number;
  errors: Array<{ row: number; message: string }>;
}

export class CardDryRun extends Error {
  constructor(readonly result: CardImportResult) {
    super('dry run');
  }
}

/**
 * Imports cards, one a line: `code1` or `code1,code2` (CSV quoting allowed; blank lines and
 * lines starting with # skipped). A code already among your cards, or twice in the upload,
 * is counted as a duplicate and skipped.
 */
export async function importCards(options: {
  tx: Tx;
  request: FastifyRequest;
  keys: DataKeyStore;
  ownerId: string;
  text: string;
  defaults: {
    value?: number | undefined;
    currency?: string | undefined;
    tags?: string[] | undefined;
    expires_at?: string | undefined;
  };
  dryRun: boolean;
}): Promise<CardImportResult> {
  const { tx, ownerId } = options;
  const errors: Array<{ row: number; message: string }> = [];
  const lines = parseCsv(options.text).filter((r) => !(r.fields[0] ?? '').trim().startsWith('#'));
  const prepared: Array<PreparedRow & { bidx: Buffer }> = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const { line, fields } of lines) {
    const [code1 = '', code2 = ''] = fields.map((f) => f.trim());
    if (!code1) continue;
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
    const values = await cardInsertValues(
      {
        code1,
        ...(code2 ? { code2 } : {}),
        ...(options.defaults.value !== undefined ? { value: options.defaults.value } : {}),
        ...(options.defaults.currency ? { currency: options.defaults.currency } : {}),
        ...(options.defaults.tags ? { tags: options.defaults.tags } : {}),
        ...(options.defaults.expires_at ? { expires_at: options.defaults.expires_at } : {}),
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
  for (let i = 0; i < prepared.length; i += 1000) {
    const rows = await tx
      .select({ bidx: cards.code1Bidx })
      .from(cards)
      .where(
        and(
          eq(cards.ownerId, ownerId),
          inArray(
            cards.code1Bidx,
            prepared.slice(i, i + 1000).map((p) => p.bidx),
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
  errors.sort((a, b) => a.row - b.row);
  const result = { dry_run: options.dryRun, created, duplicates, failed: errors.length, errors };
  if (options.dryRun) throw new CardDryRun(result);
  return result;
}
