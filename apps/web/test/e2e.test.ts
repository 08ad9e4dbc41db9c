import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sdaEncrypt, sdaManifest, sdaNewText } from '../../api/test/helpers/ma-files.js';
import { ensureWebBuild, startWeb } from './helpers/web-process.js';

/**
 * End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the API on the embedded database in a temp data dir, the built web UI in
 * front of it, each on a random port. Skipped where Chromium is not installed; CI installs it.
 * Every page runs under the web server's Content Security Policy: a violation the browser
 * reports fails the test it happened in.
 */

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
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
  let webPort = 0;
  let browser: Browser | undefined;
  let page: Page;
  const cspViolations: string[] = [];
  const missingFiles: string[] = [];
  /** The agent key of the node registered below. */
  let nodeKey = '';

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `web-${name}.png`) });

  beforeAll(async () => {
    await ensureWebBuild();
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'adb-e2e-'));
    const apiPort = await freePort();
    webPort = await freePort();
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
      // Passkeys need a host name (browsers refuse an IP address as the RP ID): the passkey
      // step reaches the same web UI as http://localhost.
      ACCOUNTDB_WEBAUTHN_ORIGIN: `http://localhost:${webPort}`,
      LOG_LEVEL: 'warn',
    });
    procs.push(api);
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(`${apiUrl}/api/health`, api, 'the API');

    const web = await startWeb({ apiPort, env, port: webPort });
    procs.push(web);
    webUrl = web.url;
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
    // CSP violations: the page's securitypolicyviolation events (reported through a binding,
    // which like the init script is not subject to the page's policy) and console errors.
    await page.exposeFunction('reportCspViolation', (text: string) => {
      cspViolations.push(text);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { reportCspViolation: (t: string) => void })
          .reportCspViolation;
        report(
          `${e.effectiveDirective} refused ${e.blockedURI || 'inline code'} (${e.sourceFile}:${e.lineNumber})`,
        );
      });
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) {
        cspViolations.push(message.text());
      }
    });
    // Files of the web UI that are not there (a missing icon, a link to no page). The API's
    // 404s are answers (another user's object) and are not counted.
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (response.status() === 404 && url.origin === new URL(webUrl).origin) {
        if (!url.pathname.startsWith('/api/')) missingFiles.push(url.pathname);
      }
    });
  }, 600_000);

  // A failing step leaves a picture of where it stopped (test-results/failed-<step>.png).
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !page) return;
    const name = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    await page.screenshot({ path: path.join(SHOTS, `failed-${name}.png`) }).catch(() => undefined);
    // And what the API logged (warnings and errors: a 5xx's cause is there, by request id).
    writeFileSync(path.join(SHOTS, `failed-${name}.api.log`), procs[0]?.output() ?? '');
  });

  afterEach(() => {
    expect(cspViolations.splice(0), 'Content Security Policy violations').toEqual([]);
    expect(missingFiles.splice(0), 'web UI files answered 404').toEqual([]);
  });

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
    // A fresh installation sends the first visitor to setup. The page comes with the web
    // server's policy: scripts only with this answer's nonce.
    const first = await page.goto(`${webUrl}/`);
    expect(first?.headers()['content-security-policy']).toMatch(
      /script-src 'self' 'nonce-[^']+' 'strict-dynamic';/,
    );
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
    await page.getByRole('menuitem', { name: 'Log out' }).click();
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
    // Back to light for the rest of the screenshots.
    await page.getByRole('button', { name: /^Theme: Dark/ }).click();
  }, 120_000);

  /** An access token of the admin for checks through the API beside the browser. */
  async function adminToken(): Promise<string> {
    const res = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const apiGet = async (token: string, url: string) => {
    const res = await fetch(`${apiUrl}/api/v1${url}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status, url).toBe(200);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  /**
   * Submits a login and waits for where it leads. The run logs in often from one address, so
   * a per-IP 429 ("retry in N seconds", shown by the form) is waited out, up to three times.
   */
  async function throughRateLimit(
    on: Page,
    submit: () => Promise<void>,
    arrived: () => Promise<unknown>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      await submit();
      const limited = on.getByText(/Too many requests; retry in (\d+) seconds/);
      const outcome = await Promise.race([
        arrived().then(() => 'in' as const),
        limited.waitFor().then(() => 'limited' as const),
      ]).catch(() => 'timeout' as const);
      if (outcome !== 'limited') return;
      const wait = Number((await limited.textContent())?.match(/(\d+) seconds/)?.[1] ?? 5);
      await on.waitForTimeout((wait + 1) * 1000);
      // The 429 may have been another request's (the page's session refresh) while the login
      // went through: then there is nothing to submit again.
      if (!new URL(on.url()).pathname.startsWith('/login')) return;
    }
  }
  let accountUrl = '';

  it('creates an account with secrets, reveals and copies them, shows its 2FA code', async () => {
    await page
      .context()
      .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: webUrl });
    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByRole('link', { name: 'New account' }).click();
    await page.getByRole('heading', { name: 'New account' }).waitFor();
    // The form checks the API's rules first.
    await page.getByLabel('2FA secret').fill('not base32!');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter the username.').waitFor();
    await page.getByText('Base32 letters and digits 2-7, or an otpauth://totp/ URI.').waitFor();

    await page.getByLabel('Username').fill('e2e_main');
    await page.getByLabel('E-mail', { exact: true }).fill('e2e_main@example.com');
    await page.getByLabel('Password', { exact: true }).fill('hunter2 but longer');
    await page.getByLabel('2FA secret').fill(TOTP_SECRET);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/accounts\/[0-9a-f-]{36}$/);
    accountUrl = new URL(page.url()).pathname;
    await page.getByRole('heading', { name: /e2e_main/ }).waitFor();

    // Hidden until revealed; the reveal goes to the API and is audited.
    await expect
      .poll(() => page.getByTestId('secret-password').textContent())
      .not.toContain('hunter2');
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await expect
      .poll(() => page.getByTestId('secret-password').textContent())
      .toBe('hunter2 but longer');
    // Hidden again, a copy reads the secret from the API once more (audited again).
    await page.getByRole('button', { name: 'Hide password' }).click();
    await expect
      .poll(() => page.getByTestId('secret-password').textContent())
      .not.toContain('hunter2');
    await page.getByRole('button', { name: 'Copy password' }).click();
    await expect.poll(clipboard).toBe('hunter2 but longer');

    // The live 2FA code, on request (opening the page reads none), is the RFC 6238 code of
    // the secret (this period or the next).
    await page.getByRole('button', { name: 'Show 2FA code' }).click();
    const code = await page.getByTestId('totp-code').textContent();
    const now = Date.now();
    expect([totp(TOTP_SECRET, now), totp(TOTP_SECRET, now - 30_000)]).toContain(code);
    await page.getByRole('button', { name: 'Copy 2FA code' }).click();
    await expect.poll(clipboard).toBe(code);
    await shot('6-account-detail');

    const token = await adminToken();
    const audit = (await apiGet(token, '/audit?action=account.reveal_secrets&limit=50')) as {
      items: Array<{ details: Record<string, unknown> }>;
    };
    expect(audit.items.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(audit.items)).not.toContain('hunter2');
  }, 120_000);

  it('imports a file after a dry run, then tags the imported accounts in bulk', async () => {
    await page.goto(`${webUrl}/accounts`);
    await page.getByRole('link', { name: 'Import' }).click();
    await page.getByRole('heading', { name: 'Import accounts' }).waitFor();
    const lines = [
      { service: 'steam', username: 'imp_one', password: 'p1 long enough' },
      { service: 'steam', username: 'imp_two', totp_secret: TOTP_SECRET },
      { service: 'epic', username: 'imp_three', email: 'three@example.com' },
      { service: 'steam', password: 'no username here' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    await page.getByLabel('Paste accounts').fill(lines);
    await page.getByRole('button', { name: 'Check' }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent(), { timeout: 20_000 })
      .toMatch(/Would create 3, update 0; 1 failed/);
    await page
      .getByRole('cell', { name: /username/ })
      .first()
      .waitFor();
    await shot('7-import-preview');
    // The dry run wrote nothing.
    const token = await adminToken();
    expect(((await apiGet(token, '/accounts?q=imp_&limit=10')) as { total: number }).total).toBe(0);

    await page.getByRole('button', { name: /^Import 3 accounts$/ }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent(), { timeout: 20_000 })
      .toMatch(/^Created 3/);
    await page.getByRole('link', { name: 'Show accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();

    // Search puts the query in the URL; the three imported ones are found.
    await page.getByRole('searchbox', { name: 'Search accounts' }).fill('imp_');
    await page.waitForURL(/q=imp_/);
    await expect
      .poll(() => page.getByTestId('accounts-count').textContent())
      .toBe('3 accounts matching');
    await page.getByRole('checkbox', { name: 'Select all loaded accounts' }).check();
    await expect.poll(() => page.getByTestId('selected-count').textContent()).toBe('3 selected');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('dialog').getByLabel('Tag').fill('batch-e2e');
    await page.getByRole('dialog').getByRole('button', { name: 'Add tag' }).click();
    await page.getByText('Added tag "batch-e2e" to 3 accounts.').waitFor();
    await shot('8-accounts-list');
    const tagged = (await apiGet(token, '/accounts?tag=batch-e2e&limit=10')) as {
      items: Array<{ username: string }>;
    };
    expect(tagged.items.map((a) => a.username).sort()).toEqual(['imp_one', 'imp_three', 'imp_two']);
  }, 120_000);

  it('registers a node and shows its agent key once; edits the whitelist', async () => {
    await page.getByRole('link', { name: 'Nodes', exact: true }).click();
    await page.getByRole('heading', { name: 'Nodes' }).waitFor();
    await page.getByRole('link', { name: 'Register node' }).click();
    await page.getByRole('heading', { name: 'Register node' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('pve-e2e');
    await page.getByRole('button', { name: 'Register node' }).click();
    const key = (await page.getByTestId('node-api-key').textContent()) ?? '';
    expect(key).toMatch(/^adb_node_/);
    nodeKey = key;
    await page.getByRole('button', { name: 'Copy key' }).click();
    await expect.poll(clipboard).toBe(key);
    await shot('9-node-key');
    // The key is a working agent key.
    const config = await fetch(`${apiUrl}/api/v1/agent/config`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(config.status).toBe(200);

    await page.getByRole('button', { name: 'I have saved the key' }).click();
    await page.waitForURL(/\/nodes\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: /pve-e2e/ }).waitFor();
    expect(await page.getByTestId('node-api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    await page.getByRole('radio', { name: 'Only the VMIDs on the whitelist' }).check();
    await page.getByLabel('VMID', { exact: true }).fill('abc');
    await page.getByRole('button', { name: 'Add to whitelist' }).click();
    await page.getByText('A VMID is a whole number, e.g. 101.').waitFor();
    await page.getByLabel('VMID', { exact: true }).fill('101');
    await page.getByRole('button', { name: 'Add to whitelist' }).click();
    await page.getByRole('button', { name: 'Remove 101 from the whitelist' }).waitFor();
    await shot('10-node-detail');
  }, 120_000);

  it("shows a VM's status change in the open VM list without a reload (live updates)", async () => {
    let observed = Date.parse('2026-11-24T10:00:00Z');
    const sync = async (status: string, extra: Record<string, unknown> = {}) => {
      observed += 60_000;
      const res = await fetch(`${apiUrl}/api/v1/agent/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          cycle_id: `e2e-live-${observed}`,
          observed_at: new Date(observed).toISOString(),
          agent_version: '0.1.0',
          complete: true,
          vms: [{ vmid: 101, type: 'qemu', name: 'e2e-live-101', status }],
          ...extra,
        }),
      });
      expect(res.status, await res.text()).toBe(200);
    };
    await sync('running');
    await page.goto(`${webUrl}/vms`);
    await page.getByRole('heading', { name: 'VMs', exact: true }).waitFor();
    const row = page.locator('tr', { hasText: 'e2e-live-101' });
    await row.getByText('running', { exact: true }).waitFor();
    await expect
      .poll(() => page.getByTestId('live-indicator').getAttribute('data-state'))
      .toBe('on');
    // A mark on this page: a reload would lose it.
    await page.evaluate(() => {
      (window as unknown as { liveMark: number }).liveMark = 42;
    });

    // The agent reports the VM stopped; the open list shows it well before its 30 s fallback poll.
    const sent = Date.now();
    await sync('stopped');
    await row.getByText('stopped', { exact: true }).waitFor({ timeout: 10_000 });
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(await page.evaluate(() => (window as unknown as { liveMark?: number }).liveMark)).toBe(
      42,
    );
    await shot('10b-vm-list-live');

    // "Sync now" on the node's page: the agent's config carries the request; the sync that
    // serves it clears it, and the open page shows that without a reload.
    await page.getByRole('link', { name: 'Nodes', exact: true }).click();
    await page.getByRole('link', { name: 'pve-e2e' }).click();
    await page.getByRole('heading', { name: /pve-e2e/ }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('button', { name: 'Sync requested…' }).waitFor();
    const config = await fetch(`${apiUrl}/api/v1/agent/config`, {
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    const requested = ((await config.json()) as { sync_requested_at: string | null })
      .sync_requested_at;
    expect(requested).toEqual(expect.any(String));
    await sync('stopped', { sync_request: requested, duration_ms: 1234 });
    await page.getByRole('button', { name: 'Sync now' }).waitFor({ timeout: 10_000 });
    await page.getByText('1.2 s').waitFor();
    await shot('10c-node-sync-now');
  }, 120_000);

  it('shows every main page', async () => {
    for (const [path, heading, name] of [
      ['/vms', 'VMs', '11-vms'],
      ['/hardware', 'Hardware', '12-hardware'],
      ['/cards', 'Cards', '13-cards'],
      ['/audit', 'Audit log', '14-audit'],
      ['/admin/users', 'Users', '15-users'],
      ['/settings', 'Settings', '16-settings'],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await shot(name);
    }
    // The command palette finds the account by name.
    await page.keyboard.press('Control+k');
    await page
      .getByRole('combobox', { name: 'Search records, pages and commands' })
      .fill('e2e_main');
    await page.getByRole('option', { name: /e2e_main/ }).waitFor();
    await shot('17-command-palette');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${webUrl}${accountUrl}`);
    // A phone-sized screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${webUrl}/accounts`);
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByRole('link', { name: 'e2e_main' }).waitFor();
    await shot('18-accounts-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 120_000);

  it('creates hardware, finds it by its MAC in another spelling, deletes it from its page', async () => {
    await page.goto(`${webUrl}/hardware/new`);
    await page.getByLabel('Computer name').fill('DESKTOP-E2E01');
    await page.getByLabel('MAC address', { exact: true }).fill('BC:24:11:E2:E0:01');
    await page.getByRole('button', { name: 'Create hardware profile' }).click();
    await page.waitForURL(/\/hardware\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: /DESKTOP-E2E01/ }).waitFor();

    await page.goto(`${webUrl}/hardware`);
    await page.getByLabel('MAC address to find').fill('bc24.11e2.e001');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(/mac_address=bc24\.11e2\.e001/);
    await page.getByRole('link', { name: 'DESKTOP-E2E01' }).click();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete profile' }).click();
    await page.waitForURL(`${webUrl}/hardware`);
    await page.getByText('Deleted.').waitFor();
    await page.getByText('No hardware profiles yet').waitFor();
    await shot('19-hardware-deleted');
  }, 120_000);

  /** A short random suffix: each import test below works on names and ids of its own. */
  const rand = () => randomBytes(4).toString('hex');
  /** A SteamID64-shaped id of its own (17 digits). */
  const steamId = () =>
    `7656119${String(randomBytes(5).readUIntBE(0, 5) % 1e10).padStart(10, '0')}`;

  it("imports the earlier AccountDB's dotted-header CSV: format detected, flags as status and tags, a bad row named by its column", async () => {
    const prefix = `lg${rand()}_`;
    const token = await adminToken();
    await page.goto(`${webUrl}/accounts/import`);
    await page.getByRole('heading', { name: 'Import accounts' }).waitFor();
    // The earlier upload CSV (LEGACY.md: dotted headers, its flags prime/lock/perm_lock).
    const csv = [
      'id,user.username,user.password,email.address,metadata.createdAt,metadata.tags,prime,lock,perm_lock',
      `${steamId()},${prefix}prime,pw1,p@example.com,1620000000,farm;eu,true,false,false`,
      `${steamId()},${prefix}locked,pw2,,1620000001,,false,true,false`,
      `${steamId()},${prefix}gone,pw3,,1620000002,,false,true,true`,
      `${steamId()},,pw4,,1620000003,,false,false,false`,
    ].join('\r\n');
    await page.getByLabel('Paste accounts').fill(csv);
    await expect
      .poll(() => page.getByTestId('import-detected').textContent())
      .toBe('Detected: earlier AccountDB upload CSV (dotted headers)');
    await page.getByRole('button', { name: 'Check' }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent())
      .toBe(
        'Would create 3, update 0; 1 failed (read as earlier AccountDB upload CSV (dotted headers)).',
      );
    // The bad row by its line, under the column the file has.
    const bad = page.getByRole('row', { name: /user\.username is required/ });
    expect(await bad.getByRole('cell').first().textContent()).toBe('5');
    await shot('20-legacy-csv-preview');
    await page.getByRole('button', { name: /^Import 3 accounts$/ }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent(), { timeout: 20_000 })
      .toMatch(/^Created 3/);
    await page.getByRole('link', { name: 'Show accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search accounts' }).fill(prefix);
    await expect
      .poll(() => page.getByTestId('accounts-count').textContent())
      .toBe('3 accounts matching');
    const row = (name: string) => page.getByRole('row', { name: new RegExp(`${prefix}${name}`) });
    // prime → active + tag prime; lock → locked; perm_lock (with lock) → disabled + tag lock.
    await expect.poll(() => row('prime').textContent()).toMatch(/active.*(farm.*eu.*prime|prime)/);
    expect(await row('prime').textContent()).toContain('prime');
    expect(await row('locked').textContent()).toContain('locked');
    expect(await row('gone').textContent()).toContain('disabled');
    await shot('21-legacy-csv-accounts');
    const got = (await apiGet(token, `/accounts?q=${prefix}&limit=10`)) as {
      items: Array<{ username: string; status: string; tags: string[] }>;
    };
    const by = new Map(got.items.map((a) => [a.username.slice(prefix.length), a]));
    expect(by.get('prime')).toMatchObject({ status: 'active' });
    expect(by.get('prime')?.tags.sort()).toEqual(['eu', 'farm', 'prime']);
    expect(by.get('locked')).toMatchObject({ status: 'locked', tags: [] });
    expect(by.get('gone')).toMatchObject({ status: 'disabled', tags: ['lock'] });
  }, 120_000);

  it('imports an encrypted SDA maFiles folder: asks for the passkey, refuses a wrong one, imports with the right one', async () => {
    const passkey = `pk-${rand()}`;
    const names = [`sda${rand()}a`, `sda${rand()}b`];
    const ids = names.map(() => steamId());
    // SDA's encryption as SDA describes it (see ../../api/test/helpers/ma-files.ts):
    // PBKDF2-HMAC-SHA1 with the file's salt, 50,000 rounds, AES-256-CBC with its IV; the salt
    // and IV of each file in manifest.json.
    const entries = names.map((name, i) => ({
      filename: `${ids[i]}.maFile`,
      steamId: ids[i] as string,
      salt: randomBytes(8),
      iv: randomBytes(16),
      text: sdaNewText({ steamId: ids[i] as string, name, serial: '12345678901234567890' }),
    }));
    const files = [
      {
        name: 'manifest.json',
        mimeType: 'application/json',
        buffer: Buffer.from(sdaManifest({ encrypted: true, entries })),
      },
      ...entries.map((e) => ({
        name: e.filename,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(sdaEncrypt({ passkey, salt: e.salt, iv: e.iv, text: e.text })),
      })),
    ];
    await page.goto(`${webUrl}/accounts/import/mafiles`);
    await page.getByRole('heading', { name: 'Import a Steam Guard folder' }).waitFor();
    await page.getByLabel('Choose files').setInputFiles(files);
    await expect
      .poll(() => page.getByTestId('mafiles-chosen').textContent())
      .toBe('2 Steam Guard files, 2 encrypted; manifest.json included.');
    // The page's own alert (Next's route announcer is an alert too).
    const alert = page.getByRole('alert').filter({ hasText: '.maFile' });
    // Without the passkey: the page says it is needed, naming the file.
    await page.getByRole('button', { name: 'Check' }).click();
    await expect.poll(() => alert.textContent()).toContain(`${entries[0]?.filename} is encrypted`);
    expect(await alert.textContent()).toMatch(/passkey/i);
    // A wrong passkey: said so, naming the file, never echoing the passkey.
    await page.getByLabel('SDA passkey').fill('not the passkey');
    await page.getByRole('button', { name: 'Check' }).click();
    await expect.poll(() => alert.textContent()).toMatch(/passkey it was encrypted with/);
    expect(await alert.textContent()).toContain('.maFile');
    expect(await alert.textContent()).not.toContain('not the passkey');
    await shot('22-mafiles-wrong-passkey');
    // The right one: checked, then imported.
    await page.getByLabel('SDA passkey').fill(passkey);
    await page.getByRole('button', { name: 'Check' }).click();
    await expect
      .poll(() => page.getByTestId('mafiles-summary').textContent())
      .toBe('Would create 2, update 0 (2 decrypted); 0 failed.');
    await page.getByRole('button', { name: 'Import 2 accounts' }).click();
    await expect
      .poll(() => page.getByTestId('mafiles-summary').textContent())
      .toBe('Created 2, updated 0 (2 decrypted); 0 failed.');
    await shot('23-mafiles-imported');
    const token = await adminToken();
    for (const [i, name] of names.entries()) {
      const got = (await apiGet(token, `/accounts?q=${name}&limit=10`)) as {
        items: Array<{ username: string; external_id: string; has_totp: boolean }>;
      };
      expect(got.items).toEqual([
        expect.objectContaining({ username: name, external_id: ids[i], has_totp: true }),
      ]);
    }
  }, 180_000);

  it('imports a hardware dump: one acc_id link found, the missing one reported by row and field', async () => {
    const token = await adminToken();
    const found = steamId();
    const missing = steamId();
    const made = await fetch(`${apiUrl}/api/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: `hw${rand()}`, external_id: found }),
    });
    expect(made.status).toBe(201);
    const accountId = ((await made.json()) as { id: string }).id;
    const pc = `HW-${rand()}`.toUpperCase();
    const id = 100_000 + (randomBytes(3).readUIntBE(0, 3) % 800_000);
    // The earlier hardware table dumped as CSV (LEGACY.md: linked by acc_id, NULL empty).
    const dump = [
      'id,acc_id,pcname,mac_address,vmid',
      `${id},${found},${pc}-1,bc:24:11:aa:00:01,`,
      `${id + 1},${missing},${pc}-2,bc:24:11:aa:00:02,`,
    ].join('\n');
    await page.goto(`${webUrl}/hardware/import`);
    await page.getByRole('heading', { name: 'Import hardware' }).waitFor();
    await page.getByLabel('Paste hardware').fill(dump);
    await page.getByRole('button', { name: 'Check' }).click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent())
      .toMatch(/^Would create 1, update 0, 0 unchanged; 1 failed/);
    const bad = page.getByRole('row', { name: new RegExp(`acc_id ${missing}`) });
    expect(await bad.getByRole('cell').first().textContent()).toBe('3');
    expect(await bad.textContent()).toContain('none of your accounts has this external_id');
    await shot('24-hardware-import-preview');
    await page.getByRole('button', { name: /^Import 1 / }).click();
    await expect.poll(() => page.getByTestId('import-summary').textContent()).toMatch(/^Created 1/);
    const got = (await apiGet(token, `/hardware?q=${pc}&limit=10`)) as {
      items: Array<{ pcname: string; account_id: string | null; mac_address: string }>;
    };
    expect(got.items).toEqual([
      expect.objectContaining({
        pcname: `${pc}-1`,
        account_id: accountId,
        mac_address: 'BC:24:11:AA:00:01',
      }),
    ]);
  }, 120_000);

  it("keeps a second user from the first user's data, then logs out", async () => {
    await page.goto(`${webUrl}/admin/users`);
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill('bob');
    await dialog.getByLabel('E-mail').fill('bob@example.com');
    await dialog.getByLabel('Password').fill('bobs long passphrase');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByText(/Created bob/).waitFor();

    await page.getByLabel(`User menu for ${ADMIN.username}`).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Username or e-mail').fill('bob');
    await page.getByLabel('Password').fill('bobs long passphrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${webUrl}/`);

    await page.goto(`${webUrl}/accounts`);
    await page.getByText('No accounts yet').waitFor();
    await page.goto(`${webUrl}${accountUrl}`);
    await page.getByText('Account not found').waitFor();
    expect(await page.content()).not.toContain('e2e_main');
    await page.keyboard.press('Control+k');
    await page
      .getByRole('combobox', { name: 'Search records, pages and commands' })
      .fill('e2e_main');
    await page.getByText('Nothing found.').waitFor();
    await page.keyboard.press('Escape');
    await shot('19-second-user');

    await page.getByLabel('User menu for bob').click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.goto(`${webUrl}/accounts`);
    await page.waitForURL('**/login?next=%2Faccounts');
  }, 120_000);

  it("admin scope: bob's account only under All users, with its owner; its password asks for a reason that bob reads", async () => {
    const login = async (username: string, password: string) => {
      const res = await fetch(`${apiUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const bobToken = await login('bob', 'bobs long passphrase');
    const made = await fetch(`${apiUrl}/api/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bobs_account', password: 'bobs secret password' }),
    });
    expect(made.status).toBe(201);
    const bobsAccount = ((await made.json()) as { id: string }).id;

    await page.getByLabel('Username or e-mail').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/accounts');
    await page.getByRole('heading', { name: 'Accounts' }).waitFor();
    await page.getByText('e2e_main').first().waitFor();
    expect(await page.getByText('bobs_account').count()).toBe(0);

    await page.getByRole('button', { name: 'All users' }).click();
    await page.waitForURL('**/accounts?scope=all');
    await page.getByText('bobs_account').waitFor();
    await page.getByTestId('owner-cell').filter({ hasText: 'bob' }).first().waitFor();
    await shot('25-admin-all-users');
    // A direct link works whatever the scope, marked with the owner.
    await page.goto(`${webUrl}/accounts/${bobsAccount}`);
    await page.getByTestId('owner-banner').waitFor();
    expect(await page.getByTestId('owner-banner').textContent()).toContain('bob');
    await page.getByRole('button', { name: /Reveal bob's secrets/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('e2e support check');
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    await page.getByRole('button', { name: 'Reveal password' }).click();
    await expect
      .poll(() => page.getByTestId('secret-password').textContent())
      .toBe('bobs secret password');

    const seen = (await apiGet(bobToken, '/audit?action=account.reveal_secrets')) as {
      items: Array<{ actor_name: string; details: Record<string, unknown> }>;
    };
    expect(seen.items[0]).toMatchObject({
      actor_name: ADMIN.username,
      details: { reason: 'e2e support check' },
    });
    expect(JSON.stringify(seen.items)).not.toContain('bobs secret password');
    await page.getByRole('button', { name: 'My inventory' }).click();
    await page.getByLabel(`User menu for ${ADMIN.username}`).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
  }, 120_000);

  it('sharing: the admin shares an account with bob read-only, bob sees it marked and without its secrets, and loses it when the admin revokes it', async () => {
    const logInAs = async (on: Page, username: string, password: string) => {
      await on.goto(`${webUrl}/login`);
      await on.getByLabel('Username or e-mail').fill(username);
      await on.getByLabel('Password').fill(password);
      await on.getByRole('button', { name: 'Log in' }).click();
      await on.waitForURL((url) => !url.pathname.startsWith('/login'));
    };

    await logInAs(page, ADMIN.username, ADMIN.password);
    await page.goto(`${webUrl}${accountUrl}`);
    await page.getByRole('button', { name: 'Share' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Share with (username)').fill('bob');
    await dialog.getByRole('button', { name: 'Share' }).click();
    await dialog.getByTestId('grant').filter({ hasText: 'bob' }).waitFor();
    await shot('27-share-dialog');

    // Bob, in a browser of his own, while the admin's stays open on the dialog.
    const bobContext = await browser?.newContext({ viewport: { width: 1280, height: 800 } });
    if (!bobContext) throw new Error('no browser');
    const bob = await bobContext.newPage();
    bob.setDefaultTimeout(20_000);
    try {
      await logInAs(bob, 'bob', 'bobs long passphrase');
      await bob.goto(`${webUrl}/accounts`);
      await bob.getByText('e2e_main').first().waitFor();
      expect(await bob.getByTestId('shared-badge').first().textContent()).toContain(
        `Shared by ${ADMIN.username}`,
      );
      // "Mine" leaves it out; bob's own account stays.
      await bob.getByLabel('Shared', { exact: true }).selectOption('exclude');
      await bob.getByText('bobs_account').waitFor();
      await expect.poll(() => bob.getByText('e2e_main').count()).toBe(0);
      await bob.goto(`${webUrl}${accountUrl}`);
      await bob.getByTestId('shared-banner').waitFor();
      await bob.getByText(`${ADMIN.username} shared this account without its secrets.`).waitFor();
      await bob.screenshot({ path: path.join(SHOTS, 'web-28-shared-account.png') });
      expect(await bob.content()).not.toContain('hunter2 but longer');

      // The admin revokes it: bob's next request no longer reaches it.
      await dialog.getByRole('button', { name: "Revoke bob's share" }).click();
      await expect.poll(() => dialog.getByTestId('grant').count()).toBe(0);
      await bob.reload();
      await bob.getByText('Account not found').waitFor();
    } finally {
      await bobContext.close();
    }
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByLabel(`User menu for ${ADMIN.username}`).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
  }, 120_000);

  it('sets up an authenticator app in Settings, then logs in with a code from it', async () => {
    const loginAs = async (username: string, password: string) => {
      await page.goto(`${webUrl}/login`);
      await page.getByLabel('Username or e-mail').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
    };
    await loginAs('bob', 'bobs long passphrase');
    await page.waitForURL(`${webUrl}/`);

    await page.goto(`${webUrl}/settings`);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByAltText('QR code of the authenticator secret').waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByText('The code is wrong or was used already.').waitFor();
    const confirmedAt = Date.now();
    await page.getByLabel('Code from the app').fill(totp(secret, confirmedAt));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.getByTestId('recovery-code').count()).toBe(10);
    await shot('26-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText(/An authenticator app is on/).waitFor();

    await page.getByLabel('User menu for bob').click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await loginAs('bob', 'bobs long passphrase');
    await page.getByLabel('Authentication code').waitFor();
    await shot('27-login-second-step');
    // The code that turned the app on was used; the next step's code (one step ahead is
    // accepted) logs in.
    await page.getByLabel('Authentication code').fill(totp(secret, confirmedAt));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('The code is wrong or was used already.').waitFor();
    await page.getByLabel('Authentication code').fill(totp(secret, confirmedAt + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${webUrl}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    await page.getByLabel('User menu for bob').click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
  }, 120_000);

  it('registers a passkey in Settings with a CDP virtual authenticator, logs out, signs in with it alone', async () => {
    // The same web UI under a host name: WebAuthn refuses an IP address as the RP ID.
    const local = `http://localhost:${webPort}`;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    try {
      await page.goto(`${local}/login`);
      await page.getByLabel('Username or e-mail').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await throughRateLimit(
        page,
        () => page.getByRole('button', { name: 'Log in' }).click(),
        () => page.waitForURL(`${local}/`),
      );
      await page.waitForURL(`${local}/`);

      await page.goto(`${local}/settings`);
      await page.getByText('No passkeys yet.').waitFor();
      await page.getByLabel('Passkey name').fill('E2E virtual key');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      // The first second factor: ten recovery codes, shown once.
      await expect
        .poll(() => page.getByTestId('recovery-code').count(), { timeout: 20_000 })
        .toBe(10);
      await page.getByRole('button', { name: 'I have saved them' }).click();
      await page.getByTestId('passkey-name').filter({ hasText: 'E2E virtual key' }).waitFor();
      await page.getByText(/last used never/).waitFor();
      await shot('28-passkeys');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]?.isResidentCredential).toBe(true);

      await page.getByLabel(`User menu for ${ADMIN.username}`).click();
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL('**/login');
      // The e2e run logs in often from one address: a per-IP limit may ask to wait a moment.
      await throughRateLimit(
        page,
        () => page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
        () => page.waitForURL(`${local}/`),
      );
      await page.waitForURL(`${local}/`).catch(async (err) => {
        await shot('28-passkey-login-failed');
        const alerts = await page.getByRole('alert').allTextContents();
        throw new Error(
          `no dashboard after the passkey (alerts: ${JSON.stringify(alerts)}): ${err}`,
        );
      });
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(after.credentials[0]?.signCount).toBeGreaterThan(credentials[0]?.signCount ?? 0);

      await page.goto(`${local}/settings`);
      await page.getByTestId('passkey-name').filter({ hasText: 'E2E virtual key' }).waitFor();
      expect(await page.getByText(/last used never/).count()).toBe(0);
      await page.getByLabel(`User menu for ${ADMIN.username}`).click();
      await page.getByRole('menuitem', { name: 'Log out' }).click();
      await page.waitForURL('**/login');
    } finally {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await cdp.detach();
    }
  }, 120_000);
});

const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

/** RFC 6238 (SHA-1, 6 digits, 30 s) of a base32 secret at a time, for checking the page. */
function totp(secret: string, at: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)?.map((b) => Number.parseInt(b, 2)) ?? []);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const hmac = createHmac('sha1', key).update(counter).digest();
  const offset = (hmac[hmac.length - 1] ?? 0) & 0xf;
  const value = (hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}
