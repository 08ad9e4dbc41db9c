import { eq, sql } from 'drizzle-orm';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import type { Database } from '../../db/client.js';
import { users } from '../../db/schema.js';
import { rowsOf, withTenant } from '../../db/tenant.js';
import { migrateAccounts } from './accounts.js';
import { migrateCards } from './cards.js';
import { ownerActor, throughDoor } from './door.js';
import { migrateHardware } from './hardware.js';
import { migrateNodes } from './nodes.js';
import type { StepContext } from './owner-batches.js';
import { type MigrationReport, newReport, type ReportTable, tableReport } from './report.js';
import { type LegacySource, type LegacyTable, openLegacySource } from './source.js';
import { migrateUsers, type Owner, ownerMap, resolveAdmin } from './users.js';
import { migrateVms } from './vms.js';
import { migrateWhitelist } from './whitelist.js';

/**
 * The tables `--only` names, in the order they are migrated: links point backwards (a VM to
 * its node and to the account its hardware names, hardware to its account and VM), so a
 * first run makes every link it can.
 */
export const MIGRATABLE = ['users', 'nodes', 'accounts', 'vms', 'hardware', 'cards'] as const;
export type Migratable = (typeof MIGRATABLE)[number];

const SOURCE_OF: Record<ReportTable, LegacyTable> = {
  users: 'users',
  nodes: 'proxmox_nodes',
  accounts: 'accounts',
  vms: 'vms',
  hardware: 'hardware',
  cards: 'cards',
  whitelist: 'whitelist',
};

export function parseOnly(value: string | undefined): Set<Migratable> {
  if (!value) return new Set(MIGRATABLE);
  const out = new Set<Migratable>();
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    if (!(MIGRATABLE as readonly string[]).includes(part)) {
      throw new Error(`--only: ${part} is not one of ${MIGRATABLE.join(', ')}`);
    }
    out.add(part as Migratable);
  }
  if (out.size === 0) throw new Error(`--only: name one or more of ${MIGRATABLE.join(', ')}`);
  return out;
}

export interface MigrateOptions {
  database: Database;
  keys: DataKeyStore;
  sourceUrl: string;
  dryRun: boolean;
  only: Set<Migratable>;
  /** The AccountDB admin that creates users (null: AccountDB is empty, see resolveAdmin). */
  admin: string | null;
  /** AccountDB's address as agents reach it, for the agent configurations in the report. */
  publicUrl: URL;
  /** A table starts (total: its earlier rows) and moves on. */
  onTable?: (table: ReportTable, total: number) => void;
  onProgress?: (table: ReportTable, done: number) => void;
  onTableDone?: (table: ReportTable) => void;
}

/** Finds the --admin user and checks that it is an active admin. */
async function adminNamed(database: Database, login: string): Promise<Owner> {
  const [found] = rowsOf<{ user_id: string; is_active: boolean }>(
    await database.ownerDb.execute(sql`SELECT * FROM cli_user_by_login(${login})`),
  );
  if (!found) throw new Error(`--admin: no AccountDB user is called ${login}`);
  if (!found.is_active) throw new Error(`--admin: ${login} is deactivated`);
  const [me] = await withTenant(
    database,
    ownerActor({ id: found.user_id, username: login }),
    (tx) =>
      tx
        .select({ role: users.role, username: users.username })
        .from(users)
        .where(eq(users.id, found.user_id)),
  );
  if (me?.role !== 'admin') throw new Error(`--admin: ${login} is not an admin`);
  return { id: found.user_id, username: me.username };
}

/**
 * `accountdb migrate-legacy`: the earlier database, read in one snapshot, into AccountDB
 * through the tenant door, table by table; the report says what happened to every row.
 */
export async function migrateLegacy(options: MigrateOptions): Promise<MigrationReport> {
  const report = newReport(options.dryRun);
  const admin = options.admin ? await adminNamed(options.database, options.admin) : null;
  const source: LegacySource = await openLegacySource(options.sourceUrl);
  try {
    return await throughDoor(options.database, { dryRun: options.dryRun }, async (door) => {
      const step = async (
        table: ReportTable,
        work: (onProgress: (n: number) => void) => Promise<void>,
      ) => {
        tableReport(report, table);
        options.onTable?.(table, await source.count(SOURCE_OF[table]));
        try {
          await work((n) => options.onProgress?.(table, n));
        } finally {
          options.onTableDone?.(table);
        }
      };
      const acting = await resolveAdmin({ door, source, admin });
      if (options.only.has('users')) {
        await step('users', (onProgress) =>
          migrateUsers({
            door,
            source,
            admin: acting,
            report: tableReport(report, 'users'),
            onProgress,
          }),
        );
      }
      const owners = await ownerMap(door, acting);
      const ctx = (onProgress: (n: number) => void): StepContext => ({
        door,
        source,
        owners,
        keys: options.keys,
        publicUrl: options.publicUrl,
        onProgress,
      });
      if (options.only.has('nodes') && source.has('proxmox_nodes')) {
        await step('nodes', (p) =>
          migrateNodes(ctx(p), { report: tableReport(report, 'nodes'), migration: report }),
        );
      }
      if (options.only.has('accounts') && source.has('accounts')) {
        await step('accounts', (p) =>
          migrateAccounts(ctx(p), { report: tableReport(report, 'accounts') }),
        );
      }
      if (options.only.has('vms') && source.has('vms')) {
        await step('vms', (p) => migrateVms(ctx(p), { report: tableReport(report, 'vms') }));
      }
      if (options.only.has('hardware') && source.has('hardware')) {
        await step('hardware', (p) =>
          migrateHardware(ctx(p), { report: tableReport(report, 'hardware') }),
        );
      }
      if (options.only.has('cards') && source.has('cards')) {
        await step('cards', (p) => migrateCards(ctx(p), { report: tableReport(report, 'cards') }));
      }
      // VM sharing: the earlier whitelist becomes VM grants, with the VMs it names.
      if (options.only.has('vms') && source.has('whitelist')) {
        await step('whitelist', (p) =>
          migrateWhitelist(ctx(p), { report: tableReport(report, 'whitelist') }),
        );
      }
      return report;
    });
  } catch (err) {
    // What committed batches wrote stays (each owner batch is its own transaction): the
    // report says what that was; a dry run rolled everything back.
    if (options.dryRun) throw err;
    report.stopped = err instanceof Error ? err.message : String(err);
    throw new MigrationStopped(report);
  } finally {
    await source.close();
  }
}

/** A run that stopped on an unexpected failure, with the report of what it wrote before. */
export class MigrationStopped extends Error {
  constructor(readonly report: MigrationReport) {
    super(`the migration stopped: ${report.stopped}`);
  }
}
