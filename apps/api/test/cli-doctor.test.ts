import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Finding, runDoctor } from '../src/cli/doctor.js';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { testDatabaseUrl } from './global-setup.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * `accountdb doctor` on both databases: a healthy one passes; RLS switched off or not forced
 * on a tenant table, a master key that does not match the stored data keys, or a database
 * without the schema fail loudly, naming the problem and the fix.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const key = () => randomBytes(32).toString('base64');

let database: TestDatabase;
let env: Record<string, string>;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'adb-doctor-'));
  const base = {
    ACCOUNTDB_DATA_DIR: dataDir,
    ACCOUNTDB_SECRET_KEY: key(),
    ACCOUNTDB_JWT_SECRET: key(),
    // No test asks Steam; steam-time.test.ts runs this check against a fake source.
    ACCOUNTDB_STEAM_TIME_URL: 'off',
  };
  database = await createTestDatabase();
  if (database.url) {
    env = { ...base, DATABASE_URL: database.url };
  } else {
    // The embedded database lives in the data dir, where the doctor opens it.
    await database.drop();
    const embedded = await openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
    await runMigrations(embedded.raw);
    await embedded.close();
    env = base;
  }
});
afterAll(async () => {
  if (database?.url) await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs SQL as the schema owner on the doctor's database. */
async function ownerSql(statement: ReturnType<typeof sql>): Promise<void> {
  const db = env.DATABASE_URL
    ? await openDatabase({ url: env.DATABASE_URL, poolMax: 1 })
    : await openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
  try {
    await db.ownerDb.execute(statement);
  } finally {
    await db.close();
  }
}

const failures = (findings: Finding[]) => findings.filter((f) => f.verdict === 'fail');

describe('accountdb doctor', () => {
  it('passes a healthy database and says what it checked', async () => {
    const findings = await runDoctor(env);
    expect(failures(findings)).toEqual([]);
    const checks = findings.filter((f) => f.verdict === 'ok').map((f) => f.check);
    for (const check of [
      'configuration',
      'database',
      'migrations',
      'role accountdb_app',
      'row-level security',
      'master key',
    ]) {
      expect(checks).toContain(check);
    }
  });

  it("prints the migrations line the README's doctor sample shows", async () => {
    const readme = readFileSync(path.join(import.meta.dirname, '../../../README.md'), 'utf8');
    const sample = /^✓ migrations: (.+)$/m.exec(readme)?.[1];
    const found = (await runDoctor(env)).find((f) => f.check === 'migrations');
    expect(found?.detail).toBe(sample);
  });

  it('checks the login requests use: provisioned on PostgreSQL, a warning on the embedded database', async () => {
    const findings = (await runDoctor(env)).filter((f) => f.check === 'request login');
    if (env.DATABASE_URL) {
      expect(findings.map((f) => f.verdict)).toEqual(['ok']);
      expect(findings[0]?.detail).toMatch(/^accountdb_authenticator \(provisioned\): /);
    } else {
      expect(findings.map((f) => f.verdict)).toEqual(['warn']);
      expect(findings[0]?.detail).toContain('RESET ROLE');
      expect(findings[0]?.fix).toContain('PostgreSQL');
    }
    expect(findings.length).toBe(1);
    const clocks = (await runDoctor(env)).find((f) => f.check === 'clocks');
    expect(clocks?.verdict).toBe('ok');
  });

  it.skipIf(!testDatabaseUrl())(
    'fails a request login that could bypass the policies (the owner given as DATABASE_URL)',
    async () => {
      const url = env.DATABASE_URL ?? '';
      const found = failures(await runDoctor({ ...env, DATABASE_OWNER_URL: url }));
      expect(found.map((f) => f.check)).toEqual(['request login']);
      expect(found[0]?.detail).toMatch(/is a superuser/);
      expect(found[0]?.fix).toContain('GRANT accountdb_app TO');
    },
  );

  it('fails when row-level security is disabled, or not forced, on a tenant table', async () => {
    await ownerSql(sql`ALTER TABLE accounts DISABLE ROW LEVEL SECURITY`);
    let found = failures(await runDoctor(env));
    expect(found.map((f) => f.check)).toEqual(['table accounts']);
    expect(found[0]?.detail).toContain('row-level security is DISABLED');
    expect(found[0]?.fix).toContain('ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY');

    await ownerSql(sql`ALTER TABLE accounts ENABLE ROW LEVEL SECURITY`);
    await ownerSql(sql`ALTER TABLE cards NO FORCE ROW LEVEL SECURITY`);
    found = failures(await runDoctor(env));
    expect(found.map((f) => [f.check, f.detail])).toEqual([
      ['table cards', 'row-level security is not FORCED (the table owner bypasses it)'],
    ]);
    await ownerSql(sql`ALTER TABLE cards FORCE ROW LEVEL SECURITY`);
    expect(failures(await runDoctor(env))).toEqual([]);
  });

  it('fails when the master key does not match the stored data keys', async () => {
    await ownerSql(sql`INSERT INTO users (username, email, password_hash, role)
                       VALUES ('doctor-probe', 'doctor@example.com', 'x', 'user')`);
    await ownerSql(sql`INSERT INTO data_keys (owner_id, master_kid, wrapped_key)
                       SELECT id, 'deadbeefdeadbeef', '\\x00' FROM users WHERE username = 'doctor-probe'`);
    try {
      const found = failures(await runDoctor(env));
      expect(found.map((f) => f.check)).toEqual(['master key']);
      expect(found[0]?.detail).toContain('deadbeefdeadbeef');
      expect(found[0]?.fix).toContain('ACCOUNTDB_SECRET_KEY');
    } finally {
      await ownerSql(sql`DELETE FROM users WHERE username = 'doctor-probe'`);
    }
  });

  it('warns about a key rotation left half-done or finished but not cleaned up', async () => {
    const findings = await runDoctor({ ...env, ACCOUNTDB_SECRET_KEY_PREVIOUS: key() });
    expect(failures(findings)).toEqual([]);
    expect(findings.find((f) => f.check === 'key rotation')).toMatchObject({
      verdict: 'warn',
      detail: 'ACCOUNTDB_SECRET_KEY_PREVIOUS is set but no data key uses it any more',
    });
  });

  it('fails on a bad setting, naming the variable, before touching the database', async () => {
    const found = failures(await runDoctor({ ...env, API_PORT: 'ninety' }));
    expect(found).toHaveLength(1);
    expect(found[0]?.check).toBe('configuration');
    expect(found[0]?.detail).toContain('API_PORT');
  });

  it('exits 1 from the command line when something is wrong, 0 when not', () => {
    const run = (extra: Record<string, string>) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'apps/api/src/cli.ts'), 'doctor'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', ...env, ...extra },
          timeout: 60_000,
        },
      );
    const good = run({});
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('✓ row-level security');
    const bad = run({ API_PORT: 'ninety' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/✗ configuration: API_PORT/);
    expect(bad.stdout).toContain('1 problem(s) found.');
  });
});
