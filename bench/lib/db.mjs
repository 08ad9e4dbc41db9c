import pg from 'pg';
import { apiModule } from './api-modules.mjs';

/** Statement withTenant() (apps/api/src/db/tenant.ts) opens every request transaction with. */
export const TENANT_SQL =
  "SELECT set_config('role', 'accountdb_app', true), set_config('app.ctx', app_context_seal($1, $2), true)";

const contextKeys = new WeakMap();

/**
 * The parameters of TENANT_SQL for `actor` ({userId, role}): claims signed with the
 * database's context key (read once per pool, as the schema owner), as withTenant() signs
 * them. A signature is good for 15 minutes.
 */
export async function tenantParams(db, actor) {
  if (!contextKeys.has(db)) {
    const { rows } = await db.query('SELECT key FROM app_context_keys WHERE id = 1');
    contextKeys.set(db, rows[0].key);
  }
  const { signContext } = await apiModule.tenantContext();
  const signed = signContext(contextKeys.get(db), {
    userId: actor.userId ?? '',
    role: actor.role,
    nodeId: '',
  });
  return [signed.claims, signed.signature];
}

export function databaseName(url) {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function maintenanceUrl(url) {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

/**
 * Creates the database of `url` when missing; with fresh, drops and recreates it. Only
 * databases named bench_* are ever dropped.
 */
export async function ensureDatabase(url, { fresh }) {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: maintenanceUrl(url) });
  await admin.connect();
  try {
    const ident = admin.escapeIdentifier(name);
    if (fresh) {
      if (!name.startsWith('bench_')) {
        throw new Error(`refusing to drop "${name}": only bench_* databases are recreated`);
      }
      await admin.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    }
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${ident}`);
  } finally {
    await admin.end();
  }
}

export function pool(url, max = 4) {
  const p = new pg.Pool({ connectionString: url, max });
  p.on('error', () => {});
  return p;
}

/**
 * Runs fn(client) in one transaction acting as `actor` ({userId, role}) under row-level
 * security, exactly as the API's withTenant() does.
 */
export async function asTenant(db, actor, fn) {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(TENANT_SQL, await tenantParams(db, actor));
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** A user of the seeded database, by index (1-based), as {id, username}. */
export async function benchUser(db, index) {
  const username = benchUsername(index);
  const { rows } = await db.query('SELECT id, username FROM users WHERE username = $1', [username]);
  if (!rows[0]) {
    throw new Error(`no user ${username} in the database: run \`npm run bench -- seed\` first`);
  }
  return rows[0];
}

export const BENCH_PASSWORD = 'bench-password-not-secret';
export const benchUsername = (index) => `bench_user_${String(index).padStart(4, '0')}`;

export async function scaleOf(db) {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM users)::int AS users,
            (SELECT reltuples FROM pg_class WHERE oid = 'vms'::regclass)::bigint AS vms,
            (SELECT reltuples FROM pg_class WHERE oid = 'accounts'::regclass)::bigint AS accounts`,
  );
  return { users: rows[0].users, vms: Number(rows[0].vms), accounts: Number(rows[0].accounts) };
}
