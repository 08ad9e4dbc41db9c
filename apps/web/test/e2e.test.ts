import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the API on the embedded database in a temp data dir, the built web UI in
 * front of it, each on a random port. Skipped where Chromium is not installed; CI installs it.
 */

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEB = path.join(ROOT, 'apps/web');
const NEXT_BIN = path.join(ROOT, 'node_modules/next/dist/bin/next');
const SHOTS = path.join(ROOT, 'test-results');
const ADMIN = { username: 'admin', email: 'admin@example.com', password: 'correct horse battery' };

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

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(p).map((name) => newest(path.join(p, name))));
}

/** `next build` when the web's build is missing or older than its sources (as npm start). */
function ensureWebBuild(): void {
  const buildId = path.join(WEB, '.next/BUILD_ID');
  const sources = ['src', 'next.config.mjs', 'postcss.config.mjs', 'package.json'];
  const stale = Math.max(...sources.map((s) => newest(path.join(WEB, s))));
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= stale) return;
  const build = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
    cwd: WEB,
    encoding: 'utf8',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    timeout: 600_000,
  });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
}

interface Proc {
  child: ChildProcess;
  output: () => string;
}

function launch(args: string[], cwd: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  return { child, output: () => out };
}

async function waitFor(url: string, proc: Proc, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url}:\n${proc.output()}`);
}

describe.skipIf(!existsSync(CHROMIUM))('web UI in Chromium', () => {
  const procs: Proc[] = [];
  let dataDir = '';
  let apiUrl = '';
  let webUrl = '';
  let browser: Browser | undefined;
  let page: Page;

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `web-${name}.png`) });

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'adb-e2e-'));
    const [apiPort, webPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    for (const name of ['DATABASE_URL', 'TEST_DATABASE_URL', 'REDIS_URL', 'CORS_ORIGINS']) {
      delete env[name];
    }
    delete env.NODE_OPTIONS;
    const api = launch(['--import', 'tsx', path.join(ROOT, 'apps/api/src/server.ts')], ROOT, {
      ...env,
      NODE_ENV: 'test',
      ACCOUNTDB_DATA_DIR: dataDir,
      ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
      ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      // As npm start does: the web UI on this machine forwards the client's origin.
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'warn',
    });
    procs.push(api);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(`${apiUrl}/api/health`, api, 'the API');

    const web = launch([NEXT_BIN, 'start', '-p', String(webPort), '-H', '127.0.0.1'], WEB, {
      ...env,
      NODE_ENV: 'production',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
    });
    procs.push(web);
    webUrl = `http://127.0.0.1:${webPort}`;
    await waitFor(`${webUrl}/api/health`, web, 'the web UI');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    for (const proc of procs) proc.child.kill('SIGTERM');
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) resolve();
            else p.child.once('exit', () => resolve());
            setTimeout(() => {
              p.child.kill('SIGKILL');
              resolve();
            }, 10_000).unref();
          }),
      ),
    );
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('first-run setup → dashboard → logout → login → dashboard with counts', async () => {
    // A fresh installation sends the first visitor to setup.
    await page.goto(`${webUrl}/`);
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Welcome to AccountDB' }).waitFor();
    // The form checks the API's rules before sending.
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('E-mail').fill('not an address');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByText('A valid e-mail address.').waitFor();
    await page.getByText('At least 12 characters.').waitFor();
    await shot('1-setup');

    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.waitForURL(`${webUrl}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await expect.poll(() => page.getByTestId('total-accounts').textContent()).toBe('0');
    await shot('2-dashboard-empty');

    // A reload loses the in-memory access token; the refresh cookie brings the session back.
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    // Log out through the user menu.
    await page.getByLabel(`User menu for ${ADMIN.username}`).click();
    await page.getByRole('link', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    // The session is gone: the dashboard sends back to login, with the way back.
    await page.goto(`${webUrl}/`);
    await page.waitForURL('**/login');

    // Meanwhile, a script adds data through the API.
    const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const create = (resource: string, body: unknown) =>
      fetch(`${apiUrl}/api/v1/${resource}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).then((res) => expect(res.status, resource).toBe(201));
    await create('accounts', { username: 'steam_one', service: 'steam' });
    await create('accounts', { username: 'steam_two', service: 'steam', status: 'banned' });

    // A wrong password is refused with the API's message.
    await page.getByLabel('Username or e-mail').fill(ADMIN.username);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByText(/invalid|wrong|incorrect/i)
      .first()
      .waitFor();
    await shot('3-login');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${webUrl}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await expect.poll(() => page.getByTestId('total-accounts').textContent()).toBe('2');
    await page.getByText('auth.login').first().waitFor();

    // The dashboard polls: a new account shows up without a reload.
    await create('accounts', { username: 'steam_three', service: 'steam' });
    await expect
      .poll(() => page.getByTestId('total-accounts').textContent(), { timeout: 15_000 })
      .toBe('3');
    await shot('4-dashboard');

    // Dark mode: system → light → dark.
    await page.getByRole('button', { name: /^Theme: System theme/ }).click();
    await page.getByRole('button', { name: /^Theme: Light/ }).click();
    await expect.poll(() => page.locator('html').getAttribute('class')).toContain('dark');
    await shot('5-dashboard-dark');
  }, 120_000);
});
