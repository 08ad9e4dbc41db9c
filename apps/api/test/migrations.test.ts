import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import {
  MIGRATIONS_DIR,
  MigrationError,
  readMigrations,
  runMigrations,
} from '../src/db/migrate.js';
import { withDatabase } from './global-setup.js';

/**
 * runMigrations: applies what is pending once, refuses a migration edited after it was
 * applied, refuses a database migrated by a newer version, and applies each file atomically.
 * Runs on an in-memory PGlite always, and on a fresh empty PostgreSQL database when
 * TEST_DATABASE_URL is set.
 */

const pgTemplate = inject('pgTemplate');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** An empty database (not the migrated template) of the given driver. */
async function emptyDatabase(kind: 'pglite' | 'postgres'): Promise<Database & { url?: string }> {
  if (kind === 'pglite') {
    const database = await openDatabase({});
    cleanups.push(() => database.close());
    return database;
  }
  if (!pgTemplate) throw new Error('no PostgreSQL');
  const name = `adb_mig_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgTemplate.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(pgTemplate.adminUrl, name);
  const database = await openDatabase({ url, poolMax: 3 });
  cleanups.push(async () => {
    await database.close();
    const a = new pg.Client({ connectionString: pgTemplate.adminUrl });
    await a.connect();
    try {
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await a.end();
    }
  });
  return { ...database, url };
}

async function query<T>(database: Database, text: string, params: unknown[] = []): Promise<T[]> {
  const raw = database.raw;
  if (raw.kind === 'pglite') return (await raw.pglite.query<T>(text, params as never[])).rows;
  return (await raw.pool.query(text, params)).rows as T[];
}

async function tableExists(database: Database, table: string): Promise<boolean> {
  const rows = await query<{ t: string | null }>(database, 'SELECT to_regclass($1)::text AS t', [
    `public.${table}`,
  ]);
  return rows[0]?.t != null;
}

async function appliedNames(database: Database): Promise<string[]> {
  return (
    await query<{ name: string }>(database, 'SELECT name FROM schema_migrations ORDER BY name')
  ).map((r) => r.name);
}

/** A private copy of the shipped migrations, to edit. */
function migrationsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'adb-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const drivers: Array<{ kind: 'pglite' | 'postgres'; skip: boolean }> = [
  { kind: 'pglite', skip: false },
  { kind: 'postgres', skip: !pgTemplate },
];

describe.each(drivers)('runMigrations on $kind', ({ kind, skip }) => {
  it.skipIf(skip)('applies every migration on a fresh database, then nothing', async () => {
    const database = await emptyDatabase(kind);
    expect(await tableExists(database, 'users')).toBe(false);
    const shipped = readMigrations().map((m) => m.name);
    expect(shipped[0]).toBe('0001_foundation.sql');

    const logged: string[] = [];
    const first = await runMigrations(database.raw, { log: (m) => logged.push(m) });
    expect(first).toEqual(shipped);
    expect(logged).toContain('applied migration 0001_foundation.sql');
    expect(await appliedNames(database)).toEqual(shipped);
    for (const table of ['users', 'refresh_tokens', 'api_tokens', 'audit_log']) {
      expect(await tableExists(database, table), table).toBe(true);
    }
    const checksums = await query<{ name: string; checksum: string }>(
      database,
      'SELECT name, checksum FROM schema_migrations ORDER BY name',
    );
    expect(checksums).toEqual(
      readMigrations().map((m) => ({ name: m.name, checksum: m.checksum })),
    );

    const second = await runMigrations(database.raw);
    expect(second).toEqual([]);
    expect(await appliedNames(database)).toEqual(shipped);
  });

  it.skipIf(skip)('applies only the new file when one is added', async () => {
    const database = await emptyDatabase(kind);
    const dir = migrationsCopy();
    await runMigrations(database.raw, { dir });
    writeFileSync(path.join(dir, '9000_probe.sql'), 'CREATE TABLE migration_probe (x int);\n');
    expect(await runMigrations(database.raw, { dir })).toEqual(['9000_probe.sql']);
    expect(await tableExists(database, 'migration_probe')).toBe(true);
    expect(await runMigrations(database.raw, { dir })).toEqual([]);
  });

  it.skipIf(skip)('refuses a migration changed after it was applied', async () => {
    const database = await emptyDatabase(kind);
    const dir = migrationsCopy();
    await runMigrations(database.raw, { dir });
    const before = await appliedNames(database);
    appendFileSync(path.join(dir, '0001_foundation.sql'), '\n-- an innocent-looking edit\n');
    writeFileSync(path.join(dir, '9000_probe.sql'), 'CREATE TABLE migration_probe (x int);\n');

    const run = runMigrations(database.raw, { dir });
    await expect(run).rejects.toBeInstanceOf(MigrationError);
    await expect(run).rejects.toThrow(/0001_foundation\.sql.*immutable/);
    // Nothing after the refusal was applied.
    expect(await appliedNames(database)).toEqual(before);
    expect(await tableExists(database, 'migration_probe')).toBe(false);
  });

  it.skipIf(skip)('refuses a database holding a migration this version does not know', async () => {
    const database = await emptyDatabase(kind);
    await runMigrations(database.raw);
    await query(database, 'INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
      '9999_from_the_future.sql',
      'f'.repeat(64),
    ]);
    const run = runMigrations(database.raw);
    await expect(run).rejects.toBeInstanceOf(MigrationError);
    await expect(run).rejects.toThrow(/9999_from_the_future\.sql.*does not know/);
  });

  it.skipIf(skip)('a failing migration changes nothing and is not recorded', async () => {
    const database = await emptyDatabase(kind);
    const dir = migrationsCopy();
    await runMigrations(database.raw, { dir });
    const before = await appliedNames(database);
    writeFileSync(
      path.join(dir, '9000_broken.sql'),
      'CREATE TABLE half_done (x int);\nINSERT INTO half_done VALUES (1);\nSELECT 1 / 0;\n',
    );
    await expect(runMigrations(database.raw, { dir })).rejects.toThrow(
      /9000_broken\.sql failed: .*division by zero/,
    );
    expect(await tableExists(database, 'half_done')).toBe(false);
    expect(await appliedNames(database)).toEqual(before);
  });
});

describe('concurrent starts', () => {
  it.skipIf(!pgTemplate)(
    'two processes migrating one PostgreSQL database apply each file once',
    async () => {
      const database = await emptyDatabase('postgres');
      const other = await openDatabase({ url: database.url, poolMax: 2 });
      cleanups.push(() => other.close());
      const [a, b] = await Promise.all([runMigrations(database.raw), runMigrations(other.raw)]);
      const shipped = readMigrations().map((m) => m.name);
      expect([...a, ...b].sort()).toEqual(shipped);
      expect(await appliedNames(database)).toEqual(shipped);
    },
  );
});
