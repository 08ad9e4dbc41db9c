import { Command } from 'commander';
import { configOrExit, openAndMigrate } from './boot.js';
import { formatFindings, runDoctor } from './cli/doctor.js';
import { resetPassword } from './cli/reset-password.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './crypto/passwords.js';
import { createFirstAdmin } from './modules/auth/definer-functions.js';
import { VERSION } from './version.js';

/** `accountdb` command line: operations on the configured database. */
const program = new Command()
  .name('accountdb')
  .description('AccountDB administration (uses the same environment variables as the API)')
  .version(VERSION);

const log = (msg: string) => process.stdout.write(`${msg}\n`);

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
