import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RawDriver } from './client.js';

/** The plain-SQL migrations shipped with the API (apps/api/migrations/NNNN_name.sql). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(`${dir}/${name}`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** One connection's worth of statements, the same for both drivers. */
interface Session {
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

async function withSession<T>(raw: RawDriver, fn: (s: Session) => Promise<T>): Promise<T> {
  if (raw.kind === 'pglite') {
    const p = raw.pglite;
    return fn({
      exec: async (sql) => {
        await p.exec(sql);
      },
      query: async <R>(sql: string, params?: unknown[]) =>
        (await p.query<R>(sql, params as never[])).rows,
    });
  }
  const client = await raw.pool.connect();
  try {
    return await fn({
      exec: async (sql) => {
        await client.query(sql);
      },
      query: async <R>(sql: string, params?: unknown[]) =>
        (await client.query(sql, params)).rows as R[],
    });
  } finally {
    client.release();
  }
}

const LOCK_KEY = 'accountdb.migrate';

/**
 * Applies every migration not yet applied, each in its own transaction, in file-name order.
 * Several processes starting at once are serialised by an advisory lock. A migration that
 * changed after it was applied stops everything: migrations are immutable once landed.
 */
export async function runMigrations(
  raw: RawDriver,
  options: { dir?: string; log?: (msg: string) => void } = {},
): Promise<string[]> {
  const migrations = readMigrations(options.dir);
  return withSession(raw, async (s) => {
    await s.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_KEY]);
    try {
      await s.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = new Map(
        (
          await s.query<{ name: string; checksum: string }>(
            'SELECT name, checksum FROM schema_migrations',
          )
        ).map((r) => [r.name, r.checksum]),
      );
      const known = new Set(migrations.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!known.has(name)) {
          throw new MigrationError(
            `the database has migration ${name}, which this version does not know: it was written by a newer AccountDB`,
          );
        }
      }
      const done: string[] = [];
      for (const m of migrations) {
        const checksum = applied.get(m.name);
        if (checksum !== undefined) {
          if (checksum !== m.checksum) {
            throw new MigrationError(
              `migration ${m.name} was changed after it was applied; migrations are immutable — put the change in a new file`,
            );
          }
          continue;
        }
        await s.exec('BEGIN');
        try {
          await s.exec(m.sql);
          await s.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
            m.name,
            m.checksum,
          ]);
          await s.exec('COMMIT');
        } catch (err) {
          await s.exec('ROLLBACK');
          throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
        }
        options.log?.(`applied migration ${m.name}`);
        done.push(m.name);
      }
      return done;
    } finally {
      await s.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY]);
    }
  });
}
