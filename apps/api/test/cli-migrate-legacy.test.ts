import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLegacyDb,
  type LegacyDb,
  type LegacySeed,
  legacyServerProblem,
  seedLegacy,
} from './helpers/legacy-db.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * `accountdb migrate-legacy` as an operator runs it: a process against an earlier database
 * (real PostgreSQL, helpers/legacy-db.ts) into an empty AccountDB (PostgreSQL or the
 * embedded database), without --admin (the earlier admin becomes the first admin), with
 * --dry-run, --only and --json, its report on stdout and its progress on stderr.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const key = () => randomBytes(32).toString('base64');
const noServer = await legacyServerProblem();

let database: TestDatabase;
let legacy: LegacyDb;
let seed: LegacySeed;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  if (noServer) return;
  dir = mkdtempSync(path.join(tmpdir(), 'adb-migrate-'));
  env = {
    ACCOUNTDB_DATA_DIR: path.join(dir, 'data'),
    ACCOUNTDB_SECRET_KEY: key(),
    ACCOUNTDB_JWT_SECRET: key(),
  };
  database = await createTestDatabase();
  if (database.url) env.DATABASE_URL = database.url;
  else await database.drop();
  legacy = await createLegacyDb();
  seed = await seedLegacy(legacy, { takenUsername: `nobody_${randomBytes(3).toString('hex')}` });
});
afterAll(async () => {
  await legacy?.drop();
  if (database?.url) await database.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'apps/api/src/cli.ts'),
      'migrate-legacy',
      '--source',
      legacy.url,
      ...args,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 180_000,
    },
  );

describe.skipIf(noServer !== null)(
  `accountdb migrate-legacy (process)${noServer ? ` (skipped: ${noServer})` : ''}`,
  () => {
    it('refuses a table --only does not know, naming the ones it does', () => {
      const run = cli(['--only', 'users,wallets']);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        '--only: wallets is not one of users, nodes, accounts, vms, hardware, cards',
      );
    }, 120_000);

    it('dry run as JSON: everything counted, nothing written, the first admin not made', () => {
      const run = cli(['--dry-run', '--json']);
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.dry_run).toBe(true);
      expect(report.tables.users).toMatchObject({ read: 6, created: 5, skipped: 1 });
      expect(report.tables.accounts).toMatchObject({ read: 200, created: 199, skipped: 1 });
      expect(report.tables.hardware).toMatchObject({ read: 145, created: 145 });
      expect(report.tables.cards).toMatchObject({ read: 302, created: 300, skipped: 2 });
      expect(report.node_keys).toHaveLength(3);
      // Progress per table on stderr, the report alone on stdout.
      expect(run.stderr).toMatch(/accounts/);
      // Still empty: a real run may make the earlier admin the first one.
      const again = cli(['--dry-run', '--only', 'users']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^DRY RUN/);
    }, 180_000);

    it('--only users on an empty AccountDB makes the earlier admin its first admin', () => {
      const run = cli(['--only', 'users']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^Migration done\./);
      expect(run.stdout).toMatch(/users\s+6\s+5\s+0\s+0\s+1/);
      expect(run.stdout).not.toMatch(/accounts\s+\d/);
      // The earlier first admin is AccountDB's first admin: the next step acts as them.
      expect(run.stdout).not.toMatch(new RegExp(`users ${seed.alice.id}:`));
    }, 180_000);

    it('then the rest without --admin refused, with it moved; a second run changes nothing', () => {
      // AccountDB has users now: the admin acting must be named (here the earlier admin).
      const refused = cli([]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('--admin <username>');

      const run = cli(['--admin', seed.alice.username, '--public-url', 'https://adb.example']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/accounts\s+200\s+199\s+0\s+0\s+1/);
      expect(run.stdout).toMatch(/hardware\s+145\s+145\s+0\s+0\s+0/);
      expect(run.stdout).toMatch(/cards\s+302\s+300\s+0\s+0\s+2/);
      expect(run.stdout).toMatch(/accounts 13: .*shared_secret/);
      expect(run.stdout).toContain('ACCOUNTDB_URL=https://adb.example');
      expect(run.stdout).not.toContain('plain-text-key');

      const again = cli(['--admin', seed.alice.username, '--json']);
      expect(again.status, again.stderr).toBe(0);
      const report = JSON.parse(again.stdout);
      for (const table of ['users', 'nodes', 'accounts', 'vms', 'hardware', 'cards']) {
        expect({ table, ...report.tables[table] }).toMatchObject({ table, created: 0, updated: 0 });
      }
      expect(report.node_keys).toEqual([]);
    }, 240_000);
  },
);
