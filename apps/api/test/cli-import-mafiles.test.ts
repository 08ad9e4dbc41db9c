import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdaEncrypt, sdaManifest, sdaNewText, sdaOldText } from './helpers/ma-files.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * `accountdb import accounts <maFiles folder>` as an operator runs it: an SDA folder with
 * encrypted files (helpers/ma-files.ts: SDA's scheme done with node:crypto), the passkey from
 * the environment or a file, never from the command line.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const key = () => randomBytes(32).toString('base64');
const PASSKEY = 'sda passkey for the cli';
const IDS = ['76561198000000401', '76561198000000402', '76561198000000403'];

let database: TestDatabase;
let env: Record<string, string>;
let dir: string;
let maFiles: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'adb-mafiles-'));
  env = {
    ACCOUNTDB_DATA_DIR: path.join(dir, 'data'),
    ACCOUNTDB_SECRET_KEY: key(),
    ACCOUNTDB_JWT_SECRET: key(),
  };
  database = await createTestDatabase();
  if (database.url) env.DATABASE_URL = database.url;
  else await database.drop();
  // An SDA maFiles/ folder: three encrypted files, each with its own salt and IV.
  maFiles = path.join(dir, 'maFiles');
  mkdirSync(maFiles);
  const entries = IDS.map((id, i) => ({
    filename: `${id}.maFile`,
    steamId: id,
    salt: randomBytes(8),
    iv: randomBytes(16),
    text: (i % 2 ? sdaNewText : sdaOldText)({ steamId: id, name: `cli_${i}`, serial: `${i}` }),
  }));
  writeFileSync(path.join(maFiles, 'manifest.json'), sdaManifest({ encrypted: true, entries }));
  for (const e of entries) {
    writeFileSync(path.join(maFiles, e.filename), sdaEncrypt({ passkey: PASSKEY, ...e }));
  }
  writeFileSync(path.join(maFiles, 'notes.txt'), 'not a maFile: left alone');
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

describe('accountdb import accounts <maFiles folder>', () => {
  it('asks for the passkey where it may, decrypts with it, and refuses a wrong one', () => {
    const made = cli(['create-admin', '--username', 'root', '--email', 'root@example.test'], {
      ACCOUNTDB_ADMIN_PASSWORD: 'a long admin password',
    });
    expect(made.status, made.stderr).toBe(0);

    // No terminal, no file, no variable: it says where the passkey may come from.
    const none = cli(['import', 'accounts', maFiles, '--user', 'root']);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('--passkey-file, ACCOUNTDB_SDA_PASSKEY or on a terminal');

    const wrongFile = path.join(dir, 'wrong.txt');
    writeFileSync(wrongFile, 'not the passkey\n');
    const wrong = cli([
      'import',
      'accounts',
      maFiles,
      '--user',
      'root',
      '--passkey-file',
      wrongFile,
    ]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(
      /The file 76561198000000401\.maFile does not open with this passkey/,
    );
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain('not the passkey');

    // A dry run in batches of one: every file checked, nothing written.
    const dry = cli(
      ['import', 'accounts', maFiles, '--user', 'root', '--dry-run', '--batch-size', '1'],
      {
        ACCOUNTDB_SDA_PASSKEY: PASSKEY,
      },
    );
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      'dry run, nothing written: accounts for root: 3 created, 0 failed',
    );
    expect(dry.stderr).toContain('3 of 3 files');

    const goodFile = path.join(dir, 'passkey.txt');
    writeFileSync(goodFile, `${PASSKEY}\n`);
    const real = cli(['import', 'accounts', maFiles, '--user', 'root', '--passkey-file', goodFile]);
    expect(real.status, real.stderr).toBe(0);
    expect(real.stdout).toContain('accounts for root: 3 created, 0 failed');
    const again = cli(['import', 'accounts', maFiles, '--user', 'root'], {
      ACCOUNTDB_SDA_PASSKEY: PASSKEY,
    });
    expect(again.stdout).toContain('accounts for root: 0 created, 3 updated, 0 failed');
  }, 240_000);

  it('stops at a batch with a bad file, naming it, and resumes with --skip', () => {
    const bad = path.join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(
      path.join(bad, 'a.maFile'),
      sdaOldText({ steamId: '76561198000000501', name: 'bad_a', serial: '1' }),
    );
    writeFileSync(path.join(bad, 'b.maFile'), '{"account_name": "b", "shared_secret": "short"}');
    writeFileSync(
      path.join(bad, 'c.maFile'),
      sdaNewText({ steamId: '76561198000000503', name: 'bad_c', serial: '3' }),
    );
    const run = cli(['import', 'accounts', bad, '--user', 'root', '--batch-size', '1']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('accounts for root: 1 created, 1 failed');
    expect(run.stdout).toMatch(/row 2: b\.maFile: shared_secret has a length base64 cannot have/);
    expect(run.stdout).toContain('--skip 1');
    const resumed = cli(['import', 'accounts', bad, '--user', 'root', '--skip', '2']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('accounts for root: 1 created, 0 failed');
  }, 120_000);
});
