#!/usr/bin/env node
// `npm run demo`: a throwaway AccountDB to look around in. It starts
//   - the API on a new embedded database in a temporary directory (deleted on exit),
//   - pve-sim: a Proxmox cluster of 3 nodes with a few hundred guests whose status drifts,
//   - one real agent process per node, syncing every 10 seconds,
//   - the web UI,
// seeds a demo user with accounts (with passwords and 2FA), hardware and cards, and prints
// the URL and the logins. Ctrl-C stops everything and deletes the data.
// Options: --vms N (default 300), --no-web (API, simulator and agents only: used by tests).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildApi,
  buildWebIfStale,
  fail,
  localUrl,
  ProcessGroup,
  root,
  WEB_READY,
  waitForHttp,
  webDir,
  webServer,
} from './lib/processes.mjs';

const { values: args } = parseArgs({
  options: {
    vms: { type: 'string', default: '300' },
    'no-web': { type: 'boolean', default: false },
  },
});
const guestCount = Number(args.vms);
if (!Number.isInteger(guestCount) || guestCount < 3 || guestCount > 20_000) {
  fail('--vms must be a whole number from 3 to 20000');
}
const withWeb = !args['no-web'];

const NODES = ['pve1', 'pve2', 'pve3'];
const ADMIN = { username: 'admin', email: 'admin@demo.invalid', password: 'demo-admin-password' };
const DEMO = { username: 'demo', email: 'demo@demo.invalid', password: 'demo-password-123' };
const apiHost = '127.0.0.1';
const apiPort = process.env.API_PORT || '8080';
const webPort = process.env.WEB_PORT || '3000';
const apiUrl = localUrl(apiHost, apiPort);
const say = (line) => process.stdout.write(`demo: ${line}\n`);

buildApi();
if (withWeb) buildWebIfStale();

const dataDir = mkdtempSync(path.join(tmpdir(), 'accountdb-demo-'));
const group = new ProcessGroup({
  onStopped: () => {
    rmSync(dataDir, { recursive: true, force: true });
    say('stopped; the demo data is deleted');
  },
});
const quiet = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'warn' };
for (const name of ['DATABASE_URL', 'REDIS_URL', 'NODE_OPTIONS']) delete quiet[name];

// The simulator: its first lines are the connection settings for the agents.
const sim = group.start(
  'simulator',
  [
    path.join(root, 'packages/pve-sim/bin/pve-sim.mjs'),
    ...['--vms', String(guestCount), '--nodes', String(NODES.length), '--port', '0'],
    ...['--drift', '20000', '--drift-fraction', '0.03', '--auth-delay-ms', '200'],
    ...['--name-delay-ms', '0', '--seed', String(Date.now() % 100_000)],
  ],
  { env: quiet, stdio: ['ignore', 'pipe', 'inherit'] },
);
const pve = await new Promise((resolve) => {
  const found = {};
  let buffer = '';
  sim.stdout.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    for (const match of buffer.matchAll(/^(PVE_URL|PVE_TOKEN_ID|PVE_TOKEN_SECRET)=(.+)$/gm)) {
      found[match[1]] = match[2].trim();
    }
    if (found.PVE_URL && found.PVE_TOKEN_ID && found.PVE_TOKEN_SECRET) resolve(found);
  });
  sim.once('exit', () => resolve(null));
});
if (!pve) fail('the simulator did not start');
say(`Proxmox simulator with ${guestCount} guests on ${NODES.join(', ')} at ${pve.PVE_URL}`);

const DEMO_SYNC_S = 10;

const api = group.start('API', ['apps/api/dist/server.js'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...quiet,
    NODE_ENV: 'development',
    ACCOUNTDB_DATA_DIR: dataDir,
    ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
    ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
    API_HOST: apiHost,
    API_PORT: apiPort,
    TRUST_PROXY: 'loopback',
  },
});
// The demo creates the admin itself: the API's hint that the first visit does would be untrue.
api.stdout.setEncoding('utf8').on('data', (chunk) => {
  process.stdout.write(chunk.replace(/^The database is empty: .*\n\n?/m, ''));
});
if (!(await waitForHttp(`${apiUrl}/api/health`, group))) {
  if (!group.stopping) {
    process.exitCode = 1;
    group.stop();
  }
  fail(`the API did not answer at ${apiUrl} (is port ${apiPort} free? set API_PORT)`);
}

/** A JSON call to the API; throws with the problem's detail on an error answer. */
async function call(method, url, { token, body } = {}) {
  const res = await fetch(`${apiUrl}/api/v1${url}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${url}: ${answer?.detail ?? res.status}`);
  return answer;
}

const pick = (list, i) => list[i % list.length];
const hex = (n) => randomBytes(n).toString('hex');
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const base32 = (n) => Array.from(randomBytes(n), (b) => BASE32[b % 32]).join('');

