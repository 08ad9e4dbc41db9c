import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { scramVerifier } from '../src/db/request-login.js';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { createFirstAdmin, setupNeeded } from '../src/modules/auth/definer-functions.js';
import { testDatabaseUrl, withDatabase } from './global-setup.js';

/**
 * The login requests connect as (migration 0007): DATABASE_URL alone is the owner and the API
 * provisions accountdb_authenticator; with DATABASE_OWNER_URL, DATABASE_URL is a login of the
 * operator's, which the API checks before it serves anything. PostgreSQL only: the embedded
 * database has one session and no logins.
 */
const adminUrl = testDatabaseUrl();
const tag = randomBytes(4).toString('hex');
const ownerRole = `adb_owner_${tag}`;
const requestRole = `adb_req_${tag}`;
const ownsRole = `adb_owns_${tag}`;
const dbName = `adb_login_${tag}`;
let admin: pg.Client;
const opened: Database[] = [];

const urlAs = (user: string) => {
  const u = new URL(withDatabase(adminUrl ?? 'postgres://x@127.0.0.1/x', dbName));
  u.username = user;
  u.password = '';
  return u.toString();
};

async function open(options: { url: string; ownerUrl?: string }): Promise<Database> {
  const database = await openDatabase({ ...options, poolMax: 2 });
  opened.push(database);
  return database;
}

describe.skipIf(!adminUrl)('the request login (PostgreSQL)', () => {
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    // An owner that is not a superuser and may not create roles: migrations must still run
    // (migration 0007 then leaves the request login to the operator).
    await admin.query(`CREATE ROLE ${ownerRole} LOGIN NOSUPERUSER NOCREATEROLE`);
    await admin.query(`CREATE DATABASE ${dbName} OWNER ${ownerRole}`);
    await admin.query(`GRANT accountdb_app TO ${ownerRole}`);
    await admin.query(`GRANT SET ON PARAMETER app.role TO ${ownerRole}`);
    await admin.query(`CREATE ROLE ${requestRole} LOGIN NOINHERIT`);
    await admin.query(`GRANT accountdb_app TO ${requestRole}`);
    await admin.query(`CREATE ROLE ${ownsRole} LOGIN NOINHERIT`);
    await admin.query(`GRANT accountdb_app TO ${ownsRole}`);
  });

  afterAll(async () => {
    for (const database of opened) await database.close().catch(() => {});
    if (!admin) return;
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`REVOKE SET ON PARAMETER app.role FROM ${ownerRole}`);
    for (const role of [ownsRole, requestRole, ownerRole]) {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    }
    await admin.end();
  });

  it('migrates with an owner that is neither superuser nor CREATEROLE', async () => {
    const migrating = await open({ url: urlAs(ownerRole) });
    const applied = await runMigrations(migrating.raw);
    expect(applied).toContain('0007_signed_tenant_context.sql');
  });

  it("serves requests through an operator's own login given with DATABASE_OWNER_URL", async () => {
    const database = await open({ url: urlAs(requestRole), ownerUrl: urlAs(ownerRole) });
    await database.ready();
    expect(await setupNeeded(database)).toBe(true);
    const id = await createFirstAdmin(database, {
      username: `root_${tag}`,
      email: `root_${tag}@example.com`,
      passwordHash: 'x',
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await setupNeeded(database)).toBe(false);
  });

  it('leaves the search functions to an owner that may not take accountdb_search; they still answer', async () => {
    const database = await open({ url: urlAs(requestRole), ownerUrl: urlAs(ownerRole) });
    await database.ready();
    const owners = rowsOf<{ owner: string }>(
      await database.ownerDb.execute(
        sql`SELECT DISTINCT pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE proname LIKE 'search\_%'`,
      ),
    );
    expect(owners).toEqual([{ owner: ownerRole }]);
    const [root] = rowsOf<{ id: string }>(
      await database.ownerDb.execute(sql`SELECT id FROM users WHERE username = ${`root_${tag}`}`),
    );
    const actor: Actor = {
      kind: 'user',
      userId: root?.id ?? '',
      username: `root_${tag}`,
      role: 'admin',
      via: 'session',
      scopes: ['read', 'write'],
    };
    const found = await withTenant(database, actor, async (tx) => {
      await tx.execute(
        sql`INSERT INTO accounts (owner_id, username) VALUES (${root?.id}::uuid, ${`findme_${tag}`})`,
      );
      return rowsOf<{ rank: number }>(
        await tx.execute(sql`SELECT rank FROM search_accounts(${`findme_${tag}`})`),
      );
    });
    expect(found.map((r) => Number(r.rank))).toEqual([0]);
  });

  it('refuses a superuser as the request login, naming the problem', async () => {
    const superuser = new URL(adminUrl ?? '').username || 'postgres';
    const database = await open({ url: urlAs(superuser), ownerUrl: urlAs(ownerRole) });
    await expect(database.ready()).rejects.toThrow(/is a superuser/);
  });

  it('refuses the owner itself as the request login', async () => {
    const database = await open({ url: urlAs(ownerRole), ownerUrl: urlAs(ownerRole) });
    await expect(database.ready()).rejects.toThrow(/owner of the tables/);
  });

  it('refuses a login that owns an object of the database', async () => {
    const owner = new pg.Client({ connectionString: withDatabase(adminUrl ?? '', dbName) });
    await owner.connect();
    try {
      await owner.query(`CREATE TABLE owned_${tag} (x int)`);
      await owner.query(`ALTER TABLE owned_${tag} OWNER TO ${ownsRole}`);
    } finally {
      await owner.end();
    }
    const database = await open({ url: urlAs(ownsRole), ownerUrl: urlAs(ownerRole) });
    await expect(database.ready()).rejects.toThrow(/owns 1 object/);
  });

  it('refuses a login that may read the context key (it would pass for the owner)', async () => {
    const owner = new pg.Client({ connectionString: withDatabase(adminUrl ?? '', dbName) });
    await owner.connect();
    try {
      await owner.query(`GRANT SELECT ON app_context_keys TO ${requestRole}`);
      const database = await open({ url: urlAs(requestRole), ownerUrl: urlAs(ownerRole) });
      await expect(database.ready()).rejects.toThrow(/may read app_context_keys/);
    } finally {
      await owner.query(`REVOKE SELECT ON app_context_keys FROM ${requestRole}`);
      await owner.end();
    }
  });

  it('provisions accountdb_authenticator when DATABASE_URL alone is the owner', async () => {
    const database = await open({ url: withDatabase(adminUrl ?? '', dbName) });
    await database.ready();
    const { rows } = (await database.requestPool?.query('SELECT session_user AS who')) ?? {
      rows: [],
    };
    expect(rows[0]?.who).toBe('accountdb_authenticator');
  });

  it("sets its password as a SCRAM verifier PostgreSQL computes the same way (PostgreSQL's own as the oracle)", async () => {
    // PostgreSQL hashes a plain password itself with a random salt; the same password and
    // salt through scramVerifier() must give the same verifier.
    const role = `adb_scram_${tag}`;
    await admin.query("SET password_encryption = 'scram-sha-256'");
    await admin.query(`CREATE ROLE ${role} NOLOGIN PASSWORD 'pencil and paper'`);
    try {
      const { rows } = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [
        role,
      ]);
      const stored = String(rows[0]?.rolpassword);
      const salt = /^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(stored)?.[1];
      expect(salt).toBeDefined();
      expect(scramVerifier('pencil and paper', Buffer.from(salt ?? '', 'base64'))).toBe(stored);
    } finally {
      await admin.query(`DROP ROLE ${role}`);
    }
  });
});
