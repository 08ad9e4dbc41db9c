import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/pve-sim.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

/** Starts the CLI and resolves with the KEY=value lines once it printed the token. */
async function startCli(
  args: string[],
): Promise<{ child: ChildProcess; env: Record<string, string> }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk) => {
    err += String(chunk);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pve-sim did not start: ${out} ${err}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('control API')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pve-sim exited with ${code}: ${out} ${err}`));
    });
  });
  const env = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => /^PVE_[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { child, env };
}

describe('pve-sim CLI', () => {
  it('starts with --vms/--nodes/--seed/--token-*, answers, and stops on SIGTERM', async () => {
    const { child, env } = await startCli([
      '--vms',
      '25',
      '--nodes',
      '2',
      '--port',
      '0',
      '--seed',
      '9',
      '--token-id',
      'inv@pve!cli',
      '--token-secret',
      'c1c1c1c1-0000-4000-8000-000000000001',
    ]);
    expect(env.PVE_TOKEN_ID).toBe('inv@pve!cli');
    const auth = `PVEAPIToken=${env.PVE_TOKEN_ID}=${env.PVE_TOKEN_SECRET}`;
    const res = await fetch(`${env.PVE_URL}/api2/json/cluster/resources?type=vm`, {
      headers: { authorization: auth },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(25);
    const status = await fetch(`${env.PVE_URL}/api2/json/cluster/status`, {
      headers: { authorization: auth },
    });
    expect(((await status.json()) as { data: unknown[] }).data).toHaveLength(3);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('serves TLS and writes the CA with --tls --ca-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pve-sim-'));
    try {
      const caFile = join(dir, 'ca.pem');
      const { env } = await startCli(['--vms', '5', '--port', '0', '--tls', '--ca-file', caFile]);
      expect(env.PVE_URL).toMatch(/^https:/);
      expect(env.PVE_FINGERPRINT).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
      try {
        const res = await undiciFetch(`${env.PVE_URL}/_sim/tls`, { dispatcher: agent });
        expect(((await res.json()) as { fingerprint: string }).fingerprint).toBe(
          env.PVE_FINGERPRINT,
        );
      } finally {
        await agent.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints help, and exits 2 on bad flags', async () => {
    const help = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    help.stdout.on('data', (c) => {
      text += String(c);
    });
    const [code] = await once(help, 'exit');
    expect(code).toBe(0);
    expect(text).toContain('--vms N');
    for (const args of [['--vms', 'many'], ['--bogus'], ['--nodes', '0']]) {
      const bad = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      bad.stderr.on('data', (c) => {
        err += String(c);
      });
      const [badCode] = await once(bad, 'exit');
      expect(badCode, args.join(' ')).toBe(2);
      expect(err).toMatch(/^pve-sim: /);
    }
  });
});
