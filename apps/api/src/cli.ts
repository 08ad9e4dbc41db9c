import { createWriteStream } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { text as readAll } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { configOrExit, openAndMigrate } from './boot.js';
import { type CliSession, openCliSession } from './cli/cli-session.js';
import { formatFindings, runDoctor } from './cli/doctor.js';
import {
  exportResource,
  parseFilters,
  RESOURCES,
  type Resource,
  resourceNamed,
} from './cli/export-resource.js';
import { importMaFolder, needsPasskey, readMaFolder } from './cli/import-mafiles.js';
import { type ImportOutcome, importResource } from './cli/import-resource.js';
import { progressBar, progressLine } from './cli/progress.js';
import { ask, askNewPassword, interactive } from './cli/prompt.js';
import { resetMfa } from './cli/reset-mfa.js';
import { resetPassword } from './cli/reset-password.js';
import { rotateDataKeys } from './cli/rotate-key.js';
import { detectInputFormat, type InputFormat } from './cli/split-input.js';
import type { Config } from './config.js';
import { checkMasterKey, DataKeyStore } from './crypto/data-keys.js';
import { masterKey } from './crypto/envelope.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './crypto/passwords.js';
import { createFirstAdmin } from './modules/auth/definer-functions.js';
import {
  formatReport,
  type MigrationReport,
  type ReportTable,
} from './modules/legacy-migration/report.js';
import {
  MIGRATABLE,
  MigrationStopped,
  migrateLegacy,
  parseOnly,
} from './modules/legacy-migration/run.js';
import { VERSION } from './version.js';

/** `accountdb` command line: operations on the configured database. */
const program = new Command()
  .name('accountdb')
  .description('AccountDB administration (uses the same environment variables as the API)')
  .version(VERSION);

const log = (msg: string) => process.stdout.write(`${msg}\n`);

/** Where `accountdb import accounts <maFiles folder>` finds the SDA passkey, if not in a file. */
const PASSKEY_VARIABLE = 'ACCOUNTDB_SDA_PASSKEY';

/**
 * A password from the environment variable (never the command line, where `ps` shows it),
 * or, when it is not set and this is a terminal, typed in twice without echo.
 */
