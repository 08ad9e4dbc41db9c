import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../api/test/helpers/server-process.js';

/**
 * The built web UI as `npm start` runs it (apps/web/server/main.mjs: Next.js behind the /api
 * forwarding), for tests that go through it to a real API process.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const WEB = path.join(ROOT, 'apps/web');
const NEXT_BIN = path.join(ROOT, 'node_modules/next/dist/bin/next');
const SERVER = path.join(WEB, 'server/main.mjs');
const BUILD_LOCK = path.join(WEB, '.next-build.lock');
const BUILD_TIMEOUT_MS = 600_000;

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(p).map((name) => newest(path.join(p, name))));
}

/** True when the web's build exists and is newer than its sources (as npm start decides). */
function builtFresh(): boolean {
  const buildId = path.join(WEB, '.next/BUILD_ID');
  const sources = ['src', 'next.config.mjs', 'postcss.config.mjs', 'package.json'];
  const stale = Math.max(...sources.map((s) => newest(path.join(WEB, s))));
  return existsSync(buildId) && statSync(buildId).mtimeMs >= stale;
}

/**
 * `next build` when the web's build is missing or stale. Test files run side by side (the
 * e2e test and forwarding.test.ts both need the build): one builds, holding a lock file, the
 * others wait for it and use its build. A lock older than the build's time limit is a dead
 * run's and is taken over.
 */
export async function ensureWebBuild(): Promise<void> {
  for (;;) {
    let lock: number;
    try {
      lock = openSync(BUILD_LOCK, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = statSync(BUILD_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > BUILD_TIMEOUT_MS) rmSync(BUILD_LOCK, { force: true });
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      if (!builtFresh()) {
        const build = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
          cwd: WEB,
          encoding: 'utf8',
          env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
          timeout: BUILD_TIMEOUT_MS,
        });
        if (build.status !== 0) {
          throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
        }
      }
    } finally {
      closeSync(lock);
      rmSync(BUILD_LOCK, { force: true });
    }
    return;
  }
}

export interface WebServer {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
}

/**
 * Starts the web server on a free port of 127.0.0.1 in front of the API on `apiPort`, and
 * waits until it listens. `env` is the environment it gets (plus the API's address); NODE_ENV
 * is left to the server, which runs the built app as production.
 */
export async function startWeb(options: {
  apiPort: number;
  env: NodeJS.ProcessEnv;
  /** The port to listen on (default: a free one). */
  port?: number;
}): Promise<WebServer> {
  const port = options.port ?? (await freePort());
  // (An undefined value is left out of the child's environment.)
  const env: Record<string, string | undefined> = {
    ...options.env,
    NODE_ENV: undefined,
    NEXT_TELEMETRY_DISABLED: '1',
    API_HOST: '127.0.0.1',
    API_PORT: String(options.apiPort),
  };
  const child = spawn(process.execPath, [SERVER, '-p', String(port), '-H', '127.0.0.1'], {
    cwd: WEB,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the web server did not start:\n${out}`)),
      90_000,
    );
    const collect = (d: string) => {
      out += d;
      if (/accountdb-web: ready in/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.setEncoding('utf8').on('data', collect);
    child.stderr?.setEncoding('utf8').on('data', collect);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the web server exited (${code ?? signal}):\n${out}`));
    });
  });
  await ready;
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => out };
}

/** SIGTERM, and SIGKILL when it has not exited within 10 s. */
export async function stopWeb(web: WebServer): Promise<void> {
  if (web.child.exitCode !== null || web.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => web.child.once('exit', () => resolve()));
  web.child.kill('SIGTERM');
  const timer = setTimeout(() => web.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
