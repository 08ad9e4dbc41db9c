import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { buildApp, type EventLimits } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { AuthLimits } from '../../src/modules/auth/limits.js';
import type { SteamClock } from '../../src/modules/steam-time/steam-clock.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

/** A configuration for tests: fresh random keys, a temp data dir, no generated files. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const config = loadConfig({
    NODE_ENV: 'test',
    // Keys come from the environment, so nothing is ever written to the data dir.
    ACCOUNTDB_DATA_DIR: path.join(tmpdir(), 'adb-test-unused'),
    ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
    ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    // No test reaches Steam: the ones about Steam's clock give the app a fake source.
    ACCOUNTDB_STEAM_TIME_URL: 'off',
  });
  return { ...config, ...overrides };
}

/** Brute-force limits high enough that ordinary tests never meet them. */
export const RELAXED_LIMITS: Partial<AuthLimits> = { loginPerIp: 10_000, loginPerName: 10_000 };

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

/** The real app over a fresh test database. Close it in afterAll. */
export async function createTestApp(
  options: {
    config?: Partial<Config>;
    limits?: Partial<AuthLimits>;
    logStream?: DestinationStream;
    database?: TestDatabase;
    steamClock?: SteamClock;
    events?: Partial<EventLimits>;
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(options.config);
  const app = await buildApp({
    config,
    database,
    logStream: options.logStream ?? false,
    limits: options.limits ?? RELAXED_LIMITS,
    ...(options.steamClock ? { steamClock: options.steamClock } : {}),
    ...(options.events ? { events: options.events } : {}),
  });
  await app.ready();
  return {
    app,
    database,
    config,
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
