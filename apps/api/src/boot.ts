import path from 'node:path';
import { type Config, ConfigError, loadConfig } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';

/** Parses the config or stops the process with a message naming the bad variable. */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`accountdb: configuration error: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * Opens the configured database: PostgreSQL at DATABASE_URL (and DATABASE_OWNER_URL), else
 * PGlite in the data dir.
 */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return openDatabase({
    url: config.databaseUrl,
    ownerUrl: config.databaseOwnerUrl,
    pgliteDir: config.databaseUrl ? undefined : path.join(config.dataDir, 'pglite'),
  });
}

export async function openAndMigrate(
  config: Config,
  log: (msg: string) => void,
): Promise<Database> {
  const database = await openConfiguredDatabase(config);
  try {
    await runMigrations(database.raw, { log });
    // The request login is checked (and, on a single owner URL, provisioned) before anything
    // else runs, so a login that could bypass the policies stops the start with the reason.
    await database.ready();
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
