import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { withDatabase } from '../global-setup.js';

export interface TestDatabase extends Database {
  kind: 'postgres' | 'pglite';
  /** URL of the test database (PostgreSQL only), connecting as the schema owner. */
  url: string | null;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a copy of the run's template on real
 * PostgreSQL (TEST_DATABASE_URL / DATABASE_URL), else an in-memory PGlite.
 */
export async function createTestDatabase(
  options: { poolMax?: number } = {},
): Promise<TestDatabase> {
  const tpl = inject('pgTemplate');
  if (!tpl) {
    const database = await openDatabase({});
    await runMigrations(database.raw);
    return { ...database, kind: 'pglite', url: null, drop: () => database.close() };
  }
  const name = `adb_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: tpl.adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${tpl.template}`);
        break;
      } catch (err) {
        // Two files copying the template at the same instant: "source database is being accessed".
        if (attempt >= 20 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(tpl.adminUrl, name);
  const database = await openDatabase({ url, poolMax: options.poolMax ?? 5 });
  return {
    ...database,
    kind: 'postgres',
    url,
    drop: async () => {
      await database.close();
      const a = new pg.Client({ connectionString: tpl.adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
