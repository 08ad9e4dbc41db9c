import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** Real API server processes for tests: start, wait until healthy, stop, clean up. */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SERVER = path.join(ROOT, 'apps/api/src/server.ts');
export const START_TIMEOUT_MS = 60_000;

export interface Server {
  child: ChildProcess;
  port: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];

/** Kills what a test that failed half-way left running (call in afterEach). */
export function killServers(): void {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The environment of the test run, without anything that would pick a database or keys. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'TEST_DATABASE_URL',
    'ACCOUNTDB_SECRET_KEY',
    'ACCOUNTDB_JWT_SECRET',
    'API_HOST',
    'API_PORT',
    'REDIS_URL',
    'CORS_ORIGINS',
    'TRUST_PROXY',
    'NODE_ENV',
    'NODE_OPTIONS',
  ]) {
    delete env[name];
  }
  // No test server reaches Steam's time source; a test that wants one sets a fake.
  return { ...env, LOG_LEVEL: 'info', NO_COLOR: '1', ACCOUNTDB_STEAM_TIME_URL: 'off' };
}

export function start(env: NodeJS.ProcessEnv, port: number): Server {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const hasExited = (s: Server) => s.child.exitCode !== null || s.child.signalCode !== null;

/** Polls until check() is true; fails early if the process died. */
export async function until(s: Server, what: string, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (hasExited(s)) {
      throw new Error(
        `server exited (${s.child.exitCode ?? s.child.signalCode}) before ${what}\nstdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`,
      );
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}\nstdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`);
}

export async function waitHealthy(s: Server): Promise<void> {
  await until(s, 'GET /api/health ok', async () => {
    try {
      const res = await fetch(`${s.url}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status !== 200) return false;
      const body = (await res.json()) as { status?: string; db?: string };
      return body.status === 'ok' && body.db === 'ok';
    } catch {
      return false;
    }
  });
}

/** SIGTERM, then the exit code, within 10 s. */
export async function stop(s: Server): Promise<number | null> {
  const t0 = Date.now();
  s.child.kill('SIGTERM');
  const result = await Promise.race([s.exited, sleep(10_000).then(() => 'timeout' as const)]);
  if (result === 'timeout') {
    throw new Error(
      `no exit within 10 s of SIGTERM\nstdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`,
    );
  }
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(result.signal, s.stderr()).toBeNull();
  return result.code;
}
