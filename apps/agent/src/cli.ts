import { Command } from 'commander';
import { Agent } from './agent.js';
import { formatChecks, runChecks } from './check.js';
import {
  type AgentSettings,
  ConfigError,
  describeConfig,
  EXIT_CONFIG,
  loadSettings,
  readConfigSources,
} from './config.js';
import { startHealthServer } from './health/server.js';
import { createLogger } from './log.js';
import { StateFile } from './state.js';
import { formatStatus, readStatus, statusExitCode, statusSource } from './status.js';
import { AGENT_VERSION } from './version.js';

/** Stop grace: a cycle still running this long after SIGTERM has its requests aborted. */
const STOP_GRACE_MS = 10_000;

function sources(program: Command): Record<string, string | undefined> {
  const { config } = program.opts<{ config?: string }>();
  return readConfigSources(process.env, config);
}

function settingsOrExit(program: Command): AgentSettings {
  try {
    return loadSettings(sources(program));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`accountdb-agent: configuration error: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function run(program: Command): Promise<void> {
  const settings = settingsOrExit(program);
  const log = createLogger(settings.logLevel);
  log.info(
    { version: AGENT_VERSION, config: describeConfig(settings) },
    'accountdb-agent starting',
  );
  const agent = new Agent({
    settings,
    log,
    stateFile: settings.stateFile ? new StateFile(settings.stateFile) : undefined,
  });

  let health: Awaited<ReturnType<typeof startHealthServer>> | undefined;
  if (settings.healthPort !== undefined) {
    try {
      health = await startHealthServer({
        host: settings.healthHost,
        port: settings.healthPort,
        health: () => agent.health(),
        metrics: () => agent.metrics.render(),
      });
      log.info(
        { url: `http://${settings.healthHost}:${health.port}/healthz` },
        'health endpoint listening',
      );
    } catch (err) {
      log.fatal(
        { err: (err as Error).message },
        `cannot listen on ${settings.healthHost}:${settings.healthPort} (HEALTH_PORT)`,
      );
      await agent.close();
      process.exit(1);
    }
  }

  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      log.warn({ signal }, 'second stop signal: aborting the current cycle');
      abort.abort();
      return;
    }
    log.info({ signal }, 'stopping: finishing the current cycle');
    stop.abort();
    setTimeout(() => abort.abort(), STOP_GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await agent.run(stop.signal, abort.signal);
  await health?.close();
  await agent.close();
  log.info('accountdb-agent stopped');
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
}

async function once(
  program: Command,
  opts: { acceptDrop?: boolean; json?: boolean },
): Promise<void> {
  const settings = settingsOrExit(program);
  const log = createLogger(opts.json ? 'silent' : settings.logLevel);
  const agent = new Agent({
    settings,
    log,
    stateFile: settings.stateFile ? new StateFile(settings.stateFile) : undefined,
  });
  try {
    const outcome = await agent.cycle({ acceptDrop: opts.acceptDrop === true });
    if (opts.json) {
      const printable =
        outcome.kind === 'synced'
          ? outcome
          : outcome.kind === 'aborted'
            ? outcome
            : {
                kind: outcome.kind,
                error: outcome.kind === 'pve_error' ? outcome.message : outcome.error.message,
              };
      process.stdout.write(`${JSON.stringify(printable, null, 2)}\n`);
    }
    process.exitCode = outcome.kind === 'synced' ? 0 : 1;
  } finally {
    await agent.close();
  }
}

async function check(program: Command): Promise<void> {
  const settings = settingsOrExit(program);
  process.stdout.write('accountdb-agent check\n');
  for (const [k, v] of Object.entries(describeConfig(settings)))
    process.stdout.write(`  ${k.padEnd(16)} ${String(v)}\n`);
  process.stdout.write('\n');
  const lines = await runChecks(settings);
  process.stdout.write(formatChecks(lines));
  process.exitCode = lines.some((l) => l.level === 'fail') ? 1 : 0;
}

async function status(program: Command, opts: { json?: boolean }): Promise<void> {
  let src: Record<string, string | undefined>;
  try {
    src = sources(program);
  } catch (err) {
    process.stderr.write(`accountdb-agent: ${(err as Error).message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const report = await readStatus(statusSource(src));
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  process.exitCode = statusExitCode(report);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('accountdb-agent')
    .description('Keeps the VMs of a Proxmox VE node in sync with AccountDB')
    .version(AGENT_VERSION)
    .option(
      '-c, --config <file>',
      'read settings from a KEY=VALUE file (as /etc/accountdb-agent.env); its values win over the environment',
    )
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nSettings (environment or --config): ACCOUNTDB_URL, ACCOUNTDB_NODE_KEY, PVE_URL, PVE_TOKEN_ID, PVE_TOKEN_SECRET,\nPVE_CA_FILE | PVE_FINGERPRINT | PVE_INSECURE=true, PVE_NODE, SYNC_INTERVAL, HEALTH_PORT, STATE_FILE, LOG_LEVEL.\nSee docs/agent.md.',
    );
  program
    .command('run')
    .description(
      'sync in a loop (the systemd service); /healthz and /metrics on HEALTH_PORT; stops cleanly on SIGTERM',
    )
    .action(() => run(program));
  program
    .command('once')
    .description('run one cycle; exit 0 after a successful sync, 1 otherwise')
    .option(
      '--accept-drop',
      'sync even though the guest count collapsed (the guests really were removed)',
    )
    .option('--json', 'print the outcome as JSON instead of logs')
    .action((opts: { acceptDrop?: boolean; json?: boolean }) => once(program, opts));
  program
    .command('check')
    .description(
      "test the AccountDB and Proxmox connections and the token's privileges; print what is wrong and how to fix it",
    )
    .action(() => check(program));
  program
    .command('status')
    .description(
      "show the running agent's state (its /healthz on HEALTH_PORT, else STATE_FILE); exit 0 healthy, 1 failing, 3 unknown",
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => status(program, opts));
  return program;
}

await buildProgram().parseAsync(process.argv);
