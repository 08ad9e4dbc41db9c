import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterKey, unwrapDataKey, wrapDataKey } from '../src/crypto/envelope.js';
import { ownerQuery } from './helpers/support.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * `accountdb rotate-key` as a process, killed with SIGKILL half-way through and run again:
 * every data key ends up under the new master key and unwraps to the key it held before.
 * Each batch is its own transaction, so a kill loses at most the batch in flight. Needs
 * PostgreSQL (a second process on the embedded database is refused by design).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KEYS = 400;
const OLD_KEY = randomBytes(32);
const NEW_KEY = randomBytes(32);
const OLD = masterKey(OLD_KEY);
const NEW = masterKey(NEW_KEY);
const originals = new Map<string, Buffer>();

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  if (!database.url) return;
  const users = await ownerQuery<{ id: string }>(
    database,
    `INSERT INTO users (username, email, password_hash)
     SELECT 'rot' || g, 'rot' || g || '@example.test', 'x' FROM generate_series(1, ${KEYS}) g
     RETURNING id`,
  );
  const values: string[] = [];
  const params: unknown[] = [];
  for (const { id } of users) {
    const key = randomBytes(32);
    originals.set(id, key);
    params.push(id, wrapDataKey(OLD, key, id));
    values.push(`($${params.length - 1}::uuid, '${OLD.kid}', $${params.length})`);
  }
  await ownerQuery(
    database,
    `INSERT INTO data_keys (owner_id, master_kid, wrapped_key) VALUES ${values.join(', ')}`,
    params,
  );
});
afterAll(async () => database?.drop());

/** Runs the CLI; with killAfter, SIGKILLs it once it reports that many keys re-wrapped. */
function rotate(killAfter?: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'apps/api/src/cli.ts'), 'rotate-key', '--batch-size', '1'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: database.url ?? '',
        ACCOUNTDB_SECRET_KEY: NEW_KEY.toString('base64'),
        ACCOUNTDB_SECRET_KEY_PREVIOUS: OLD_KEY.toString('base64'),
        ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
        ACCOUNTDB_DATA_DIR: path.join(ROOT, 'apps/api/data-unused'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let killedAt: number | null = null;
  child.stdout.on('data', (chunk) => {
    out += String(chunk);
    const done = [...out.matchAll(/re-wrapped (\d+) of/g)].map((m) => Number(m[1])).at(-1) ?? 0;
    if (killAfter !== undefined && killedAt === null && done >= killAfter) {
      killedAt = done;
      child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (chunk) => {
    out += String(chunk);
  });
  return new Promise<{
    code: number | null;
    signal: string | null;
    out: string;
    killedAt: number | null;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, killedAt })));
}

const kids = async () =>
  ownerQuery<{ owner_id: string; master_kid: string; wrapped_key: Buffer }>(
    database,
    'SELECT owner_id, master_kid, wrapped_key FROM data_keys',
  );

describe.skipIf(!process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL)(
  'accountdb rotate-key killed half-way',
  () => {
    it('loses nothing: a re-run finishes and every key unwraps under the new key to what it was', async () => {
      const killed = await rotate(KEYS / 4);
      expect(killed.signal, killed.out).toBe('SIGKILL');
      const half = await kids();
      const moved = half.filter((k) => k.master_kid === NEW.kid).length;
      // Stopped part-way: some keys under each master key, none under any other.
      expect(moved).toBeGreaterThanOrEqual(KEYS / 4);
      expect(moved).toBeLessThan(KEYS);
      expect(half.every((k) => k.master_kid === NEW.kid || k.master_kid === OLD.kid)).toBe(true);

      const finished = await rotate();
      expect(finished.code, finished.out).toBe(0);
      expect(finished.out).toContain('every data key is now under the current key');
      const after = await kids();
      expect(after).toHaveLength(KEYS);
      for (const k of after) {
        expect(k.master_kid).toBe(NEW.kid);
        expect(
          unwrapDataKey(NEW, k.wrapped_key, k.owner_id).equals(originals.get(k.owner_id) as Buffer),
        ).toBe(true);
        expect(() => unwrapDataKey(OLD, k.wrapped_key, k.owner_id)).toThrow();
      }
    }, 180_000);
  },
);
