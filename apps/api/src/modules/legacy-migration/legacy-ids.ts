import { createHash } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { legacyIds } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

export type MappedTable = 'users' | 'accounts' | 'hardware' | 'cards' | 'proxmox_nodes' | 'vms';

const LINK = {
  accounts: 'accountId',
  hardware: 'hardwareId',
  cards: 'cardId',
  proxmox_nodes: 'nodeId',
  vms: 'vmId',
} as const;

export interface Mapping {
  rowId: string;
  fingerprint: string;
}

/** JSON with object keys in order, so equal bodies always give equal text. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 of what a row was mapped to: a changed earlier row gives another fingerprint. */
export function fingerprint(body: unknown): string {
  return createHash('sha256').update(stable(body)).digest('hex');
}

/** The rows earlier runs made of these earlier ids, for one owner (under row-level security). */
export async function mappingsOf(
  tx: Tx,
  options: { ownerId: string; table: Exclude<MappedTable, 'users'>; legacyIds: string[] },
): Promise<Map<string, Mapping>> {
  const out = new Map<string, Mapping>();
  if (options.legacyIds.length === 0) return out;
  const column = legacyIds[LINK[options.table]];
  const rows = await tx
    .select({ legacyId: legacyIds.legacyId, rowId: column, fingerprint: legacyIds.fingerprint })
    .from(legacyIds)
    .where(
      and(
        eq(legacyIds.ownerId, options.ownerId),
        eq(legacyIds.sourceTable, options.table),
        inArray(legacyIds.legacyId, options.legacyIds),
      ),
    );
  for (const r of rows)
    if (r.rowId) out.set(r.legacyId, { rowId: r.rowId, fingerprint: r.fingerprint });
  return out;
}

/** Records (or moves on) what an earlier row became. */
export async function saveMapping(
  tx: Tx,
  options: {
    ownerId: string;
    table: MappedTable;
    legacyId: string;
    rowId: string;
    fingerprint: string;
  },
): Promise<void> {
  const link = options.table === 'users' ? {} : { [LINK[options.table]]: options.rowId };
  await tx
    .insert(legacyIds)
    .values({
      ownerId: options.ownerId,
      sourceTable: options.table,
      legacyId: options.legacyId,
      fingerprint: options.fingerprint,
      ...link,
    })
    .onConflictDoUpdate({
      target: [legacyIds.ownerId, legacyIds.sourceTable, legacyIds.legacyId],
      set: { fingerprint: options.fingerprint, ...link, updatedAt: sql`now()` },
    });
}
