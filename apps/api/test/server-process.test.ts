import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  baseEnv,
  freePort,
  killServers,
  type Server,
  START_TIMEOUT_MS,
  sleep,
  start,
  stop,
  until,
  waitHealthy,
} from './helpers/server-process.js';
import { createTestDatabase } from './helpers/test-db.js';

afterEach(killServers);

/**
 * The real server process: starts on the embedded database (or PostgreSQL), answers health,
 * tells an empty database's operator how to create the admin, and stops cleanly on SIGTERM.
 */

async function setupNeeded(s: Server): Promise<boolean> {
  const res = await fetch(`${s.url}/api/v1/auth/setup`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { needed: boolean }).needed;
}

const FIRST_VISIT = /first visit creates the admin/;

/** The lines of the README's "On a new data directory it prints:" block, but '…'. */
function readmeStartLines(): string[] {
  const readme = readFileSync(path.join(import.meta.dirname, '../../../README.md'), 'utf8');
  const block = /On a new data directory it prints:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  const lines = (block ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('…'));
  expect(lines.length).toBeGreaterThan(3);
  return lines;
}

describe('server process on the embedded database', () => {
  it(
    'starts, answers health, says the first visit creates the admin, and exits 0 on SIGTERM',
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'adb-server-'));
      const port = await freePort();
      const env = {
        ...baseEnv(),
        ACCOUNTDB_DATA_DIR: dataDir,
        API_PORT: String(port),
        API_HOST: '127.0.0.1',
      };
      const server = start(env, port);
      await waitHealthy(server);
      expect(await setupNeeded(server)).toBe(true);
      await until(server, 'the first-visit hint', () => FIRST_VISIT.test(server.stdout()));
      expect(server.stdout()).toContain(`http://127.0.0.1:${port}/api`);
      expect(server.stdout()).toContain('applied migration 0001_foundation.sql');
      // What the README says a start on a new data directory prints, line by line (its port
      // is the default 8080; '…' stands for the migrations between).
      const lines = readmeStartLines();
      for (const line of lines) {
        expect(server.stdout()).toContain(line.replaceAll(':8080', `:${port}`));
      }
      const newest = readdirSync(path.join(import.meta.dirname, '../migrations'))
        .sort()
        .at(-1);
      expect(lines.filter((l) => l.includes('applied migration')).at(-1)).toBe(
        `accountdb: applied migration ${newest}`,
      );
      // The embedded database and the generated keys live in the data dir, keys 0600.
      expect(existsSync(path.join(dataDir, 'pglite'))).toBe(true);
      for (const file of ['secret.key', 'jwt.key']) {
        expect(statSync(path.join(dataDir, file)).mode & 0o777, file).toBe(0o600);
      }
      expect(server.stdout()).toMatch(/ACCOUNTDB_SECRET_KEY is not set: generated a key/);

      // Create the admin over HTTP, then stop.
      const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'first_admin',
          email: 'first_admin@example.com',
          password: 'a long enough first password',
        }),
      });
      expect(setup.status, await setup.clone().text()).toBe(201);
      expect(await stop(server)).toBe(0);

      // Second start on the same data dir: same keys (no new ones), data kept, no migration,
      // no first-visit hint.
      const port2 = await freePort();
      const again = start({ ...env, API_PORT: String(port2) }, port2);
      await waitHealthy(again);
      expect(await setupNeeded(again)).toBe(false);
      await until(again, 'the ready line', () => again.stdout().includes('is running at'));
      expect(again.stdout()).not.toMatch(FIRST_VISIT);
      expect(again.stdout()).not.toContain('applied migration');
      expect(again.stdout()).not.toContain('generated a key');
      const login = await fetch(`${again.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'first_admin', password: 'a long enough first password' }),
      });
      expect(login.status).toBe(200);
      expect(await stop(again)).toBe(0);
    },
    3 * START_TIMEOUT_MS,
  );

  it(
    'a bad API_PORT stops the start with a non-zero exit naming the variable',
    async () => {
      const server = start(
        {
          ...baseEnv(),
          ACCOUNTDB_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'adb-server-')),
          API_PORT: 'notaport',
        },
        0,
      );
      const result = await Promise.race([
        server.exited,
        sleep(START_TIMEOUT_MS).then(() => 'timeout' as const),
      ]);
      expect(result).not.toBe('timeout');
      if (result === 'timeout') return;
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(server.stderr()).toContain('API_PORT');
      expect(server.stdout()).not.toContain('is running at');
    },
    START_TIMEOUT_MS + 10_000,
  );
});

describe('server process on PostgreSQL', () => {
  it.skipIf(!inject('pgTemplate'))(
    'starts on DATABASE_URL, answers health and setup, and exits 0 on SIGTERM',
    async () => {
      const database = await createTestDatabase({ poolMax: 1 });
      try {
        const url = database.url;
        if (!url) throw new Error('createTestDatabase gave no URL on PostgreSQL');
        const dataDir = mkdtempSync(path.join(tmpdir(), 'adb-server-'));
        const port = await freePort();
        const server = start(
          {
            ...baseEnv(),
            DATABASE_URL: url,
            ACCOUNTDB_DATA_DIR: dataDir,
            API_PORT: String(port),
            API_HOST: '127.0.0.1',
          },
          port,
        );
        await waitHealthy(server);
        expect(await setupNeeded(server)).toBe(true);
        await until(server, 'the first-visit hint', () => FIRST_VISIT.test(server.stdout()));
        // No embedded database was made, and the password is not in the log.
        expect(existsSync(path.join(dataDir, 'pglite'))).toBe(false);
        const password = new URL(url).password;
        if (password) expect(server.stdout()).not.toContain(password);
        expect(await stop(server)).toBe(0);
      } finally {
        await database.drop();
      }
    },
    2 * START_TIMEOUT_MS,
  );
});
