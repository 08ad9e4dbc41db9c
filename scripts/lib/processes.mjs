// Shared by `npm start` and `npm run demo`: building what is stale, and a group of child
// processes that stops together (Ctrl-C, SIGTERM, or any one of them exiting).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const webDir = path.join(root, 'apps/web');
export const nextBin = path.join(root, 'node_modules/next/dist/bin/next');
/** The web UI's server (Next.js behind the /api forwarding); `--dev` for next dev. */
export const webServer = path.join(webDir, 'server/main.mjs');
/** What it prints once it listens. */
export const WEB_READY = /accountdb-web: ready in/;

export function fail(message, code = 1) {
  process.stderr.write(`accountdb: ${message}\n`);
  process.exit(code);
}

/** tsc -b apps/api (incremental: quick when nothing changed). */
export function buildApi() {
  const tsc = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'apps/api'],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0) fail('API build failed', tsc.status ?? 1);
}

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

/** `next build` when apps/web/.next is missing or older than the web's sources. */
export function buildWebIfStale() {
  const buildId = path.join(webDir, '.next/BUILD_ID');
  const sources = ['src', 'public', 'next.config.mjs', 'postcss.config.mjs', 'package.json'].map(
    (p) => path.join(webDir, p),
  );
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newest(sources)) return;
  process.stdout.write('accountdb: building the web UI (next build)…\n');
  const build = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: webDir,
    stdio: 'inherit',
    env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env },
  });
  if (build.status !== 0) fail('web UI build failed (apps/web: next build)', build.status ?? 1);
}

/** "http://host:port" for a listen address, with 0.0.0.0/:: shown as 127.0.0.1. */
export function localUrl(host, port) {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** Polls url until it answers 2xx; false after the timeout or once the group stops. */
export async function waitForHttp(url, group, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !group.stopping) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Child processes that live and die together: when one exits on its own, the others are
 * stopped; SIGINT/SIGTERM stop all of them. `onStopped` runs once every child has exited.
 */
export class ProcessGroup {
  children = new Set();
  stopping = false;
  #onStopped;

  constructor({ onStopped } = {}) {
    this.#onStopped = onStopped;
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => this.stop(signal));
  }

  /** Starts `node args…`; its exit stops the group unless the group is already stopping. */
  start(name, args, options = {}) {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });
    this.children.add(child);
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      if (!this.stopping) {
        process.stderr.write(`accountdb: the ${name} stopped (${code ?? signal}); stopping\n`);
        process.exitCode = code || 1;
        this.stop('SIGTERM');
      } else if (code && !process.exitCode && signal === null && code !== 130 && code !== 143) {
        process.exitCode = code;
      }
      if (this.stopping && this.children.size === 0) this.#finish();
    });
    return child;
  }

  stop(signal = 'SIGTERM') {
    const first = !this.stopping;
    this.stopping = true;
    for (const child of this.children) child.kill(signal);
    if (first && this.children.size === 0) this.#finish();
  }

  #finished = false;
  #finish() {
    if (this.#finished) return;
    this.#finished = true;
    this.#onStopped?.();
  }
}