async function seed() {
  const admin = await call('POST', '/auth/setup', { body: ADMIN });
  await call('POST', '/users', { token: admin.access_token, body: { ...DEMO, role: 'user' } });
  const { access_token: token } = await call('POST', '/auth/login', {
    body: { username: DEMO.username, password: DEMO.password },
  });

  const services = ['steam', 'steam', 'steam', 'epic', 'battle.net', 'riot'];
  const statuses = ['active', 'active', 'active', 'active', 'locked', 'disabled', 'banned'];
  const regions = ['eu', 'us', 'asia'];
  const accounts = Array.from({ length: 120 }, (_, i) => {
    const status = pick(statuses, i);
    return {
      service: pick(services, i),
      username: `farm_${String(i + 1).padStart(3, '0')}`,
      email: `farm_${i + 1}@mail.demo.invalid`,
      password: `pw-${hex(6)}`,
      ...(i % 3 !== 2 ? { totp_secret: base32(20) } : {}),
      external_id: `7656119${String(8_000_000_000 + i * 7919).padStart(10, '0')}`,
      status,
      ...(status === 'locked'
        ? { locked_until: new Date(Date.now() + (i + 1) * 3_600_000).toISOString() }
        : {}),
      tags: [pick(regions, i), ...(i % 5 === 0 ? ['vip'] : [])],
    };
  });
  const created = await call('POST', '/accounts/bulk', { token, body: { items: accounts } });

  const hardware = Array.from({ length: 80 }, (_, i) => ({
    pcname: `DESKTOP-${hex(4).toUpperCase()}`,
    mac_address: `BC:24:11:${hex(1)}:${hex(1)}:${hex(1)}`.toUpperCase(),
    smbios_uuid: `${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`,
    ...(created.ids?.[i] ? { account_id: created.ids[i] } : {}),
    tags: [pick(regions, i)],
  }));
  await call('POST', '/hardware/bulk', { token, body: { items: hardware } });

  const cards = Array.from({ length: 60 }, (_, i) => ({
    code1: `${hex(2)}-${hex(2)}-${hex(2)}-${hex(2)}`.toUpperCase(),
    value: pick([5, 10, 20, 50], i),
    currency: pick(['EUR', 'USD'], i),
    tags: [`batch-${Math.floor(i / 20) + 1}`],
  }));
  await call('POST', '/cards/bulk', { token, body: { items: cards } });

  const nodes = [];
  for (const name of NODES) {
    nodes.push(
      await call('POST', '/proxmox-nodes', {
        token,
        // AccountDB's interval wins over the agent's SYNC_INTERVAL once the agent knows it.
        body: {
          name,
          hostname: `${name}.demo.invalid`,
          cluster: 'demo',
          sync_interval_s: DEMO_SYNC_S,
        },
      }),
    );
  }
  return nodes;
}

let nodes;
try {
  nodes = await seed();
} catch (err) {
  process.stderr.write(`demo: seeding failed: ${err.message}\n`);
  process.exitCode = 1;
  group.stop();
}

if (nodes && !group.stopping) {
  say(`seeded user "${DEMO.username}": 120 accounts, 80 hardware profiles, 60 cards, 3 nodes`);
  for (const node of nodes) {
    group.start(
      `agent of ${node.name}`,
      [path.join(root, 'apps/agent/bin/accountdb-agent.mjs'), 'run'],
      {
        env: {
          ...quiet,
          ACCOUNTDB_URL: apiUrl,
          ACCOUNTDB_NODE_KEY: node.api_key,
          PVE_URL: pve.PVE_URL,
          PVE_TOKEN_ID: pve.PVE_TOKEN_ID,
          PVE_TOKEN_SECRET: pve.PVE_TOKEN_SECRET,
          PVE_NODE: node.name,
          SYNC_INTERVAL: String(DEMO_SYNC_S),
          HEALTH_PORT: 'off',
        },
      },
    );
    say(`agent for ${node.name} started (syncs every ${DEMO_SYNC_S} s)`);
  }

  if (withWeb) {
    const web = group.start('web UI', [webServer, '-p', webPort, '-H', apiHost], {
      cwd: webDir,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { NEXT_TELEMETRY_DISABLED: '1', ...quiet, API_HOST: apiHost, API_PORT: apiPort },
    });
    let announced = false;
    web.stdout.setEncoding('utf8').on('data', (chunk) => {
      if (announced || !WEB_READY.test(chunk)) return;
      announced = true;
      announce(localUrl(apiHost, webPort));
    });
  } else {
    announce(null);
  }
}

function announce(webUrl) {
  process.stdout.write(
    [
      '',
      '  AccountDB demo is running',
      webUrl ? `  Web UI:  ${webUrl}` : null,
      `  API:     ${apiUrl}/api/v1  (docs: ${apiUrl}/api/docs)`,
      `  Log in:  ${DEMO.username} / ${DEMO.password}   (admin: ${ADMIN.username} / ${ADMIN.password})`,
      '  VMs appear within seconds and change status every ~20 s.',
      '  Ctrl-C stops everything and deletes the demo data.',
      '',
      '',
    ]
      .filter((line) => line !== null)
      .join('\n'),
  );
}
