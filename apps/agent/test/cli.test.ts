import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAccountDb } from './helpers/fake-accountdb.js';
import { FakePve } from './helpers/fake-pve.js';

// The bundled single file (what deploy/agent/install.sh installs), run as a real process.
const run = promisify(execFile);
const agentDir = fileURLToPath(new URL('..', import.meta.url));
let dir = '';
let bundle = '';
let pve: FakePve;
let adb: FakeAccountDb;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ACCOUNTDB_URL: adb.url,
    ACCOUNTDB_NODE_KEY: adb.key,
    PVE_URL: pve.url,
    PVE_TOKEN_ID: 'accountdb@pve!sync',
    PVE_TOKEN_SECRET: 'secret-uuid',
    HEALTH_PORT: 'off',
    ...extra,
  };
}

async function cli(
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, ...args], {
      env: env(extra),
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adb-agent-cli-'));
  bundle = join(dir, 'accountdb-agent.mjs');
  await run(process.execPath, [join(agentDir, 'scripts/bundle.mjs'), bundle], { timeout: 60_000 });
  pve = new FakePve();
  adb = new FakeAccountDb();
  await Promise.all([pve.start(), adb.start()]);
  pve.addGuest({ vmid: 101 });
  pve.addGuest({ vmid: 200, type: 'lxc' });
}, 90_000);

afterAll(async () => {
  await Promise.all([pve?.stop(), adb?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the bundled agent', () => {
  it('is one self-contained ESM file that prints its help', async () => {
    const text = readFileSync(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node')).toBe(true);
    expect(text).not.toMatch(/from ['"](undici|pino|commander|p-limit)['"]/);
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const command of ['run', 'once', 'check', 'status']) expect(stdout).toContain(command);
    expect((await cli(['--version'])).stdout.trim()).toBe('0.1.0');
  });

  it('exits 78 naming the variable on a bad configuration', async () => {
    const { code, stderr } = await cli(['once'], { SYNC_INTERVAL: 'often' });
    expect(code).toBe(78);
    expect(stderr).toContain('SYNC_INTERVAL');
  });

  it('once: exit 0 after a sync, 1 after a Proxmox error; --config file', async () => {
    const ok = await cli(['once', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'synced', stats: { guests: 2 } });
    const cfg = join(dir, 'agent.env');
    writeFileSync(cfg, 'PVE_TOKEN_SECRET=wrong\n');
    const bad = await cli(['--config', cfg, 'once', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ kind: 'pve_error' });
    expect(bad.stdout).not.toContain('wrong');
  });

  it('check: reports each connection, and what to fix', async () => {
    const good = await cli(['check']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('ok   AccountDB');
    expect(good.stdout).toContain('Proxmox VE 8.4.1');
    expect(good.stdout).toMatch(/warn token lacks VM\.Monitor/);
    expect(good.stdout).toContain('All checks passed');
    expect(good.stdout).not.toContain('secret-uuid');
    expect(good.stdout).not.toContain(adb.key);
    const bad = await cli(['check'], {
      PVE_TOKEN_SECRET: 'nope',
      ACCOUNTDB_NODE_KEY: 'adb_node_wrongwrongwrong',
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL AccountDB.*401/);
    expect(bad.stdout).toMatch(/fix: copy the node key/);
    expect(bad.stdout).toMatch(/FAIL Proxmox \/version: Proxmox answered 401/);
  });

  it('run: syncs, serves /healthz and /metrics, answers `status`, and stops cleanly on SIGTERM', async () => {
    const stateFile = join(dir, 'state.json');
    const child: ChildProcess = spawn(process.execPath, [bundle, 'run'], {
      env: env({ HEALTH_PORT: '0', STATE_FILE: stateFile, LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const deadline = Date.now() + 15_000;
    while (!/"msg":"synced"/.test(out) || !/healthz/.test(out)) {
      if (Date.now() > deadline) throw new Error(`agent did not sync: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const port = Number(/127\.0\.0\.1:(\d+)\/healthz/.exec(out)?.[1]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', guests: 2 });
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
      'accountdb_agent_cycles_total{outcome="synced"} 1',
    );
    const status = await cli(['status'], { HEALTH_PORT: String(port) });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('healthy');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('accountdb-agent stopped');
    // Structured logs, no secret in any line.
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(out).not.toContain('secret-uuid');
    expect(out).not.toContain(adb.key);
    const fromFile = await cli(['status'], { STATE_FILE: stateFile });
    expect(fromFile.stdout).toContain('from the state file');
  });
});
