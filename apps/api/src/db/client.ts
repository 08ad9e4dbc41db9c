import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { type Schema, schema } from './schema.js';

/** Drizzle over either driver: the same queries run on PostgreSQL and on PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** The raw driver, for what Drizzle does not do (multi-statement migration files). */
export type RawDriver = { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; pglite: PGlite };

export interface Database {
  db: Db;
  raw: RawDriver;
  /** A short description for logs: "postgres://host:port/name" or "pglite:/path". */
  describe: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; unset → embedded PGlite. */
  url?: string | undefined;
  /** PGlite directory; unset with no url → in-memory (tests). */
  pgliteDir?: string | undefined;
  poolMax?: number;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // A client that loses its connection must not crash the process. The pool listens for
    // errors of idle clients only; a checked-out client (a request's transaction) with no
    // listener of its own would throw its socket error as an uncaught 'error' event. Its
    // queries fail with the error anyway, and the pool drops it when it is released.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return {
      db,
      raw: { kind: 'postgres', pool },
      describe: redactUrl(options.url),
      close: () => pool.end(),
    };
  }
  let dir: string | undefined;
  let unlock = () => {};
  if (options.pgliteDir) {
    dir = path.resolve(options.pgliteDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    unlock = lockDataDir(dir);
  }
  // The extensions the migrations create must be bundled into PGlite up front.
  const extensions = { pg_trgm };
  const pglite = dir ? new PGlite(dir, { extensions }) : new PGlite({ extensions });
  await pglite.waitReady;
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  return {
    db,
    raw: { kind: 'pglite', pglite },
    describe: dir ? `pglite:${dir}` : 'pglite:memory',
    close: async () => {
      await pglite.close();
      unlock();
    },
  };
}

/**
 * The embedded database is one process's: a second process opening the same directory
 * (an API and a CLI at once) would corrupt it. A lock file beside it holds the owner's pid.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new Error(
          `the embedded database ${dir} is in use by process ${pid}; stop that process first (several processes need DATABASE_URL)`,
        );
      }
      rmSync(lockFile, { force: true }); // left behind by a process that is gone
    }
  }
  throw new Error(`could not lock the embedded database ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
