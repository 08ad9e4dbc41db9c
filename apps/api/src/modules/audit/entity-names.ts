import { inArray, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { accounts, apiTokens, cards, hardware, proxmoxNodes, users, vms } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

/**
 * What an audit entry's entity is called today, for people reading the log: an account's
 * username, a VM's or node's name, a hardware profile's PC name, a card's code hint (the
 * masked code lists show), a user's username, a token's name. Read in the caller's own
 * transaction, so the row policies decide: an object the reader cannot see, or one deleted
 * since, has no name (the log still has its id). Never a secret.
 */
const NAMES: Record<string, { table: PgTable & { id: PgColumn }; name: SQL<string | null> }> = {
  account: { table: accounts, name: sql<string>`${accounts.username}` },
  vm: { table: vms, name: sql<string>`${vms.name}` },
  proxmox_node: { table: proxmoxNodes, name: sql<string>`${proxmoxNodes.name}` },
  hardware: { table: hardware, name: sql<string | null>`${hardware.pcname}` },
  card: { table: cards, name: sql<string>`${cards.codeHint}` },
  user: { table: users, name: sql<string>`${users.username}` },
  api_token: { table: apiTokens, name: sql<string>`${apiTokens.name}` },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "type:id" → name, for the entities of a page of entries (one query per type on the page). */
export async function entityNames(
  tx: Tx,
  entries: Array<{ entityType: string | null; entityId: string | null }>,
): Promise<Map<string, string>> {
  const byType = new Map<string, Set<string>>();
  for (const e of entries) {
    if (!e.entityType || !e.entityId || !NAMES[e.entityType] || !UUID.test(e.entityId)) continue;
    const ids = byType.get(e.entityType) ?? new Set<string>();
    ids.add(e.entityId);
    byType.set(e.entityType, ids);
  }
  const out = new Map<string, string>();
  for (const [type, ids] of byType) {
    const source = NAMES[type];
    if (!source) continue;
    const rows = (await tx
      .select({ id: source.table.id, name: source.name })
      .from(source.table as never)
      .where(inArray(source.table.id, [...ids]))) as Array<{ id: string; name: string | null }>;
    for (const row of rows) if (row.name) out.set(`${type}:${row.id}`, row.name);
  }
  return out;
}
