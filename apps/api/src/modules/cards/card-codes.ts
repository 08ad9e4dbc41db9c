import { eq } from 'drizzle-orm';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { blindIndex, decryptValue, encryptValue, secretAad } from '../../crypto/envelope.js';
import { dataKeys } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

/** A code as the blind index sees it: case, spaces and dashes do not matter. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

/** The code masked but for its last 4 characters. */
export function codeHint(code: string): string {
  const visible = normalizeCode(code).slice(-4);
  return `${'•'.repeat(Math.max(4, Math.min(12, normalizeCode(code).length - 4)))}${visible}`;
}

const aad = (column: 'code1' | 'code2', rowId: string, ownerId: string) =>
  secretAad({ table: 'cards', column, rowId, ownerId });

/** Ciphertext and blind index of a code, for its row. */
export async function sealCode(options: {
  tx: Tx;
  keys: DataKeyStore;
  ownerId: string;
  rowId: string;
  column: 'code1' | 'code2';
  code: string;
}): Promise<{ enc: string; bidx: Buffer }> {
  const key = await options.keys.forOwner(options.tx, options.ownerId);
  const code = options.code.trim();
  return {
    enc: encryptValue(key, code, aad(options.column, options.rowId, options.ownerId)),
    bidx: blindIndex(key, normalizeCode(code)),
  };
}

export async function openCode(options: {
  tx: Tx;
  keys: DataKeyStore;
  row: { id: string; ownerId: string };
  column: 'code1' | 'code2';
  enc: string;
}): Promise<string> {
  const key = await options.keys.forOwner(options.tx, options.row.ownerId);
  return decryptValue(key, options.enc, aad(options.column, options.row.id, options.row.ownerId));
}

/**
 * Blind indexes of a code for every owner whose cards the caller may see: their own, or for
 * an admin every owner with a data key (the index is keyed per owner).
 */
export async function codeIndexes(options: {
  tx: Tx;
  keys: DataKeyStore;
  ownerIds: string[] | 'visible';
  code: string;
}): Promise<Buffer[]> {
  const owners =
    options.ownerIds === 'visible'
      ? (await options.tx.select({ ownerId: dataKeys.ownerId }).from(dataKeys)).map(
          (r) => r.ownerId,
        )
      : options.ownerIds;
  const out: Buffer[] = [];
  for (const ownerId of owners) {
    const [exists] = await options.tx
      .select({ id: dataKeys.id })
      .from(dataKeys)
      .where(eq(dataKeys.ownerId, ownerId));
    if (!exists) continue;
    out.push(
      blindIndex(await options.keys.forOwner(options.tx, ownerId), normalizeCode(options.code)),
    );
  }
  return out;
}
