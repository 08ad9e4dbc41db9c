#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then starts the API and the web UI.
// - the API: tsc -b (incremental); it runs its migrations at start and prints its URL.
// - the web: `next build` when apps/web/.next is missing or older than the web's sources.
// A failed build stops here with its exit code. The web starts once the API answers, serves
// on WEB_PORT (3000) and forwards /api/* to the API (apps/web/server/main.mjs). Ctrl-C
// (SIGINT) or SIGTERM stops both.
// `npm run dev` (--dev): no builds; the API under `tsx watch` and the web server with
// next dev, both reloading on every change.
import path from 'node:path';
import {
  buildApi,
  buildWebIfStale,
  localUrl,
  ProcessGroup,
  root,
  WEB_READY,
  waitForHttp,
  webDir,
  webServer,
} from './lib/processes.mjs';

const dev = process.argv.includes('--dev');
if (!dev) {
  buildApi();
  buildWebIfStale();
}

const apiHost = process.env.API_HOST || '127.0.0.1';
const apiPort = process.env.API_PORT || '8080';
const webPort = process.env.WEB_PORT || '3000';
// The web UI forwards /api/* from this machine with X-Forwarded-For/-Host/-Proto set to what
// it saw itself (the client's own claims are dropped; WEB_TRUST_PROXY names proxies in front
// of it). Let the API believe the web UI, for rate limits, audit entries and the refresh
// cookie's Origin check. An explicit TRUST_PROXY wins.
const apiEnv = { ...process.env, TRUST_PROXY: process.env.TRUST_PROXY || 'loopback' };

const group = new ProcessGroup();
const apiArgs = dev
  ? [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'watch', 'apps/api/src/server.ts']
  : ['apps/api/dist/server.js'];
group.start('API', apiArgs, { env: apiEnv });

const loopback = apiHost === '0.0.0.0' || apiHost === '::' ? '127.0.0.1' : apiHost;
const apiUrl = localUrl(loopback, apiPort);

if (!(await waitForHttp(`${apiUrl}/api/health`, group))) {
  if (!group.stopping) {
    process.stderr.write(`accountdb: the API did not answer at ${apiUrl}/api/health\n`);
    process.exitCode = 1;
    group.stop('SIGTERM');
  }
} else {
  const web = group.start(
    'web UI',
    [webServer, ...(dev ? ['--dev'] : []), '-p', webPort, '-H', apiHost],
    {
      cwd: webDir,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env, API_HOST: loopback, API_PORT: apiPort },
    },
  );
  let announced = false;
  web.stdout.on('data', async (chunk) => {
    process.stdout.write(chunk);
    if (announced || !WEB_READY.test(chunk.toString())) return;
    announced = true;
    let setupNeeded = false;
    try {
      const res = await fetch(`${apiUrl}/api/v1/auth/setup`);
      setupNeeded = res.ok && (await res.json()).needed === true;
    } catch {
      // the API answers below in its own log
    }
    process.stdout.write(
      `\nAccountDB web UI is running at ${localUrl(apiHost, webPort)}\n${
        setupNeeded ? 'Open it to create the first admin.\n' : ''
      }\n`,
    );
  });
}
