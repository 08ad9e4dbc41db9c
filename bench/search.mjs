// GET /api/v1/accounts?q=<term> as a regular user at scale: latency percentiles of the API
// against pgbench running the very SQL the API sent for each term, in the same RLS context.

import { apiCall, captureSql, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { benchUser, pool, scaleOf } from './lib/db.mjs';
import { explainCaptured, printPlans } from './lib/explain.mjs';
import { runLoad } from './lib/load-client.mjs';
import { pgbenchScript, runPgbench } from './lib/pgbench.mjs';
import { machine, percentile, printTable, round, writeResult } from './lib/results.mjs';
import { searchTerms } from './lib/search-terms.mjs';

export const description = 'account search ?q= over all accounts: API p50/p95/p99 vs pgbench';

const TARGET_P95_MS = 50;

const stats = (latencies) => ({
  p50: round(percentile(latencies, 50), 2),
  p95: round(percentile(latencies, 95), 2),
  p99: round(percentile(latencies, 99), 2),
  max: round(Math.max(...latencies), 2),
  n: latencies.length,
});

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- search [--requests N] [--concurrency C] [--user N] [--explain]',
    options: {
      'database-url': { type: 'string', default: DEFAULT_DATABASE_URL, help: 'seeded database' },
      user: { type: 'number', default: 1, help: 'bench user index to act as' },
      requests: { type: 'number', default: 500, help: 'searches measured (terms in turn)' },
      concurrency: { type: 'number', default: 1, help: 'searches in flight at once' },
      warmup: { type: 'number', default: 50, help: 'searches before measuring' },
      explain: { type: 'boolean', help: 'print EXPLAIN ANALYZE of the captured queries' },
    },
  });
  const url = opts['database-url'];
  const db = pool(url, 2);
  const api = await startApi(url);
  try {
    const user = await benchUser(db, opts.user);
    const index = Number(user.username.slice('bench_user_'.length));
    const scale = await scaleOf(db);
    const token = await api.login(user.username);
    const terms = searchTerms(index);
    const paths = terms.map((t) => `/api/v1/accounts?limit=50&q=${encodeURIComponent(t)}`);

    const scripts = [];
    const matches = {};
    for (const [i, path] of paths.entries()) {
      let page;
      const statements = await captureSql(async () => {
        page = await apiCall(api.base, path, { token });
      });
      matches[terms[i]] = page.total;
      if (opts.explain) printPlans(terms[i], await explainCaptured(db, statements, 'accounts'));
      scripts.push(pgbenchScript(statements));
    }

    const requests = paths.map((path) => ({ path }));
    const load = { base: api.base, token, requests, concurrency: opts.concurrency };
    if (opts.warmup > 0) await runLoad({ ...load, count: opts.warmup });
    const viaApi = await runLoad({ ...load, count: opts.requests });
    const bad = Object.entries(viaApi.statuses).filter(([code]) => code !== '200');
    if (bad.length > 0) throw new Error(`search answered ${JSON.stringify(viaApi.statuses)}`);
    const pgbenchRun = {
      clients: opts.concurrency,
      transactions: Math.ceil(opts.requests / opts.concurrency),
    };
    if (opts.warmup > 0) {
      await runPgbench(url, scripts, {
        clients: opts.concurrency,
        transactions: Math.ceil(opts.warmup / opts.concurrency),
      });
    }
    const viaSql = await runPgbench(url, scripts, pgbenchRun);

    const api_ = stats(viaApi.latencies);
    const sql_ = stats(viaSql.latencies);
    printTable([
      ['', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'requests'],
      ['API', api_.p50, api_.p95, api_.p99, api_.max, api_.n],
      ['pgbench (same SQL)', sql_.p50, sql_.p95, sql_.p99, sql_.max, sql_.n],
    ]);
    process.stdout.write(`matches per term: ${JSON.stringify(matches)}\n`);
    const file = writeResult({
      name: 'search',
      machine: machine(),
      params: { ...opts, scale, user: user.username, terms, matches },
      figures: { api_latency_ms: api_, api_rps: round(viaApi.latencies.length / viaApi.seconds) },
      baseline: { pgbench_latency_ms: sql_, pgbench_tps: round(viaSql.tps) },
      ratio: round(api_.p95 / sql_.p95, 2),
      target: `API p95 <= ${TARGET_P95_MS} ms`,
      met: api_.p95 <= TARGET_P95_MS,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await api.close();
    await db.end();
  }
}
