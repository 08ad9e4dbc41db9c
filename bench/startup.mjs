// Startup benchmark: `npm start` (scripts/start.mjs) on the embedded database, after a
// build, until the API answers /api/health and the web UI serves its login page — on a
// fresh data directory (keys generated, migrations applied) and again on the same one —
// against a bare Node HTTP server started the same way (the floor of any Node service).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApi, buildWebIfStale, root } from '../scripts/lib/processes.mjs';
import { parseOptions } from './lib/args.mjs';
import { machine, printTable, round, writeResult } from './lib/results.mjs';

export const description = '`npm start` ready time on the embedded database (after build)';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function until(url, deadline) {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url, { redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status < 500) return performance.now();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} did not answer in time`);
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

/** One `npm start` (as node scripts/start.mjs) on dataDir → seconds until API and web answer. */
async function startOnce(dataDir) {
  const [apiPort, webPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    cwd: root,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ACCOUNTDB_DATA_DIR: dataDir,
      API_PORT: String(apiPort),
      WEB_PORT: String(webPort),
      LOG_LEVEL: 'warn',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  });
  try {
    const deadline = started + 180_000;
    const api = await until(`http://127.0.0.1:${apiPort}/api/health`, deadline);
    const web = await until(`http://127.0.0.1:${webPort}/login`, deadline);
    return { api_s: (api - started) / 1000, web_s: (web - started) / 1000 };
  } finally {
    await stop(child);
  }
}

/** The floor: a Node process that only opens an HTTP server. */
async function bareNode() {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`],
    { stdio: 'ignore' },
  );
  try {
    return ((await until(`http://127.0.0.1:${port}/`, started + 30_000)) - started) / 1000;
  } finally {
    await stop(child);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- startup [--runs N]',
    options: {
      runs: { type: 'number', default: 3, help: 'starts of each kind (the median counts)' },
    },
  });
  process.stderr.write('startup: building what is missing or stale (not timed)…\n');
  buildApi();
  buildWebIfStale();
  const cold = [];
  const warm = [];
  const bare = [];
  for (let i = 0; i < opts.runs; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'accountdb-bench-startup-'));
    try {
      cold.push(await startOnce(dataDir));
      warm.push(await startOnce(dataDir));
      bare.push(await bareNode());
      process.stderr.write(`startup: run ${i + 1} of ${opts.runs} done\n`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const figures = {
    fresh_data_dir: {
      api_ready_s: round(median(cold.map((r) => r.api_s)), 2),
      web_ready_s: round(median(cold.map((r) => r.web_s)), 2),
    },
    existing_data_dir: {
      api_ready_s: round(median(warm.map((r) => r.api_s)), 2),
      web_ready_s: round(median(warm.map((r) => r.web_s)), 2),
    },
    runs: { cold, warm },
  };
  const baseline = { bare_node_http_s: round(median(bare), 3) };
  const ratio = round(figures.existing_data_dir.web_ready_s / baseline.bare_node_http_s, 1);
  printTable([
    ['start', 'API answers (s)', 'web answers (s)'],
    ['fresh data dir', figures.fresh_data_dir.api_ready_s, figures.fresh_data_dir.web_ready_s],
    [
      'existing data dir',
      figures.existing_data_dir.api_ready_s,
      figures.existing_data_dir.web_ready_s,
    ],
    ['bare Node HTTP server', baseline.bare_node_http_s, ''],
  ]);
  process.stdout.write(
    `npm start (existing data dir) is ready in ${ratio}× a bare Node server's start\n`,
  );
  writeResult({
    name: 'startup',
    machine: machine(),
    params: { runs: opts.runs, database: 'embedded (PGlite)' },
    figures,
    baseline,
    ratio,
    target: 'none set by the issue: measured and recorded',
    met: null,
  });
}
