import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startPveSim } from './start.js';

const HELP = `pve-sim: a Proxmox VE API simulator

Usage: pve-sim [options]

  --vms N                  guests (QEMU and LXC)                  [100]
  --nodes N                cluster nodes pve1…pveN                [3]
  --port N                 listen port (0: any free port)         [8006]
  --host ADDR              listen address                          [127.0.0.1]
  --tls                    HTTPS with a generated CA + node certificate
  --ca-file PATH           with --tls: write the CA certificate (PEM) there
  --token-id ID            USER@REALM!TOKENID                      [inv@pve!sync]
  --token-secret SECRET    token secret                            [random UUID]
  --user USER@REALM        user for ticket login (/access/ticket)   [root@pam]
  --password PW            that user's password                    [random UUID]
  --ticket-lifetime-ms N   login ticket / CSRF token lifetime      [7200000]
  --seed N                 scenario seed (same seed, same cluster) [1]
  --pve-version V          simulated Proxmox VE version            [8.4.1]
  --auth-delay-ms N        delay before 401 answers                [3000]
  --agent-not-running-ms N delay before "QEMU guest agent is not running" [3000]
  --agent-timeout-ms N     delay before "… got timeout"           [5000]
  --stale-after-ms N       offline node: time before entries freeze [0]
  --unknown-after-ms N     offline node: time until entries are unknown [300000]
  --name-delay-ms N        new guests lack name in /cluster/resources [10000]
  --offline NODE           start with NODE offline (repeatable)
  --drift MS               every MS flip the status of some guests
  --drift-fraction F       fraction of guests flipped per drift step [0.05]
  -h, --help               this help

Control API (loopback only, no auth): /_sim/stats, /_sim/vms, /_sim/faults, /_sim/nodes,
/_sim/drift, /_sim/timing, /_sim/tls. See packages/pve-sim/README.md.
`;

const options = {
  vms: { type: 'string' },
  nodes: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  tls: { type: 'boolean' },
  'ca-file': { type: 'string' },
  'token-id': { type: 'string' },
  'token-secret': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  'ticket-lifetime-ms': { type: 'string' },
  seed: { type: 'string' },
  'pve-version': { type: 'string' },
  'auth-delay-ms': { type: 'string' },
  'agent-not-running-ms': { type: 'string' },
  'agent-timeout-ms': { type: 'string' },
  'stale-after-ms': { type: 'string' },
  'unknown-after-ms': { type: 'string' },
  'name-delay-ms': { type: 'string' },
  offline: { type: 'string', multiple: true },
  drift: { type: 'string' },
  'drift-fraction': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const out = (line: string) => process.stdout.write(`${line}\n`);

// A closed stdout (pve-sim | head) must not stop the simulator.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

function fail(message: string): never {
  process.stderr.write(`pve-sim: ${message}\n(see pve-sim --help)\n`);
  process.exit(2);
}

function num(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    fail(`--${name} must be a number (got '${String(raw)}')`);
  }
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ options, strict: true, allowPositionals: false }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values['ca-file'] && !values.tls) fail('--ca-file needs --tls');
  const sim = await startPveSim({
    vms: num(values, 'vms'),
    nodes: num(values, 'nodes'),
    port: num(values, 'port') ?? 8006,
    host: values.host as string | undefined,
    tls: values.tls === true,
    tokenId: values['token-id'] as string | undefined,
    tokenSecret: values['token-secret'] as string | undefined,
    username: values.user as string | undefined,
    password: values.password as string | undefined,
    ticketLifetimeMs: num(values, 'ticket-lifetime-ms'),
    seed: num(values, 'seed'),
    pveVersion: values['pve-version'] as string | undefined,
    authDelayMs: num(values, 'auth-delay-ms'),
    agentNotRunningMs: num(values, 'agent-not-running-ms'),
    agentTimeoutMs: num(values, 'agent-timeout-ms'),
    staleAfterMs: num(values, 'stale-after-ms'),
    unknownAfterMs: num(values, 'unknown-after-ms'),
    nameDelayMs: num(values, 'name-delay-ms'),
    offlineNodes: values.offline as string[] | undefined,
  }).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
  const drift = num(values, 'drift');
  if (drift !== undefined) {
    sim.state.startDrift({ everyMs: drift, fraction: num(values, 'drift-fraction') ?? 0.05 });
  }
  const nodes = sim.state.nodes();
  out(
    `pve-sim: ${sim.state.guestCount} guests on ${nodes.length} node(s) ` +
      `(PVE ${sim.state.version.version}, seed ${num(values, 'seed') ?? 1})`,
  );
  out(`pve-sim: listening on ${sim.url} (API ${sim.apiUrl})`);
  out(`PVE_URL=${sim.url}`);
  out(`PVE_TOKEN_ID=${sim.tokenId}`);
  out(`PVE_TOKEN_SECRET=${sim.tokenSecret}`);
  out(`PVE_USER=${sim.username}`);
  out(`PVE_PASSWORD=${sim.password}`);
  if (sim.fingerprint && sim.caPem) {
    out(`PVE_FINGERPRINT=${sim.fingerprint}`);
    const caFile = values['ca-file'] as string | undefined;
    if (caFile) {
      writeFileSync(caFile, sim.caPem, { mode: 0o644 });
      out(`PVE_CA_FILE=${caFile}`);
    }
  }
  out(`pve-sim: control API ${sim.url}/_sim (loopback only); Ctrl-C stops`);
  const stop = () => {
    sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`pve-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