async function passwordFrom(variable: string): Promise<string> {
  const password = process.env[variable];
  if (password === undefined && interactive()) {
    return askNewPassword({ min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH });
  }
  if (!password || password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new Error(
      `set ${variable} to a password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
    );
  }
  return password;
}

/** A flag's value, or on a terminal the answer to a question; else an error naming the flag. */
async function flagOrAsk(value: string | undefined, flag: string, question: string) {
  if (value) return value;
  if (interactive()) {
    const answer = (await ask(question)).trim();
    if (answer) return answer;
  }
  throw new Error(`${flag} is required`);
}

/** Runs fn as a user, in a login session of the CLI that ends afterwards. */
async function asUser<T>(login: string, fn: (session: CliSession, config: Config) => Promise<T>) {
  const config = configOrExit();
  const database = await openAndMigrate(config, () => undefined);
  try {
    const session = await openCliSession({ config, database, login });
    try {
      return await fn(session, config);
    } finally {
      await session.close();
    }
  } finally {
    await database.close();
  }
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
  .option('--username <name>', 'login name (asked on a terminal when left out)')
  .option('--email <address>', 'e-mail address (asked on a terminal when left out)')
  .option(
    '--password-env <var>',
    'read the password from this environment variable (unset on a terminal: typed in)',
    'ACCOUNTDB_ADMIN_PASSWORD',
  )
  .action(async (opts: { username?: string; email?: string; passwordEnv: string }) => {
    const username = await flagOrAsk(opts.username, '--username', 'Username: ');
    const email = await flagOrAsk(opts.email, '--email', 'E-mail: ');
    const password = await passwordFrom(opts.passwordEnv);
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    try {
      const id = await createFirstAdmin(database, {
        username,
        email,
        passwordHash: await hashPassword(password),
      });
      if (!id) throw new Error('the database already has users; setup is done');
      log(`created admin ${username} (${id})`);
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
    'read the new password from this environment variable (unset on a terminal: typed in)',
    'ACCOUNTDB_NEW_PASSWORD',
  )
  .action(async (opts: { username: string; passwordEnv: string }) => {
    const password = await passwordFrom(opts.passwordEnv);
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    try {
      const id = await resetPassword(database.ownerDb, {
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
  .command('reset-mfa')
  .description(
    "remove a user's second factors and recovery codes (clears a lockout), e.g. for an admin who lost their authenticator",
  )
  .argument('<user>', 'login name or e-mail address of the user')
  .action(async (user: string) => {
    const config = configOrExit();
    const database = await openAndMigrate(config, log);
    try {
      const done = await resetMfa(database.ownerDb, user);
      if (!done) throw new Error(`no user is called ${user}`);
      log(
        `removed ${done.factors} second factor(s) and the recovery codes of ${user} (${done.userId}); they log in with their password`,
      );
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
      await checkMasterKey(database, current, previous);
      const started = Date.now();
      const tty = process.stdout.isTTY;
      const result = await rotateDataKeys({
        db: database.ownerDb,
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
      await checkMasterKey(database, current);
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

const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command('export')
  .description(
    `write a user's ${RESOURCES.join(', ')} as JSON or CSV (as the web's export; audited)`,
  )
  .argument('<resource>', RESOURCES.join(' | '))
  .requiredOption('--user <login>', 'whose data (username or e-mail address)')
  .addOption(
    new Option(
      '--format <format>',
      "file format; accounts also legacy-json, legacy-csv (the earlier AccountDB's upload format)",
    )
      .choices(['json', 'csv', 'legacy-json', 'legacy-csv'])
      .default('json'),
  )
  .option('--output <file>', 'write here (mode 0600) instead of to stdout')
  .option('--filter <name=value>', 'a list filter, e.g. status=active (repeatable)', collect, [])
  .option('--sort <fields>', 'sort, e.g. -created_at')
  .option(
    '--include-secrets',
    'accounts: passwords and 2FA secrets in clear; cards: the codes (audited as such)',
  )
  .action(
    async (
      name: string,
      opts: {
        user: string;
        format: 'json' | 'csv' | 'legacy-json' | 'legacy-csv';
        output?: string;
        filter: string[];
        sort?: string;
        includeSecrets?: boolean;
      },
    ) => {
      const resource = resourceNamed(name);
      if (opts.format.startsWith('legacy-') && resource !== 'accounts')
        throw new Error(`--format ${opts.format} is for accounts, not ${resource}`);
      const query = parseFilters(opts.filter);
      if (opts.sort) query.sort = opts.sort;
      if (opts.includeSecrets) {
        if (resource === 'accounts') query.include_secrets = 'true';
        else if (resource === 'cards') query.include_codes = 'true';
        else throw new Error(`--include-secrets is for accounts and cards, not ${resource}`);
      }
      await asUser(opts.user, async (session) => {
        const out = opts.output
          ? createWriteStream(path.resolve(opts.output), { mode: 0o600 })
          : process.stdout;
        const progress = progressLine(process.stderr);
        try {
          const result = await exportResource({
            session,
            resource,
            format: opts.format,
            query,
            out,
            onProgress: (done, total) => progress.update(done, total, resource),
          });
          progress.done();
          if (out !== process.stdout) {
            out.end();
            await finished(out);
          }
          process.stderr.write(
            `exported ${result.rows} ${resource} of ${session.user.username}` +
              `${opts.output ? ` to ${opts.output}` : ''} (${result.bytes} bytes)\n`,
          );
        } catch (err) {
          progress.done();
          if (opts.output) {
            // A write still in flight fails once the stream is destroyed: that error is
            // expected here, and unhandled it would crash the process before the message.
            out.on('error', () => undefined);
            out.destroy();
            await finished(out).catch(() => undefined);
            await unlink(path.resolve(opts.output)).catch(() => undefined);
          }
          throw err;
        }
      });
    },
  );

program
  .command('import')
  .description(
    'add records from a file to a user, through the API in batches: accounts (JSON, JSON lines, CSV, ' +
      ".maFile, the earlier upload format), cards (one a line; the earlier AccountDB's lists of codes as JSON " +
      'and its cards table as a CSV or JSON dump; JSON as `accountdb export` writes it), hardware (its own ' +
      'fields or the earlier hardware table as JSON, JSON lines or CSV, linked by acc_id and vmid; JSON as ' +
      '`accountdb export` writes it), vms, proxmox-nodes (JSON or JSON lines as `accountdb export` writes them)',
  )
  .argument('<resource>', RESOURCES.join(' | '))
  .argument(
    '<file>',
    "the file, - for standard input, or (accounts) a Steam Guard folder: SDA's or steamguard-cli's maFiles/",
  )
  .requiredOption('--user <login>', 'whose data (username or e-mail address)')
  .addOption(
    new Option(
      '--format <format>',
      'file format (default: from the extension or the content)',
    ).choices(['json', 'jsonl', 'csv', 'text']),
  )
  .option('--batch-size <n>', 'records per request', '1000')
  .option('--skip <n>', 'leave out the first n records (to resume after a stop)', '0')
  .option(
    '--dry-run',
    'check every record and write nothing (accounts, cards but `accountdb export` JSON, hardware imports)',
  )
  .option('--value <amount>', 'cards one a line: value of every card')
  .option('--currency <code>', 'cards one a line: currency of every card, e.g. EUR')
  .option('--tag <tag>', 'cards one a line: a tag for every card (repeatable)', collect, [])
  .option('--expires-at <time>', 'cards one a line: expiry (ISO 8601) of every card')
  .option(
    '--passkey-file <path>',
    `a maFiles folder: read the SDA passkey of encrypted files from this file (else ${PASSKEY_VARIABLE}, else asked on a terminal)`,
  )
  .action(
    async (
      name: string,
      file: string,
      opts: {
        user: string;
        format?: InputFormat;
        batchSize: string;
        skip: string;
        dryRun?: boolean;
        value?: string;
        currency?: string;
        tag: string[];
        expiresAt?: string;
        passkeyFile?: string;
      },
    ) => {
      const resource = resourceNamed(name);
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
        throw new Error('--batch-size must be a whole number from 1 to 10000');
      const skip = Number(opts.skip);
      if (!Number.isInteger(skip) || skip < 0) throw new Error('--skip must be a whole number');
      const folder = file !== '-' && (await stat(path.resolve(file))).isDirectory();
      if (folder && resource !== 'accounts') {
        throw new Error(
          `${file} is a folder: only accounts import one (a Steam Guard maFiles/ folder)`,
        );
      }
      const outcome = folder
        ? await importFolder({ dir: path.resolve(file), opts, batchSize, skip })
        : await importFile({ resource, file, opts, batchSize, skip });
      const counts = [
        `${outcome.created} created`,
        ...(outcome.updated ? [`${outcome.updated} updated`] : []),
        ...(outcome.duplicates ? [`${outcome.duplicates} already there`] : []),
        ...(outcome.unchanged ? [`${outcome.unchanged} unchanged`] : []),
        `${outcome.failed} failed`,
      ].join(', ');
      log(
        `${opts.dryRun ? 'dry run, nothing written: ' : ''}${resource} for ${opts.user}: ${counts}`,
      );
      const shown = outcome.errors.slice(0, 50);
      for (const e of shown) log(`  row ${e.row}: ${e.message}`);
      if (outcome.errorsTotal > shown.length)
        log(`  … and ${outcome.errorsTotal - shown.length} more`);
      if (outcome.ignored.size > 0) {
        log('ignored (not imported; AccountDB has no field for them):');
        for (const [field, records] of outcome.ignored)
          log(`  ${field} in ${records} ${records === 1 ? 'record' : 'records'}`);
      }
      if (outcome.stoppedAfter !== undefined) {
        log(
          `stopped: the batch after the first ${outcome.stoppedAfter} records was refused and nothing of it ` +
            `written; fix the rows above and run again with --skip ${outcome.stoppedAfter}`,
        );
      }
      process.exitCode = outcome.failed > 0 ? 1 : 0;
    },
  );

interface ImportOptions {
  user: string;
  format?: InputFormat;
  dryRun?: boolean;
  value?: string;
  currency?: string;
  tag: string[];
  expiresAt?: string;
  passkeyFile?: string;
}

/**
 * The SDA passkey, never from the command line (where `ps` shows it): --passkey-file, else
 * the environment variable, else typed on a terminal without echo.
 */
async function sdaPasskey(passkeyFile: string | undefined): Promise<string> {
  if (passkeyFile) {
    const text = (await readFile(path.resolve(passkeyFile), 'utf8')).replace(/\r?\n$/, '');
    if (!text) throw new Error(`${passkeyFile} is empty`);
    return text;
  }
  const fromEnv = process.env[PASSKEY_VARIABLE];
  if (fromEnv) return fromEnv;
  if (interactive()) {
    const typed = await ask('SDA passkey of the encrypted .maFiles: ', { hidden: true });
    if (typed) return typed;
  }
  throw new Error(
    `the folder holds encrypted .maFiles: give the SDA passkey with --passkey-file, ${PASSKEY_VARIABLE} or on a terminal`,
  );
}

async function importFolder(options: {
  dir: string;
  opts: ImportOptions;
  batchSize: number;
  skip: number;
}): Promise<ImportOutcome> {
  const { opts } = options;
  const folder = await readMaFolder(options.dir);
  const passkey = needsPasskey(folder) ? await sdaPasskey(opts.passkeyFile) : undefined;
  return asUser(opts.user, async (session) => {
    const progress = progressLine(process.stderr);
    try {
      return await importMaFolder({
        session,
        folder,
        passkey,
        batchSize: options.batchSize,
        skip: options.skip,
        dryRun: Boolean(opts.dryRun),
        onProgress: (done, total) => progress.update(done, total, 'files'),
      });
    } finally {
      progress.done();
    }
  });
}

async function importFile(options: {
  resource: Resource;
  file: string;
  opts: ImportOptions;
  batchSize: number;
  skip: number;
}): Promise<ImportOutcome> {
  const { resource, file, opts, batchSize, skip } = options;
  const text =
    file === '-' ? await readAll(process.stdin) : await readFile(path.resolve(file), 'utf8');
  const format = opts.format ?? detectInputFormat(file, text);
  return asUser(opts.user, async (session) => {
    const progress = progressLine(process.stderr);
    try {
      return await importResource({
        session,
        resource,
        format,
        text,
        batchSize,
        skip,
        dryRun: Boolean(opts.dryRun),
        cardDefaults: {
          ...(opts.value !== undefined ? { value: opts.value } : {}),
          ...(opts.currency !== undefined ? { currency: opts.currency } : {}),
          ...(opts.tag.length ? { tags: opts.tag } : {}),
          ...(opts.expiresAt !== undefined ? { expires_at: opts.expiresAt } : {}),
        },
        onProgress: (done, total) => progress.update(done, total, 'records'),
      });
    } finally {
      progress.done();
    }
  });
}
program
  .command('migrate-legacy')
  .description(
    'bring over the earlier AccountDB (FastAPI, Xenogy/SLLAB): users with their bcrypt passwords, Proxmox ' +
      'nodes (fresh agent keys, printed once), VMs, accounts, hardware and cards, read from its PostgreSQL ' +
      'database (never written) and written as each owner; running it again changes only what changed there. ' +
      'See docs/migrating.md',
  )
  .requiredOption(
    '--source <postgres-url>',
    "the earlier system's database, e.g. postgres://user@host/accountdb",
  )
  .option('--dry-run', 'do everything, report it, and roll it all back')
  .option(
    '--only <tables>',
    `a comma-separated subset of ${MIGRATABLE.join(',')} (users must have been migrated for the others)`,
  )
  .option(
    '--admin <username>',
    'the AccountDB admin that creates the users (not needed on an empty AccountDB: the earlier first admin becomes it)',
  )
  .option(
    '--public-url <url>',
    "AccountDB's address as the agents reach it, for their configurations (default: http://API_HOST:API_PORT)",
  )
  .option('--json', 'print the report as JSON (node keys included) instead of text')
  .action(
    async (opts: {
      source: string;
      dryRun?: boolean;
      only?: string;
      admin?: string;
      publicUrl?: string;
      json?: boolean;
    }) => {
      const only = parseOnly(opts.only);
      const config = configOrExit();
      let publicUrl: URL;
      try {
        publicUrl = new URL(opts.publicUrl ?? `http://${config.apiHost}:${config.apiPort}`);
      } catch {
        throw new Error('--public-url is not a URL');
      }
      const database = await openAndMigrate(config, (msg) => process.stderr.write(`${msg}\n`));
      try {
        const progress = new Map<ReportTable, ReturnType<typeof progressLine>>();
        const totals = new Map<ReportTable, number>();
        const print = (report: MigrationReport) =>
          log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
        let report: MigrationReport;
        try {
          report = await migrateLegacy({
            database,
            keys: new DataKeyStore(
              masterKey(config.secretKey),
              config.previousSecretKey ? masterKey(config.previousSecretKey) : undefined,
            ),
            sourceUrl: opts.source,
            dryRun: Boolean(opts.dryRun),
            only,
            admin: opts.admin ?? null,
            publicUrl,
            onTable: (table, total) => {
              totals.set(table, total);
              const line = progressLine(process.stderr);
              progress.set(table, line);
              line.update(0, total, table);
            },
            onProgress: (table, done) =>
              progress.get(table)?.update(done, totals.get(table) ?? null, table),
            onTableDone: (table) => progress.get(table)?.done(),
          });
        } catch (err) {
          // What was written before it stopped is reported (node keys included), then the error.
          if (err instanceof MigrationStopped) print(err.report);
          throw err;
        }
        print(report);
      } finally {
        await database.close();
      }
    },
  );

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`accountdb: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
