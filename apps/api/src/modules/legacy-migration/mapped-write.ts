import { and, eq, ne } from 'drizzle-orm';
import { legacyIds } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import type { FieldNames } from '../../http/field-names.js';
import type { AnySpec } from '../../http/resource/list.js';
import { type Mapping, saveMapping } from './legacy-ids.js';
import type { Batch } from './owner-batches.js';
import { rowWrite } from './owner-batches.js';
import { skip } from './report.js';

const LINK = {
  accounts: legacyIds.accountId,
  hardware: legacyIds.hardwareId,
  cards: legacyIds.cardId,
} as const;

/**
 * One earlier row written as what it maps to, idempotently:
 * - the same fingerprint as the last run wrote: unchanged, nothing written;
 * - mapped before (legacy_ids) or found by its natural key (adopt: an account with its
 *   SteamID, a card with its code, hardware with its earlier id, e.g. from a file import):
 *   updated;
 * - else created.
 * The write runs in a savepoint: a row AccountDB refuses is skipped with the reason. A row
 * that another earlier row of the same owner already maps to is not taken twice.
 */
export async function writeMapped<Row extends { id: string }>(
  batch: Batch,
  options: {
    table: keyof typeof LINK;
    spec: AnySpec;
    /** The earlier table's column names for AccountDB's fields, for a refused row's reason. */
    names: FieldNames;
    legacyId: string;
    print: string;
    before: Mapping | undefined;
    /** The row a mapping points at, locked. */
    load: (sp: Tx, id: string) => Promise<Row | undefined>;
    /** The owner's row with the same natural key, locked, when there is no mapping. */
    adopt: (sp: Tx) => Promise<Row | undefined>;
    /** What the natural key is, for the reason of a duplicate ("code1", "acc_id 7656…"). */
    naturalKey: string;
    create: (sp: Tx) => Promise<Row>;
    update: (sp: Tx, current: Row) => Promise<void>;
  },
): Promise<void> {
  const t = batch.report;
  const ownerId = batch.owner.id;
  if (options.before?.fingerprint === options.print) {
    t.unchanged++;
    return;
  }
  const where = { report: t, id: options.legacyId, spec: options.spec, names: options.names };
  await rowWrite(batch.tx, where, async (sp) => {
    let current = options.before ? await options.load(sp, options.before.rowId) : undefined;
    if (!current && !options.before) {
      current = await options.adopt(sp);
      if (current) {
        const [other] = await sp
          .select({ legacyId: legacyIds.legacyId })
          .from(legacyIds)
          .where(
            and(
              eq(legacyIds.ownerId, ownerId),
              eq(legacyIds.sourceTable, options.table),
              eq(LINK[options.table], current.id),
              ne(legacyIds.legacyId, options.legacyId),
            ),
          );
        if (other) {
          skip(
            t,
            options.legacyId,
            `${options.naturalKey} is the same as earlier ${options.table} row ${other.legacyId}'s, which is already migrated: not taken twice`,
          );
          return;
        }
      }
    }
    if (current) {
      await options.update(sp, current);
      await saveMapping(sp, {
        ownerId,
        table: options.table,
        legacyId: options.legacyId,
        rowId: current.id,
        fingerprint: options.print,
      });
      t.updated++;
      return;
    }
    const row = await options.create(sp);
    await saveMapping(sp, {
      ownerId,
      table: options.table,
      legacyId: options.legacyId,
      rowId: row.id,
      fingerprint: options.print,
    });
    t.created++;
  });
}
