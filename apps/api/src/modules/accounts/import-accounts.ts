import { and, eq, inArray } from 'drizzle-orm';
import { accounts } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { validatorFor } from '../../http/body-validator.js';
import { AppError } from '../../http/errors.js';
import { fileFieldName, rowMessage } from '../../http/field-names.js';
import { type ImportTarget, importInBatches, type RowError } from '../../http/import-batches.js';
import { writeProblem } from '../../http/resource/errors.js';
import {
  type BulkRowError,
  insertRows,
  type PreparedRow,
} from '../../http/resource/insert-rows.js';
import type { WriteContext } from '../../http/resource/spec.js';
import type { ImportFormat, ParsedRecord } from './import-formats.js';
import { accountInsertValues, accountSpec, accountUpdateValues } from './resource.js';
import { CreateAccount, UpdateAccount } from './schemas.js';
import { recordStatusChange } from './status.js';

export interface ImportResult {
  dry_run: boolean;
  format: ImportFormat;
  /** Records read: created + updated + failed. */
  total: number;
  created: number;
  updated: number;
  failed: number;
  /** The first errors by row (LIMITS.import.errors); errors_total counts them all. */
  errors: RowError[];
  errors_total: number;
  errors_truncated: boolean;
  /**
   * Fields of the records that the import read past (the earlier upload format's keys it does
   * not know), with how many records had each: never dropped silently. The first
   * IGNORED_LISTED names; ignored_fields_truncated says when there were more.
   */
  ignored_fields: Array<{ field: string; records: number }>;
  ignored_fields_truncated: boolean;
}

/** How many distinct ignored field names an answer lists, and how long each may be. */
export const IGNORED_LISTED = 50;
const IGNORED_NAME_MAX = 100;

/** The records, counting the fields each one's import reads past into `tally`. */
function* tallied(
  records: Iterable<ParsedRecord>,
  tally: { fields: Map<string, number>; truncated: boolean },
): Generator<ParsedRecord> {
  for (const record of records) {
    for (const field of record.ignored ?? []) {
      const name = field.length > IGNORED_NAME_MAX ? `${field.slice(0, IGNORED_NAME_MAX)}…` : field;
      const seen = tally.fields.get(name);
      if (seen !== undefined) tally.fields.set(name, seen + 1);
      else if (tally.fields.size < IGNORED_LISTED) tally.fields.set(name, 1);
      else tally.truncated = true;
    }
    yield record;
  }
}

const validateCreate = validatorFor(CreateAccount);
const validateUpdate = validatorFor(UpdateAccount);

type Row = typeof accounts.$inferSelect;

/** Thrown at the end of a dry run to roll everything back while keeping the result. */
export class DryRunRollback extends Error {
  constructor(readonly result: ImportResult) {
    super('dry run');
  }
}

/**
 * Imports accounts: creates new ones and updates the owner's existing ones matched by
 * external_id, record by record (a bad record is reported, the others written), in batches of
 * 500 read lazily from `records`. A dry run does all of it, database checks included, then
 * rolls back.
 */
export async function importAccounts(
  options: ImportTarget & {
    /** The format the records were read in (known once they are). */
    format: () => ImportFormat;
    records: Iterable<ParsedRecord>;
    dryRun: boolean;
  },
): Promise<ImportResult> {
  /** external_id → the row that had it first, across batches. */
  const seen = new Map<string, number>();
  const counts = { total: 0, created: 0, updated: 0 };
  const ignored = { fields: new Map<string, number>(), truncated: false };
  const errors = await importInBatches(tallied(options.records, ignored), async (batch) => {
    const done = await importBatch({ ...options, batch, seen });
    counts.total += batch.length;
    counts.created += done.created;
    counts.updated += done.updated;
    return done.errors;
  });
  const result: ImportResult = {
    dry_run: options.dryRun,
    format: options.format(),
    ...counts,
    ...errors.answer(),
    ignored_fields: [...ignored.fields].map(([field, records]) => ({ field, records })),
    ignored_fields_truncated: ignored.truncated,
  };
  if (options.dryRun) throw new DryRunRollback(result);
  return result;
}

async function importBatch(
  options: ImportTarget & {
    batch: ParsedRecord[];
    seen: Map<string, number>;
  },
): Promise<{ created: number; updated: number; errors: RowError[] }> {
  const { tx, ownerId, batch: records, seen } = options;
  const errors: RowError[] = [];
  const externalIds = records
    .map((r) => r.body?.external_id)
    .filter((v): v is string => typeof v === 'string');
  const existing = new Map<string, Row>();
  if (externalIds.length > 0) {
    const rows = await tx
      .select()
      .from(accounts)
      .where(and(eq(accounts.ownerId, ownerId), inArray(accounts.externalId, externalIds)))
      .for('update');
    for (const r of rows) if (r.externalId) existing.set(r.externalId, r);
  }
  const inserts: PreparedRow[] = [];
  let updated = 0;
  /** Each row's names of the fields, for the errors of the insert. */
  const namesOf = new Map(records.map((r) => [r.row, r.names]));
  for (const record of records) {
    const message = (e: BulkRowError['errors']) => rowMessage(e, record.names);
    if (!record.body) {
      errors.push({ row: record.row, message: record.error ?? 'cannot be read' });
      continue;
    }
    const body = record.body;
    const externalId = typeof body.external_id === 'string' ? body.external_id : undefined;
    if (externalId !== undefined) {
      const first = seen.get(externalId);
      if (first !== undefined) {
        errors.push({
          row: record.row,
          message: `${fileFieldName('external_id', record.names)} ${externalId} was already in row ${first}`,
        });
        continue;
      }
      seen.set(externalId, record.row);
    }
    const current = externalId !== undefined ? existing.get(externalId) : undefined;
    const fieldErrors = (current ? validateUpdate : validateCreate)(body, 'body');
    if (fieldErrors.length > 0) {
      errors.push({ row: record.row, message: message(fieldErrors) });
      continue;
    }
    try {
      if (current) {
        const ctx: WriteContext = {
          tx,
          request: options.request,
          ownerId,
          keys: options.keys,
          rowId: current.id,
        };
        await tx.transaction(async (sp) => {
          const spCtx = { ...ctx, tx: sp as Tx };
          const changes = await accountUpdateValues(body as never, current, spCtx);
          const [after] = await sp
            .update(accounts)
            .set(changes)
            .where(eq(accounts.id, current.id))
            .returning();
          if (after) await recordStatusChange(sp as Tx, { before: current, after });
        });
        updated++;
      } else {
        const ctx: WriteContext = {
          tx,
          request: options.request,
          ownerId,
          keys: options.keys,
          rowId: uuidv7(),
        };
        const values = await accountInsertValues(body as never, ctx);
        inserts.push({ index: record.row, values: { ...values, id: ctx.rowId, ownerId }, ctx });
      }
    } catch (err) {
      const problem = err instanceof AppError ? err : writeProblem(accountSpec, err);
      if (!problem) throw err;
      errors.push({
        row: record.row,
        message: problem.extra.errors ? message(problem.extra.errors) : problem.message,
      });
    }
  }
  const insertErrors: BulkRowError[] = [];
  const created = (await insertRows(tx, accountSpec, inserts, insertErrors)).length;
  for (const e of insertErrors) {
    errors.push({ row: e.row, message: rowMessage(e.errors, namesOf.get(e.row)) });
  }
  return { created, updated, errors };
}
