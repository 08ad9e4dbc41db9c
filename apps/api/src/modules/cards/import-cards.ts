import { and, eq, inArray } from 'drizzle-orm';
import { cards } from '../../db/schema.js';
import { uuidv7 } from '../../db/uuid.js';
import { rowMessage } from '../../http/field-names.js';
import { type ImportTarget, importInBatches, type RowError } from '../../http/import-batches.js';
import { normalizeTags } from '../../http/resource/fields.js';
import {
  type BulkRowError,
  insertRows,
  type PreparedRow,
} from '../../http/resource/insert-rows.js';
import type { WriteContext } from '../../http/resource/spec.js';
import type { CardBody, CardFormat, CardItem } from './card-readers.js';
import { CARD_FLAG_TAGS } from './legacy-card.js';
import { cardInsertValues, cardSpec } from './resource.js';

export interface CardImportResult {
  dry_run: boolean;
  format: CardFormat;
  /** Cards read: created + updated + duplicates + failed. */
  total: number;
  created: number;
  /** Earlier table rows whose code you had, with other flags: that card's status updated. */
  updated: number;
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

type Row = typeof cards.$inferSelect;

/**
 * Imports cards read lazily from `items`, in batches of 500. A code already among your cards,
 * or twice in the upload, is a duplicate and skipped, except that a row of the earlier
 * AccountDB's table whose code you have updates that card's status, failure_reason and flag
 * tags when they differ (counted as updated). `format()` names the format once read.
 */
export async function importCards(
  options: ImportTarget & {
    items: Iterable<CardItem>;
    format: () => CardFormat;
    defaults: Defaults;
    dryRun: boolean;
  },
): Promise<CardImportResult> {
  /** Blind indexes (hex) of the codes met so far in the upload. */
  const seen = new Set<string>();
  const counts = { total: 0, created: 0, updated: 0, duplicates: 0 };
  const errors = await importInBatches(options.items, async (batch) => {
    const done = await importBatch({ ...options, batch, seen });
    counts.total += batch.length;
    counts.created += done.created;
    counts.updated += done.updated;
    counts.duplicates += done.duplicates;
    return done.errors;
  });
  const result = {
    dry_run: options.dryRun,
    format: options.format(),
    ...counts,
    ...errors.answer(),
  };
  if (options.dryRun) throw new CardDryRun(result);
  return result;
}

/** The body with the upload's defaults: tags of the query first, then the row's flags. */
function withDefaults(body: CardBody, d: Defaults): CardBody & Defaults {
  return {
    ...body,
    ...(d.value !== undefined ? { value: d.value } : {}),
    ...(d.currency ? { currency: d.currency } : {}),
    ...(d.expires_at ? { expires_at: d.expires_at } : {}),
    ...(d.tags || body.tags ? { tags: [...(d.tags ?? []), ...(body.tags ?? [])] } : {}),
  };
}

const flagTags = (tags: readonly string[]) =>
  CARD_FLAG_TAGS.filter((f) => tags.includes(f)).join(',');

/** The change an earlier row makes to the card you have with its code, or null for none. */
function tableChange(current: Row, body: CardBody): Record<string, unknown> | null {
  const status = body.status ?? 'available';
  const reason = body.failure_reason ?? null;
  const flags = body.tags ?? [];
  if (
    current.status === status &&
    current.failureReason === reason &&
    flagTags(current.tags) === flagTags(flags)
  ) {
    return null;
  }
  const others = current.tags.filter((t) => !(CARD_FLAG_TAGS as readonly string[]).includes(t));
  return {
    status,
    failureReason: reason,
    tags: normalizeTags([...others, ...flags]),
    claimedBy: null,
    claimedAt: null,
    claimedUntil: null,
    redeemedAt: status === 'redeemed' ? (current.redeemedAt ?? new Date()) : null,
  };
}

async function importBatch(
  options: ImportTarget & {
    batch: CardItem[];
    defaults: Defaults;
    seen: Set<string>;
  },
): Promise<{ created: number; updated: number; duplicates: number; errors: RowError[] }> {
  const { tx, ownerId, seen } = options;
  const errors: RowError[] = [];
  const prepared: Array<PreparedRow & { bidx: Buffer; item: CardItem & { body: CardBody } }> = [];
  let duplicates = 0;
  for (const item of options.batch) {
    if (!item.body) {
      errors.push({ row: item.row, message: item.error ?? 'cannot be read' });
      continue;
    }
    const ctx: WriteContext = {
      tx,
      request: options.request,
      ownerId,
      keys: options.keys,
      rowId: uuidv7(),
    };
    const values = await cardInsertValues(withDefaults(item.body, options.defaults) as never, ctx);
    const bidx = values.code1Bidx as Buffer;
    const key = bidx.toString('hex');
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    prepared.push({
      index: item.row,
      values: { ...values, id: ctx.rowId, ownerId },
      ctx,
      bidx,
      item: item as CardItem & { body: CardBody },
    });
  }
  const existing = new Map<string, Row>();
  if (prepared.length > 0) {
    const rows = await tx
      .select()
      .from(cards)
      .where(
        and(
          eq(cards.ownerId, ownerId),
          inArray(
            cards.code1Bidx,
            prepared.map((p) => p.bidx),
          ),
        ),
      )
      .for('update');
    for (const r of rows) existing.set(r.code1Bidx.toString('hex'), r);
  }
  const fresh: typeof prepared = [];
  let updated = 0;
  for (const p of prepared) {
    const current = existing.get(p.bidx.toString('hex'));
    if (!current) {
      fresh.push(p);
      continue;
    }
    const change = p.item.table ? tableChange(current, p.item.body) : null;
    if (!change) {
      duplicates++;
      continue;
    }
    await tx.update(cards).set(change).where(eq(cards.id, current.id));
    updated++;
  }
  const insertErrors: BulkRowError[] = [];
  const created = (await insertRows(tx, cardSpec, fresh, insertErrors)).length;
  const namesOf = new Map(options.batch.map((i) => [i.row, i.names]));
  for (const e of insertErrors) {
    errors.push({ row: e.row, message: rowMessage(e.errors, namesOf.get(e.row)) });
  }
  return { created, updated, duplicates, errors };
}
