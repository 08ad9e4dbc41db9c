import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Smoke test of `npm run demo` (without the web UI, which the e2e test covers): the
 * simulator, the API and three real agent processes start, the agents sync, the seeded demo
 * user sees the VMs and nodes online, statuses drift, and Ctrl-C stops everything.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUESTS = 60;

async function freePort(): Promise<number> {
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

let demo: ChildProcess | undefined;
let output = '';
afterAll(() => {
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (demo?.exitCode !== null) throw new Error(`the demo exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('npm run demo', () => {
  it('starts, syncs real agents, shows the demo user their VMs and stops on Ctrl-C', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, API_PORT: String(port) };
    for (const name of ['DATABASE_URL', 'TEST_DATABASE_URL', 'NODE_OPTIONS']) delete env[name];
    demo = spawn(process.execPath, ['scripts/demo.mjs', '--no-web', '--vms', String(GUESTS)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    demo.stderr?.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    await until(
      'the demo banner',
      async () => (output.includes('AccountDB demo is running') ? true : undefined),
      180_000,
    );
    expect(output).toMatch(/Log in: {2}demo \/ demo-password-123/);
    // The demo made the admin: the API's "first visit creates the admin" would be untrue.
    expect(output).toContain('AccountDB API');
    expect(output).not.toContain('The database is empty');
    expect(output).toContain('started (syncs every 10 s)');

    const api = `http://127.0.0.1:${port}/api/v1`;
    const login = await fetch(`${api}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo-password-123' }),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const get = async (path: string) => {
      const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, path).toBe(200);
      return res.json();
    };

    const counts = (await get('/dashboard')) as {
      accounts: { total: number };
      cards: { total: number };
    };
    expect(counts.accounts.total).toBe(120);
    expect(counts.cards.total).toBe(60);

    // Every guest of the three nodes arrives through the agents, and the nodes are online.
    const first = await until('all guests synced', async () => {
      const page = (await get('/vms?limit=500')) as {
        items: Array<{ id: string; status: string }>;
        total: number;
      };
      return page.total === GUESTS ? page.items : undefined;
    });
    const nodes = (await get('/proxmox-nodes?limit=10')) as {
      items: Array<{ name: string; status: string; sync_interval_s: number }>;
    };
    // What the banner says is what AccountDB tells the agents (its interval wins).
    expect(nodes.items.map((n) => n.sync_interval_s)).toEqual([10, 10, 10]);
    expect(nodes.items.map((n) => [n.name, n.status]).sort()).toEqual([
      ['pve1', 'online'],
      ['pve2', 'online'],
      ['pve3', 'online'],
    ]);

    // The simulator drifts: some VM's status changes and the agents bring it in.
    const before = new Map(first.map((vm) => [vm.id, vm.status]));
    await until(
      'a status change',
      async () => {
        const page = (await get('/vms?limit=500')) as {
          items: Array<{ id: string; status: string }>;
        };
        return page.items.some((vm) => before.get(vm.id) !== vm.status) ? true : undefined;
      },
      90_000,
    );

    // Ctrl-C stops the simulator, the API and the agents, and deletes the demo data.
    const exited = new Promise<number | null>((resolve) =>
      demo?.once('exit', (code) => resolve(code)),
    );
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('demo: stopped; the demo data is deleted');
    await expect(fetch(`${api}/auth/setup`)).rejects.toThrow();
  }, 300_000);
});
