#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then starts the API and the web UI.
// `npm run dev` (--dev): no builds; the API under `tsx watch` and the web under `next dev`,
// both reloading on every change.
// - the API: tsc -b (incremental); it runs its migrations at start and prints its URL.
// - the web: `next build` when apps/web/.next is missing or older than the web's sources.
// A failed build stops here with its exit code. The web starts once the API answers, serves
// on WEB_PORT (3000) and forwards /api/* to the API. Ctrl-C (SIGINT) or SIGTERM stops both.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = path.join(root, 'apps/web');
const nextBin = path.join(root, 'node_modules/next/dist/bin/next');

function fail(message, code = 1) {
  process.stderr.write(`accountdb: ${message}\n`);
  process.exit(code);
}

const dev = process.argv.includes('--dev');

const tsc = dev
  ? { status: 0 }
  : spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'apps/api'], {
      cwd: root,
      stdio: 'inherit',
    });
if (tsc.status !== 0) fail('API build failed', tsc.status ?? 1);

/** Newest modification time under the given paths (files and directories, recursively). */
function newest(paths) {
  let max = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const stat = statSync(p);
    max = Math.max(max, stat.mtimeMs);
    if (stat.isDirectory()) {
      max = Math.max(max, newest(readdirSync(p).map((name) => path.join(p, name))));
    }
  }
  return max;
}

const buildId = path.join(web, '.next/BUILD_ID');
const sources = ['src', 'public', 'next.config.mjs', 'postcss.config.mjs', 'package.json'].map(
  (p) => path.join(web, p),
);
if (!dev && (!existsSync(buildId) || statSync(buildId).mtimeMs < newest(sources))) {
  process.stdout.write('accountdb: building the web UI (next build)…\n');
  const build = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: web,
    stdio: 'inherit',
    env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env },
  });
  if (build.status !== 0) fail('web UI build failed (apps/web: next build)', build.status ?? 1);
}

const apiHost = process.env.API_HOST || '127.0.0.1';
const apiPort = process.env.API_PORT || '8080';
const webPort = process.env.WEB_PORT || '3000';
// The web UI is a proxy on this machine: let the API believe the client address and origin
// it forwards (X-Forwarded-*), for rate limits, audit entries and the refresh cookie's
// Origin check. An explicit TRUST_PROXY wins.
const apiEnv = { ...process.env, TRUST_PROXY: process.env.TRUST_PROXY || 'loopback' };

const children = new Set();
let stopping = false;

function stopAll(signal) {
  stopping = true;
  for (const child of children) child.kill(signal);
}

function watch(name, child) {
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      process.stderr.write(`accountdb: the ${name} stopped (${code ?? signal}); stopping\n`);
      stopAll('SIGTERM');
      process.exitCode = code || 1;
    } else if (code && !process.exitCode) {
      process.exitCode = code;
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));

const tsxCli = path.join(root, 'node_modules/tsx/dist/cli.mjs');
const apiArgs = dev ? [tsxCli, 'watch', 'apps/api/src/server.ts'] : ['apps/api/dist/server.js'];
const api = spawn(process.execPath, apiArgs, {
  cwd: root,
  stdio: 'inherit',
  env: apiEnv,
});
watch('API', api);

const loopback = apiHost === '0.0.0.0' || apiHost === '::' ? '127.0.0.1' : apiHost;
const apiUrl = `http://${loopback.includes(':') ? `[${loopback}]` : loopback}:${apiPort}`;

async function apiReady() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`${apiUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

if (!(await apiReady())) {
  if (!stopping) {
    process.stderr.write(`accountdb: the API did not answer at ${apiUrl}/api/health\n`);
    stopAll('SIGTERM');
    process.exitCode = 1;
  }
} else {
  const webHost = apiHost;
  const next = spawn(
    process.execPath,
    [nextBin, dev ? 'dev' : 'start', '-p', webPort, '-H', webHost],
    {
      cwd: web,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env, API_HOST: loopback, API_PORT: apiPort },
    },
  );
  watch('web UI', next);
  let announced = false;
  next.stdout.on('data', async (chunk) => {
    process.stdout.write(chunk);
    if (announced || !/Ready in/.test(chunk.toString())) return;
    announced = true;
    const shown = webHost === '0.0.0.0' || webHost === '::' ? '127.0.0.1' : webHost;
    const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${webPort}`;
    let setupNeeded = false;
    try {
      const res = await fetch(`${apiUrl}/api/v1/auth/setup`);
      setupNeeded = res.ok && (await res.json()).needed === true;
    } catch {
      // the API answers below in its own log
    }
    process.stdout.write(
      `\nAccountDB web UI is running at ${url}\n${
        setupNeeded ? 'Open it to create the first admin.\n' : ''
      }\n`,
    );
  });
}
