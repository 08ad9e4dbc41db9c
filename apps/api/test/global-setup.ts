import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set when tests run on real PostgreSQL: a migrated template to copy per test file. */
    pgTemplate: { adminUrl: string; template: string } | null;
  }
}

export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * On PostgreSQL, migrates one template database per run; each test file then gets a fresh
 * copy of it (CREATE DATABASE … TEMPLATE), which is much faster than migrating each time.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const adminUrl = testDatabaseUrl();
  if (!adminUrl) {
    project.provide('pgTemplate', null);
    return undefined;
  }
  const template = `adb_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const db = await openDatabase({ url: withDatabase(adminUrl, template), poolMax: 1 });
  try {
    await runMigrations(db.raw);
  } finally {
    await db.close();
  }
  project.provide('pgTemplate', { adminUrl, template });
  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.end();
  };
}
