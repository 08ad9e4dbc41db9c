import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import {
  type ListenOptions,
  listenPglite,
  type StopListening,
  sharedPostgresListener,
} from './listener.js';
import { nodePgTransactionWith, type TransactionWith } from './one-trip-transaction.js';
import {
  AUTHENTICATOR_ROLE,
  authenticatorPassword,
  inspectRequestLogin,
  provisionAuthenticator,
  requestLoginProblems,
} from './request-login.js';
import { type Schema, schema } from './schema.js';

/** Drizzle over either driver: the same queries run on PostgreSQL and on PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** The raw driver, for what Drizzle does not do (multi-statement migration files). */
export type RawDriver = { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; pglite: PGlite };

export interface Database {
  /**
   * The request connections. Every query on them goes through withTenant(). On PostgreSQL
   * they log in as a role that owns nothing and can only become accountdb_app (the
   * provisioned accountdb_authenticator, or DATABASE_URL's role when DATABASE_OWNER_URL
   * names the owner); on the embedded database they are its one session.
   */
  db: Db;
  /**
   * On PostgreSQL: a transaction of the request connections whose BEGIN goes with a first
   * statement in one round trip (withTenant's context); absent on the embedded database,
   * where a round trip is a function call.
   */
  transactionWith?: TransactionWith;
  /** The schema owner's connections: migrations, the owner-only CLI functions, doctor. */
  ownerDb: Db;
  /** The schema owner's raw driver (migrations, tests looking behind the API's back). */
  raw: RawDriver;
  /** The request pool on PostgreSQL (metrics); null on the embedded database. */
  requestPool: pg.Pool | null;
  /**
   * The database's context key (migration 0007), which signs every tenant context. Loads it
   * as the owner on first use and checks the request login before the first request.
   */
  contextKey(): Promise<Buffer>;
  /** Checks (and on a single owner URL provisions) the request login; loads the context key. */
  ready(): Promise<void>;
  /**
   * LISTEN on a channel (live updates, the credential cache): on PostgreSQL on one
   * connection of its own, shared by every channel, as the request login (never the owner);
   * on the embedded database in its one session.
   */
  listen(options: ListenOptions): Promise<StopListening>;
  /** A short description for logs: "postgres://host:port/name" or "pglite:/path". */
  describe: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * PostgreSQL URL; unset → embedded PGlite. Alone, it is the schema owner and requests use
   * the provisioned accountdb_authenticator; with ownerUrl, it is the request login itself.
   */
  url?: string | undefined;
  /** PostgreSQL URL of the schema owner, when url is the request login (DATABASE_OWNER_URL). */
  ownerUrl?: string | undefined;
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

function newPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    ...config,
  });
  // A client that loses its connection must not crash the process. The pool listens for
  // errors of idle clients only; a checked-out client (a request's transaction) with no
  // listener of its own would throw its socket error as an uncaught 'error' event. Its
  // queries fail with the error anyway, and the pool drops it when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/** Runs fn once; a failure is not remembered, so a later call tries again. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= fn().catch((err) => {
      pending = null;
      throw err;
    });
    return pending;
  };
}

async function readContextKey(query: (sql: string) => Promise<unknown[]>): Promise<Buffer> {
  let rows: unknown[];
  try {
    rows = await query('SELECT key FROM app_context_keys WHERE id = 1');
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') {
      throw new Error('the database has no context key: run the migrations (accountdb migrate)');
    }
    throw err;
  }
  const key = (rows[0] as { key?: Uint8Array } | undefined)?.key;
  if (!key) throw new Error('the database has no context key (app_context_keys is empty)');
  return Buffer.from(key);
}

async function checkRequestLogin(pool: pg.Pool): Promise<void> {
  const problems = requestLoginProblems(await inspectRequestLogin(pool));
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('; ')}. Requests must log in as a role that owns nothing and can only become accountdb_app (see docs/operations.md)`,
    );
  }
}

function openPostgres(options: OpenDatabaseOptions & { url: string }): Database {
  const max = options.poolMax ?? 10;
  const ownerUrl = options.ownerUrl ?? options.url;
  const owner = newPool({ connectionString: ownerUrl, max: options.ownerUrl ? 2 : max });
  const ownerQuery = async (text: string) => (await owner.query(text)).rows as unknown[];
  const contextKey = once(() => readContextKey(ownerQuery));
  // Alone, DATABASE_URL is the owner: requests log in as the provisioned role, with a
  // password derived from the context key.
  const provisioned = options.ownerUrl === undefined;
  const loginPassword = async () => authenticatorPassword(await contextKey());
  // Not a connectionString for the provisioned login: its values would win over user and
  // password (pg parses it over the other options).
  const loginConfig = (password: string | (() => Promise<string>)): pg.PoolConfig => ({
    ...parseIntoClientConfig(options.url),
    user: AUTHENTICATOR_ROLE,
    password,
  });
  const request = newPool(
    provisioned ? { ...loginConfig(loginPassword), max } : { connectionString: options.url, max },
  );
  const ready = once(async () => {
    const key = await contextKey();
    if (provisioned) {
      await provisionAuthenticator({
        owner,
        login: { ...loginConfig(authenticatorPassword(key)), password: authenticatorPassword(key) },
      });
    }
    await checkRequestLogin(request);
  });
  // One LISTEN connection for every channel (live events, the credential cache).
  const listen = sharedPostgresListener(async () => {
    // Named, so that an operator can tell it in pg_stat_activity.
    const application_name = 'accountdb-events';
    if (!provisioned) return { connectionString: options.url, application_name };
    const password = await loginPassword();
    return { ...loginConfig(password), password, application_name };
  });
  const db = drizzlePg(request, { schema }) as unknown as Db;
  return {
    db,
    transactionWith: nodePgTransactionWith(request, db),
    ownerDb: drizzlePg(owner, { schema }) as unknown as Db,
    raw: { kind: 'postgres', pool: owner },
    requestPool: request,
    contextKey: async () => {
      await ready();
      return contextKey();
    },
    ready,
    listen: async (listenOptions) => {
      await ready();
      return listen(listenOptions);
    },
    describe: redactUrl(options.url),
    close: async () => {
      await Promise.all([request.end(), owner.end()]);
    },
  };
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres({ ...options, url: options.url });
  let dir: string | undefined;
  let unlock = () => {};
  if (options.pgliteDir) {
    dir = path.resolve(options.pgliteDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    unlock = lockDataDir(dir);
  }
  // The extensions the migrations create must be bundled into PGlite up front.
  const extensions = { btree_gin, pg_trgm };
  const pglite = dir ? new PGlite(dir, { extensions }) : new PGlite({ extensions });
  await pglite.waitReady;
  // One session, the embedded cluster's superuser: requests drop to accountdb_app inside
  // their transactions, and the signed context holds; a separate login is not possible here
  // (see docs/architecture.md, "What the embedded database cannot do").
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  const contextKey = once(() =>
    readContextKey(async (text) => (await pglite.query(text)).rows as unknown[]),
  );
  return {
    db,
    ownerDb: db,
    raw: { kind: 'pglite', pglite },
    requestPool: null,
    contextKey,
    ready: async () => {
      await contextKey();
    },
    listen: (listenOptions) => listenPglite(pglite, listenOptions),
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
