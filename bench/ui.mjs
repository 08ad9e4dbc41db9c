// UI benchmark: how soon the VM list of a user with N VMs is interactive in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core), with the production build
// of the web UI in front of the real API on PostgreSQL; against a plain page that renders
// the same N VMs as one ordinary table (no virtual rows, data inlined: no network at all).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { buildWebIfStale, webDir, webServer } from '../scripts/lib/processes.mjs';
import { apiModule } from './lib/api-modules.mjs';
import { apiCall, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { ensureDatabase } from './lib/db.mjs';
import { machine, printTable, round, writeResult } from './lib/results.mjs';

export const description = 'time until the VM list with 10,000 rows is interactive in Chromium';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const USER = { username: 'bench_ui', email: 'ui@bench.test', password: 'bench ui password!' };

async function waitFor(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

/** A plain page with every VM as a row of one table and a keyboard handler on it. */
function plainPage(vms) {
  const data = JSON.stringify(
    vms.map((v) => [v.name, v.vmid, v.status, v.ip_addresses.join(' '), v.tags.join(' ')]),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>plain</title>
<style>body{font:14px sans-serif}td{padding:4px 8px;border-bottom:1px solid #eee}tr.active{outline:2px solid #88f}</style>
</head><body><table id="grid" tabindex="0"><thead><tr><th>Name</th><th>VMID</th><th>Status</th><th>IPs</th><th>Tags</th></tr></thead><tbody></tbody></table>
<script>
const rows = ${data.replace(/</g, '\\u003c')};
const tbody = document.querySelector('tbody');
const html = rows.map((r, i) => '<tr id="r' + i + '">' + r.map((c) => '<td>' + String(c).replace(/&/g, '&amp;').replace(/</g, '&lt;') + '</td>').join('') + '</tr>').join('');
tbody.innerHTML = html;
let active = 0;
document.getElementById('grid').addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowDown') return;
  document.getElementById('r' + active)?.classList.remove('active');
  active++;
  document.getElementById('r' + active).classList.add('active');
  document.getElementById('grid').setAttribute('aria-activedescendant', 'r' + active);
});
</script></body></html>`;
}

/** Navigation start → first row on screen, and → the first key press answered. */
async function measure(page, url, { rowSelector, gridSelector }) {
  await page.goto(url, { waitUntil: 'commit' });
  const firstRow = await page
    .waitForFunction(
      (sel) => (document.querySelector(sel) ? performance.now() : false),
      rowSelector,
      {
        polling: 'raf',
        timeout: 120_000,
      },
    )
    .catch(async (err) => {
      await page.screenshot({ path: 'bench/results/ui-failure.png' });
      throw new Error(
        `${url}: no row came (screenshot in bench/results/ui-failure.png): ${err.message}`,
      );
    });
  const firstRowMs = await firstRow.jsonValue();
  await page.focus(gridSelector);
  await page.keyboard.press('ArrowDown');
  const answered = await page.waitForFunction(
    (sel) => {
      const grid = document.querySelector(sel);
      const id = grid?.getAttribute('aria-activedescendant');
      return id?.endsWith('1') ? performance.now() : false;
    },
    gridSelector,
    { polling: 'raf', timeout: 60_000 },
  );
  return { first_row_ms: firstRowMs, interactive_ms: await answered.jsonValue() };
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- ui [--vms N] [--runs N]',
    options: {
      vms: { type: 'number', default: 10_000, help: 'VMs of the user' },
      runs: { type: 'number', default: 3, help: 'page loads of each kind (the median counts)' },
    },
  });
  const { chromium } = await import('playwright-core');
  process.stderr.write('ui: building the web UI when stale (not timed)…\n');
  buildWebIfStale();

  const url = DEFAULT_DATABASE_URL.replace(/\/[^/]*$/, '/bench_ui');
  await ensureDatabase(url, { fresh: true });
  const { openDatabase } = await apiModule.client();
  const { runMigrations } = await apiModule.migrate();
  const migrating = await openDatabase({ url, poolMax: 1 });
  await runMigrations(migrating.raw, { log: () => undefined });
  await migrating.close();

  // Behind the web UI's proxy, as `npm start` runs it (the refresh cookie's Origin check).
  const api = await startApi(url, { env: { TRUST_PROXY: 'loopback' } });
  const closers = [() => api.close()];
  try {
    await apiCall(api.base, '/api/v1/auth/setup', { method: 'POST', body: USER });
    const { access_token: token } = await apiCall(api.base, '/api/v1/auth/login', {
      method: 'POST',
      body: { username: USER.username, password: USER.password },
    });
    const node = await apiCall(api.base, '/api/v1/proxmox-nodes', {
      token,
      method: 'POST',
      body: { name: 'pve-ui' },
    });
    for (let start = 0; start < opts.vms; start += 5000) {
      const items = [];
      for (let i = start; i < Math.min(opts.vms, start + 5000); i++) {
        items.push({
          node_id: node.id,
          vmid: 100 + i,
          name: `vm-${String(i).padStart(5, '0')}`,
          status: i % 3 ? 'running' : 'stopped',
          ip_addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
          tags: i % 7 ? ['farm'] : ['farm', 'eu'],
        });
      }
      await apiCall(api.base, '/api/v1/vms/bulk', { token, method: 'POST', body: { items } });
    }
    process.stderr.write(`ui: ${opts.vms} VMs created\n`);

    const apiPort = new URL(api.base).port;
    const webPort = 20_000 + Math.floor(Math.random() * 20_000);
    const web = spawn(process.execPath, [webServer, '-p', String(webPort), '-H', '127.0.0.1'], {
      cwd: webDir,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        NEXT_TELEMETRY_DISABLED: '1',
        API_HOST: '127.0.0.1',
        API_PORT: apiPort,
      },
    });
    closers.unshift(() => web.kill('SIGTERM'));
    const webUrl = `http://127.0.0.1:${webPort}`;
    await waitFor(`${webUrl}/login`, 120_000);

    const all = [];
    for (let cursor = null; ; ) {
      const page = await apiCall(
        api.base,
        `/api/v1/vms?limit=500&sort=name${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token },
      );
      all.push(...page.items);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const plain = plainPage(all);
    const plainServer = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(plain),
    );
    await new Promise((r) => plainServer.listen(0, '127.0.0.1', r));
    closers.unshift(() => new Promise((r) => plainServer.close(r)));
    const plainUrl = `http://127.0.0.1:${plainServer.address().port}/`;

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    closers.unshift(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${webUrl}/login`);
    await page.getByLabel('Username or e-mail').fill(USER.username);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${webUrl}/`);

    const ours = [];
    const naive = [];
    for (let i = 0; i < opts.runs; i++) {
      ours.push(
        await measure(page, `${webUrl}/vms?sort=name`, {
          rowSelector: 'table[role=grid] tbody tr',
          gridSelector: 'table[role=grid]',
        }),
      );
      naive.push(await measure(page, plainUrl, { rowSelector: '#r0', gridSelector: '#grid' }));
      process.stderr.write(`ui: run ${i + 1} of ${opts.runs} done\n`);
    }
    // Keyboard End → the last of the N rows (every keyset page fetched on the way).
    await page.goto(`${webUrl}/vms?sort=name`);
    await page.locator('table[role=grid] tbody tr').first().waitFor();
    await page.focus('table[role=grid]');
    const endStarted = Date.now();
    const last = `vm-${String(opts.vms - 1).padStart(5, '0')}`;
    for (;;) {
      await page.keyboard.press('End');
      if (await page.getByText(last, { exact: true }).count()) break;
      if (Date.now() - endStarted > 120_000) throw new Error('the last row never came');
      await page.waitForTimeout(50);
    }
    const toLastRowMs = Date.now() - endStarted;

    const median = (xs, key) =>
      round([...xs.map((x) => x[key])].sort((a, b) => a - b)[Math.floor(xs.length / 2)], 0);
    const figures = {
      vms: opts.vms,
      list: {
        first_row_ms: median(ours, 'first_row_ms'),
        interactive_ms: median(ours, 'interactive_ms'),
      },
      end_key_to_last_row_ms: toLastRowMs,
      runs: { list: ours, plain_table: naive },
    };
    const baseline = {
      first_row_ms: median(naive, 'first_row_ms'),
      interactive_ms: median(naive, 'interactive_ms'),
    };
    const ratio = round(figures.list.interactive_ms / baseline.interactive_ms, 2);
    printTable([
      ['page', 'first row (ms)', 'key press answered (ms)'],
      [`VM list, ${opts.vms} VMs`, figures.list.first_row_ms, figures.list.interactive_ms],
      [`plain table, ${opts.vms} rows inlined`, baseline.first_row_ms, baseline.interactive_ms],
    ]);
    process.stdout.write(
      `VM list interactive in ${ratio}× the plain table's time; End to row ${opts.vms}: ${toLastRowMs} ms\n`,
    );
    writeResult({
      name: 'ui',
      machine: machine(),
      params: { vms: opts.vms, runs: opts.runs, viewport: '1400x900', browser: CHROMIUM },
      figures,
      baseline,
      ratio,
      target: 'interactive no later than a plain table of the same rows (ratio ≤ 1)',
      met: ratio <= 1,
    });
  } finally {
    for (const close of closers) await close();
  }
}
