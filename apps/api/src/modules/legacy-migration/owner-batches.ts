import type { FastifyRequest } from 'fastify';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import type { Tx } from '../../db/tenant.js';
import { AppError } from '../../http/errors.js';
import { type FieldNames, rowMessage } from '../../http/field-names.js';
import { writeProblem } from '../../http/resource/errors.js';
import type { AnySpec } from '../../http/resource/list.js';
import { type Door, migrationRequest, ownerActor } from './door.js';
import { mergeTableReport, skip, type TableReport, tableReportOf } from './report.js';
import type { LegacySource } from './source.js';
import type { Owner } from './users.js';

/** What every table step needs. */
export interface StepContext {
  door: Door;
  source: LegacySource;
  owners: Map<string, Owner>;
  keys: DataKeyStore;
  publicUrl: URL;
  onProgress: (done: number) => void;
}

/** Rows of one owner written in one transaction (all or nothing on an unexpected failure). */
const BATCH = 200;

export interface Batch {
  tx: Tx;
  owner: Owner;
  request: FastifyRequest;
  rows: Array<Record<string, unknown>>;
  /**
   * What this batch did (created, updated, skipped… with reasons and notes): added to the
   * table's report only once the batch's transaction committed, so a batch that rolled back
   * is never reported as written.
   */
  report: TableReport;
  /** Runs fn once the batch committed (a node key is reported as issued only then). */
  onCommit(fn: () => void): void;
}

/**
 * Reads a query's rows (ordered by owner_id) page by page and hands them over in batches of
 * one owner, each in a tenant transaction as that owner. Rows whose owner was not migrated
 * are skipped with the reason.
 */
export async function ownerBatches(
  ctx: StepContext,
  options: { query: string; report: TableReport; handle: (batch: Batch) => Promise<void> },
): Promise<void> {
  const t = options.report;
  let done = 0;
  let pending: { owner: Owner; rows: Array<Record<string, unknown>> } | null = null;
  const flush = async () => {
    if (!pending) return;
    const { owner, rows } = pending;
    pending = null;
    const actor = ownerActor(owner);
    const report = tableReportOf();
    const committed: Array<() => void> = [];
    await ctx.door.run(actor, (tx) =>
      options.handle({
        tx,
        owner,
        request: migrationRequest(actor, ctx.publicUrl),
        rows,
        report,
        onCommit: (fn) => committed.push(fn),
      }),
    );
    mergeTableReport(t, report);
    for (const fn of committed) fn();
    done += rows.length;
    ctx.onProgress(done);
  };
  for await (const page of ctx.source.pages(options.query)) {
    for (const row of page) {
      t.read++;
      const owner = ctx.owners.get(String(row.owner_id));
      if (!owner) {
        skip(
          t,
          row.id,
          `its owner (earlier user ${String(row.owner_id)}) was not migrated (see users)`,
        );
        ctx.onProgress(++done);
        continue;
      }
      if (pending && (pending.owner.id !== owner.id || pending.rows.length >= BATCH)) await flush();
      pending ??= { owner, rows: [] };
      pending.rows.push(row);
    }
  }
  await flush();
}

/**
 * One row's write in a savepoint: a row AccountDB refuses (a 4xx of the write path) is
 * skipped with the reason, and the owner's other rows are written.
 */
export async function rowWrite<T>(
  tx: Tx,
  options: {
    report: TableReport;
    id: unknown;
    spec: AnySpec;
    /** The earlier table's column names for AccountDB's fields, for the reason. */
    names?: FieldNames | undefined;
  },
  fn: (sp: Tx) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await tx.transaction((sp) => fn(sp as Tx));
  } catch (thrown) {
    const err = thrown instanceof AppError ? thrown : writeProblem(options.spec, thrown);
    if (!err) throw thrown;
    const fields = err.extra.errors;
    skip(
      options.report,
      options.id,
      fields?.length ? rowMessage(fields, options.names) : err.message,
    );
    return undefined;
  }
}
