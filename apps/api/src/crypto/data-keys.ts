import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { dataKeys } from '../db/schema.js';
import { rowsOf, type TenantDatabase, type Tx, withTenant } from '../db/tenant.js';
import {
  type DataKey,
  type MasterKey,
  SecretsError,
  unwrapDataKey,
  wrapDataKey,
} from './envelope.js';

/**
 * Each owner's data key, created on first use and kept unwrapped in memory for this process.
 * Reads and writes go through the caller's tenant transaction like any tenant table.
 */
export class DataKeyStore {
  private readonly byOwner = new Map<string, DataKey>();
  private readonly byId = new Map<string, DataKey>();

  /**
   * `previous`: during a master key rotation, the key being replaced; data keys it still
   * wraps are read with it. New data keys are always wrapped with `master`.
   */
  constructor(
    readonly master: MasterKey,
    readonly previous?: MasterKey,
  ) {}

  private remember(ownerId: string, key: DataKey): DataKey {
    if (this.byOwner.size > 10_000) {
      this.byOwner.clear();
      this.byId.clear();
    }
    this.byOwner.set(ownerId, key);
    this.byId.set(key.id, key);
    return key;
  }

  /**
   * The owner's data key, creating it when the owner has none yet. `shared`: the caller is
   * not the owner (a grantee of a shared account, migration 0020): the key row is read again
   * through the caller's tenant transaction whatever this process keeps, so the database's
   * policy (a grant with secrets, or an admin) decides, and a revoked grant counts at once;
   * no key is ever made for another user. Refused with `onRefused()`'s error.
   */
  async forOwner(tx: Tx, ownerId: string, shared?: { onRefused: () => Error }): Promise<DataKey> {
    if (shared) {
      const [visible] = await tx
        .select({ id: dataKeys.id })
        .from(dataKeys)
        .where(eq(dataKeys.ownerId, ownerId));
      if (!visible) throw shared.onRefused();
    }
    const cached = this.byOwner.get(ownerId);
    if (cached) return cached;
    let [row] = await tx.select().from(dataKeys).where(eq(dataKeys.ownerId, ownerId));
    if (!row && shared) throw shared.onRefused();
    if (!row) {
      const fresh = randomBytes(32);
      [row] = await tx
        .insert(dataKeys)
        .values({
          ownerId,
          masterKid: this.master.kid,
          wrappedKey: wrapDataKey(this.master, fresh, ownerId),
        })
        .onConflictDoNothing({ target: dataKeys.ownerId })
        .returning();
      // Lost a race with a concurrent first use: read the winner's key.
      row ??= (await tx.select().from(dataKeys).where(eq(dataKeys.ownerId, ownerId)))[0];
      if (!row) throw new SecretsError('could not create a data key');
    }
    const wrapper =
      row.masterKid === this.master.kid
        ? this.master
        : row.masterKid === this.previous?.kid
          ? this.previous
          : null;
    if (!wrapper) {
      throw new SecretsError(
        `data key of owner ${ownerId} is wrapped by master key ${row.masterKid}, not ${this.master.kid}`,
      );
    }
    return this.remember(ownerId, {
      id: row.id,
      key: unwrapDataKey(wrapper, row.wrappedKey, ownerId),
    });
  }
}

/**
 * Stops the start when ACCOUNTDB_SECRET_KEY is not the key the stored data keys were
 * wrapped with: better no start than secrets nobody can read or a mix of two keys.
 */
export async function checkMasterKey(
  database: TenantDatabase,
  master: MasterKey,
  previous?: MasterKey,
): Promise<void> {
  const kids = await withTenant(database, { kind: 'anonymous' }, async (tx) =>
    rowsOf<{ kid: string }>(await tx.execute(sql`SELECT secrets_master_kids() AS kid`)).map(
      (r) => r.kid,
    ),
  );
  assertMasterKids(kids, master, previous);
}

/** Throws when a stored master key id is neither `master`'s nor `previous`'s. */
export function assertMasterKids(kids: string[], master: MasterKey, previous?: MasterKey): void {
  const foreign = kids.filter((k) => k !== master.kid && k !== previous?.kid);
  if (foreign.length > 0) {
    throw new SecretsError(
      `ACCOUNTDB_SECRET_KEY does not match this database: its secrets are wrapped by master key id ${foreign.join(', ')}, the configured key has id ${master.kid}${previous ? ` (and ACCOUNTDB_SECRET_KEY_PREVIOUS ${previous.kid})` : ''}`,
    );
  }
}
