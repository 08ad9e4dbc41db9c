import { buildApp } from './app.js';
import { configOrExit, openAndMigrate } from './boot.js';
import { checkMasterKey } from './crypto/data-keys.js';
import { masterKey } from './crypto/envelope.js';
import { setupNeeded } from './modules/auth/definer-functions.js';
import { VERSION } from './version.js';

/** Starts the API: config, database + migrations, listen, graceful shutdown. */
async function main(): Promise<void> {
  const config = configOrExit();
  const database = await openAndMigrate(config, (msg) =>
    process.stdout.write(`accountdb: ${msg}\n`),
  );
  // A master key that does not match the stored data keys stops the start before anything
  // is written with it.
  try {
    await checkMasterKey(
      database,
      masterKey(config.secretKey),
      config.previousSecretKey ? masterKey(config.previousSecretKey) : undefined,
    );
  } catch (err) {
    await database.close();
    throw err;
  }
  const app = await buildApp({ config, database });
  for (const variable of config.generatedKeys) {
    app.log.warn(
      { variable, dataDir: config.dataDir },
      `${variable} is not set: generated a key into the data dir (mode 0600). Back it up; set the variable in production.`,
    );
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await app.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: config.apiHost, port: config.apiPort });
  // Asks Steam's time source in the background: a slow or failing source never holds the start.
  app.deps.steamClock.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.apiPort;
  const url = `http://${config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost}:${port}`;
  app.log.info({ url, database: database.describe, version: VERSION }, 'AccountDB API ready');
  process.stdout.write(
    `\nAccountDB API ${VERSION} is running at ${url}/api  (docs: ${url}/api/docs)\n`,
  );
  if (await setupNeeded(database)) {
    process.stdout.write(
      'The database is empty: the first visit creates the admin (POST /api/v1/auth/setup).\n\n',
    );
  }
}

main().catch((err) => {
  process.stderr.write(
    `accountdb: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
