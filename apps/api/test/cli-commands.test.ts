import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askNewPassword } from '../src/cli/prompt.js';
import { openDatabase } from '../src/db/client.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * The `accountdb` command line as an operator runs it (a process on either database):
 * create-admin, then import and export through the admin's login, files and exit codes.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const key = () => randomBytes(32).toString('base64');

let database: TestDatabase;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'adb-cli-'));
  env = {
    ACCOUNTDB_DATA_DIR: path.join(dir, 'data'),
    ACCOUNTDB_SECRET_KEY: key(),
    ACCOUNTDB_JWT_SECRET: key(),
  };
  database = await createTestDatabase();
  if (database.url) env.DATABASE_URL = database.url;
  // Else the CLI opens the embedded database in the data dir.
  else await database.drop();
});
afterAll(async () => {
  if (database?.url) await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'apps/api/src/cli.ts'), ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env, ...extra },
      timeout: 90_000,
    },
  );

describe('accountdb (processes)', () => {
  it('create-admin without a terminal names the missing flag instead of asking', () => {
    const run = cli(['create-admin', '--email', 'root@example.test'], {
      ACCOUNTDB_ADMIN_PASSWORD: 'a long admin password',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--username is required');
  }, 60_000);

  it('create-admin, import accounts from a CSV file, export them to a 0600 file', () => {
    const made = cli(['create-admin', '--username', 'root', '--email', 'root@example.test'], {
      ACCOUNTDB_ADMIN_PASSWORD: 'a long admin password',
    });
    expect(made.status, made.stderr).toBe(0);

    const input = path.join(dir, 'accounts.csv');
    writeFileSync(
      input,
      'username,password,tags\nsteam-one,first secret,cli\n,no name,cli\nsteam-two,second secret,cli\n',
    );
    const imported = cli(['import', 'accounts', input, '--user', 'root', '--batch-size', '2']);
    // One row is bad: the rest is written, the bad one named by its line, exit code 1.
    expect(imported.status, imported.stderr).toBe(1);
    expect(imported.stdout).toContain('accounts for root: 2 created, 1 failed');
    expect(imported.stdout).toMatch(/row 3: .*username/);
    expect(imported.stderr).toContain('3 of 3 records');

    const output = path.join(dir, 'out.csv');
    const exported = cli([
      'export',
      'accounts',
      '--user',
      'root',
      '--format',
      'csv',
      '--output',
      output,
      '--include-secrets',
    ]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('exported 2 accounts of root');
    expect(statSync(output).mode & 0o777).toBe(0o600);
    const csv = readFileSync(output, 'utf8');
    expect(csv).toContain('steam-two');
    expect(csv).toContain('second secret');

    const plain = cli(['export', 'accounts', '--user', 'root', '--filter', 'tag=cli']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toHaveLength(2);
    expect(plain.stdout).not.toContain('second secret');

    const unknown = cli(['export', 'widgets', '--user', 'root']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown resource widgets');
  }, 300_000);
});

describe('accountdb export (process) meeting a row it cannot read', () => {
  // Runs after the test above, which made the admin "root".
  it('exits 1 with the error and leaves no partial file behind', async () => {
    const input = path.join(dir, 'many.csv');
    const lines = Array.from({ length: 1003 }, (_, i) => `bulk-${i},password ${i}`);
    writeFileSync(input, `username,password\n${lines.join('\n')}\n`);
    const imported = cli(['import', 'accounts', input, '--user', 'root']);
    expect(imported.status, imported.stderr).toBe(0);

    // Through an owner connection, the last account in the export's order gets another
    // account's ciphertext: bound to another row, it does not decrypt.
    const owner = await openDatabase({
      url: database.url ?? undefined,
      pgliteDir: path.join(env.ACCOUNTDB_DATA_DIR ?? '', 'pglite'),
    });
    try {
      await owner.ownerDb.execute(
        sql.raw(`UPDATE accounts SET secrets_enc = (SELECT secrets_enc FROM accounts ORDER BY created_at, id LIMIT 1)
                 WHERE id = (SELECT id FROM accounts ORDER BY created_at DESC, id DESC LIMIT 1)`),
      );
    } finally {
      await owner.close();
    }

    const output = path.join(dir, 'broken.json');
    const exported = cli([
      'export',
      'accounts',
      '--user',
      'root',
      '--output',
      output,
      '--include-secrets',
    ]);
    expect(exported.status, exported.stderr).toBe(1);
    expect(exported.stderr).toMatch(
      /accounts: the export failed and is incomplete: The export stopped after 1000 row\(s\) because of an error; this file is incomplete\. Quote request id \S+ when reporting it\./,
    );
    expect(existsSync(output)).toBe(false);
    // Without the secrets nothing is decrypted: the same export completes.
    const plain = cli(['export', 'accounts', '--user', 'root', '--output', output]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toHaveLength(1005);
  }, 300_000);
});

describe('password prompt', () => {
  /** A fake terminal: what is typed goes in, what the user would see comes out. */
  function terminal() {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = Object.assign(new PassThrough(), { isTTY: true });
    let seen = '';
    output.on('data', (chunk) => {
      seen += String(chunk);
    });
    return { terminal: { input, output }, input, seen: () => seen };
  }
  const type = (input: PassThrough, ...lines: string[]) => {
    for (const [i, line] of lines.entries())
      setTimeout(() => input.write(`${line}\r`), 20 * (i + 1));
  };

  it('asks twice, shows nothing typed, and asks again on a mismatch or a short one', async () => {
    const t = terminal();
    type(
      t.input,
      'short',
      'a good long password',
      'a different one!',
      'a good long password',
      'a good long password',
    );
    const password = await askNewPassword({ min: 12, max: 200, terminal: t.terminal });
    expect(password).toBe('a good long password');
    expect(t.seen()).toContain('The password must have 12 to 200 characters.');
    expect(t.seen()).toContain('The two do not match.');
    expect(t.seen()).not.toContain('good long');
    expect(t.seen()).not.toContain('short');
  });

  it('gives up after three tries', async () => {
    const t = terminal();
    type(t.input, 'x', 'y', 'z');
    await expect(askNewPassword({ min: 12, max: 200, terminal: t.terminal })).rejects.toThrow(
      'no password set',
    );
  });
});
