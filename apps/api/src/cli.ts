import { Command } from 'commander';
import { configOrExit, openAndMigrate } from './boot.js';
import { formatFindings, runDoctor } from './cli/doctor.js';
import { resetPassword } from './cli/reset-password.js';
import { rotateDataKeys } from './cli/rotate-key.js';
import { checkMasterKey } from './crypto/data-keys.js';
import { masterKey } from './crypto/envelope.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './crypto/passwords.js';
import { createFirstAdmin } from './modules/auth/definer-functions.js';
import { VERSION } from './version.js';

/** `accountdb` command line: operations on the configured database. */
const program = new Command()
  .name('accountdb')
  .description('AccountDB administration (uses the same environment variables as the API)')
  .version(VERSION);

const log = (msg: string) => process.stdout.write(`${msg}\n`);

/** [██████░░░░] for a progress line on a terminal. */
function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** A password from the environment (never the command line, where `ps` shows it). */
function passwordFrom(variable: string): string {
  const password = process.env[variable];
  if (!password || password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new Error(
      `set ${variable} to a password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
    );
  }
  return password;
}

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    log(`database ${database.describe} is up to date`);
    await database.close();
  });

program
  .command('create-admin')
  .description('create the first admin of an empty database (like the setup page)')
  .requiredOption('--username <name>', 'login name')
  .requiredOption('--email <address>', 'e-mail address')
  .option(
    '--password-env <var>',
    'read the password from this environment variable',
    'ACCOUNTDB_ADMIN_PASSWORD',
  )
  .action(async (opts: { username: string; email: string; passwordEnv: string }) => {
    const password = passwordFrom(opts.passwordEnv);
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    try {
      const id = await createFirstAdmin(database.db, {
        username: opts.username,
        email: opts.email,
        passwordHash: await hashPassword(password),
      });
      if (!id) throw new Error('the database already has users; setup is done');
      log(`created admin ${opts.username} (${id})`);
    } finally {
      await database.close();
    }
  });

program
  .command('reset-password')
  .description(
    "set a user's password (ends their sessions, clears a lockout), e.g. for a locked-out admin",
  )
  .requiredOption('--username <name>', 'login name or e-mail address of the user')
  .option(
    '--password-env <var>',
    'read the new password from this environment variable',
    'ACCOUNTDB_NEW_PASSWORD',
  )
  .action(async (opts: { username: string; passwordEnv: string }) => {
    const password = passwordFrom(opts.passwordEnv);
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    try {
      const id = await resetPassword(database.db, {
        login: opts.username,
        passwordHash: await hashPassword(password),
      });
      if (!id) throw new Error(`no user is called ${opts.username}`);
      log(`set a new password for ${opts.username} (${id}); their sessions have ended`);
    } finally {
      await database.close();
    }
  });

program
  .command('rotate-key')
  .description(
    're-wrap every data key from ACCOUNTDB_SECRET_KEY_PREVIOUS to ACCOUNTDB_SECRET_KEY (resumable, no downtime)',
  )
  .option('--batch-size <n>', 'data keys per transaction', '100')
  .action(async (opts: { batchSize: string }) => {
    const batchSize = Number(opts.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new Error('--batch-size must be a whole number from 1 to 10000');
    }
    const config = configOrExit();
    if (!config.previousSecretKey) {
      throw new Error(
        'set ACCOUNTDB_SECRET_KEY to the new key and ACCOUNTDB_SECRET_KEY_PREVIOUS to the old one (as for the API during the rotation); see docs/operations.md',
      );
    }
    const current = masterKey(config.secretKey);
    const previous = masterKey(config.previousSecretKey);
    const database = await openAndMigrate(config, log);
    try {
      // Every stored data key must be under one of the two keys before anything changes.
      await checkMasterKey(database.db, current, previous);
      const started = Date.now();
      const tty = process.stdout.isTTY;
      const result = await rotateDataKeys({
        db: database.db,
        current,
        previous,
        batchSize,
        onProgress: ({ done, total }) => {
          const rate = done / Math.max((Date.now() - started) / 1000, 0.001);
          const line = `re-wrapped ${done} of ${total} data keys (${Math.round(rate)}/s)`;
          if (tty) process.stdout.write(`\r${progressBar(done, total)} ${line}`);
          else log(line);
        },
      });
      if (tty) process.stdout.write('\n');
      await checkMasterKey(database.db, current);
      log(
        `done: ${result.done} data key(s) re-wrapped; every data key is now under the current key (id ${current.kid}). ` +
          'Remove ACCOUNTDB_SECRET_KEY_PREVIOUS from the API and restart it.',
      );
    } finally {
      await database.close();
    }
  });

program
  .command('doctor')
  .description(
    'check configuration, database, migrations, roles, row-level security, keys and the data dir',
  )
  .action(async () => {
    const findings = await runDoctor(process.env);
    log(formatFindings(findings));
    const failed = findings.filter((f) => f.verdict === 'fail').length;
    log(failed ? `\n${failed} problem(s) found.` : '\nNo problem found.');
    process.exitCode = failed ? 1 : 0;
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`accountdb: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
