import { sql } from 'drizzle-orm';
import { type MasterKey, unwrapDataKey, wrapDataKey } from '../crypto/envelope.js';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/tenant.js';

export interface RotationProgress {
  done: number;
  total: number;
}

/**
 * Re-wraps every data key still wrapped by `previous` with `current`, `batchSize` rows per
 * transaction. An interruption loses at most the batch in flight; running it again goes on
 * where it stopped (rows already re-wrapped are no longer selected, and each update checks
 * the row is still under the previous key). `maxBatches` stops early (tests). Uses the schema
 * owner's connection: the functions of migration 0005 are not granted to the request role.
 */
export async function rotateDataKeys(options: {
  db: Db;
  current: MasterKey;
  previous: MasterKey;
  batchSize?: number;
  maxBatches?: number;
  onProgress?: (progress: RotationProgress) => void;
}): Promise<RotationProgress> {
  const { db, current, previous, batchSize = 100 } = options;
  const count = async (kid: string) =>
    Number(
      rowsOf<{ n: string | number }>(
        await db.execute(sql`SELECT secrets_data_keys_count(${kid}) AS n`),
      )[0]?.n ?? 0,
    );
  const progress: RotationProgress = { done: 0, total: await count(previous.kid) };
  options.onProgress?.(progress);
  for (let batch = 0; options.maxBatches === undefined || batch < options.maxBatches; batch++) {
    const changed = await db.transaction(async (tx) => {
      const rows = rowsOf<{ id: string; owner_id: string; wrapped_key: Buffer | Uint8Array }>(
        await tx.execute(
          sql`SELECT * FROM secrets_data_keys_wrapped_by(${previous.kid}, ${batchSize})`,
        ),
      );
      let n = 0;
      for (const row of rows) {
        const key = unwrapDataKey(previous, Buffer.from(row.wrapped_key), row.owner_id);
        const rewrapped = wrapDataKey(current, key, row.owner_id);
        const [result] = rowsOf<{ ok: boolean }>(
          await tx.execute(
            sql`SELECT secrets_rewrap_data_key(${row.id}, ${previous.kid}, ${current.kid}, ${rewrapped}) AS ok`,
          ),
        );
        if (result?.ok) n++;
      }
      return { rows: rows.length, n };
    });
    if (changed.rows === 0) break;
    progress.done += changed.n;
    options.onProgress?.({ ...progress });
  }
  return progress;
}
