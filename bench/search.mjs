// GET /api/v1/accounts?q=<term> as a regular user at scale, for a user of 10,000 accounts and
// for one of 200,000 (`seed --big-user 200000`): latency percentiles of the API and of
// pgbench running the very SQL the API sent for each term, in the same RLS context, the
// ratio of the two users' p95, and the plans (the search function's own with auto_explain).

import { apiCall, captureSql, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { benchUser, pool, scaleOf } from './lib/db.mjs';
import { explainCaptured, explainSearch, printPlans } from './lib/explain.mjs';
import { runLoad } from './lib/load-client.mjs';
import { pgbenchScript, runPgbench } from './lib/pgbench.mjs';
import { machine, percentile, printTable, round, writeResult } from './lib/results.mjs';
import { searchTerms } from './lib/search-terms.mjs';

export const description =
  'account search ?q= for a 10,000- and a 200,000-account user: API p50/p95/p99, ratio, plans';

const TARGET_P95_MS = 25;
const TARGET_RATIO = 1.5;

const stats = (latencies) => ({
  p50: round(percentile(latencies, 50), 2),
  p95: round(percentile(latencies, 95), 2),
  p99: round(percentile(latencies, 99), 2),
  max: round(Math.max(...latencies), 2),
  n: latencies.length,
});

/** The bench user with the most accounts (the one `seed --big-user` added), by index. */
async function biggestUser(db) {
  const { rows } = await db.query(
    `SELECT u.username, count(*)::int AS n FROM accounts a JOIN users u ON u.id = a.owner_id
     WHERE u.username LIKE 'bench_user_%' GROUP BY u.username ORDER BY n DESC, u.username LIMIT 1`,
  );
  return rows[0] ? Number(rows[0].username.slice('bench_user_'.length)) : undefined;
}

async function accountCount(db, userId) {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM accounts WHERE owner_id = $1', [
    userId,
  ]);
  return rows[0].n;
}

/** Shared buffers (hit + read) of a plan's top node, which include its children's. */
function topBuffers(plan) {
  const m = /Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?/.exec(plan);
  return m ? Number(m[1] ?? 0) + Number(m[2] ?? 0) : 0;
}

/** Every term once (plans, pgbench scripts, matches), then the measured load. */
async function measureUser({ db, api, url, index, opts }) {
  const user = await benchUser(db, index);
  const accounts = await accountCount(db, user.id);
  const token = await api.login(user.username);
  const terms = searchTerms(index);
  const paths = terms.map((t) => `/api/v1/accounts?limit=50&q=${encodeURIComponent(t)}`);
  const scripts = [];
  const matches = {};
  const perTerm = {};
  const buffers = {};
  for (const [i, path] of paths.entries()) {
    let page;
    const statements = await captureSql(async () => {
      page = await apiCall(api.base, path, { token });
    });
    matches[terms[i]] = page.total;
    perTerm[terms[i]] = statements.filter((s) => /^\s*select/i.test(s.text)).length;
    // The plan inside the search function (where the index is used) for the first term and
    // the broadest one always; every captured plan with --explain.
    const label = `${user.username} (${accounts} accounts) q=${terms[i]}`;
    const plans = await explainCaptured(db, statements, 'accounts');
    // Buffers the statements touched (the search function's included): a measure of the
    // work a term costs that does not depend on the machine's load.
    buffers[terms[i]] = plans.reduce((sum, p) => sum + topBuffers(p.plan), 0);
    if (opts.explain) printPlans(label, plans);
    if (opts.explain || i === 0 || i === terms.length - 1) {
      printPlans(`${label}: inside search_accounts`, await explainSearch(db, statements));
    }
    scripts.push(pgbenchScript(statements));
  }
  const requests = paths.map((path) => ({ path }));
  const load = { base: api.base, token, requests, concurrency: opts.concurrency };
  if (opts.warmup > 0) await runLoad({ ...load, count: opts.warmup });
  const viaApi = await runLoad({ ...load, count: opts.requests });
  const bad = Object.entries(viaApi.statuses).filter(([code]) => code !== '200');
  if (bad.length > 0) throw new Error(`search answered ${JSON.stringify(viaApi.statuses)}`);
  // Per term: requests go round the terms in order, so latency i belongs to term i % n.
  const byTerm = Object.fromEntries(
    terms.map((t, i) => [
      t,
      round(
        percentile(
          viaApi.latencies.filter((_, j) => j % terms.length === i),
          50,
        ),
        2,
      ),
    ]),
  );
  const run = { clients: opts.concurrency };
  if (opts.warmup > 0) {
    await runPgbench(url, scripts, {
      ...run,
      transactions: Math.ceil(opts.warmup / opts.concurrency),
    });
  }
  const viaSql = await runPgbench(url, scripts, {
    ...run,
    transactions: Math.ceil(opts.requests / opts.concurrency),
  });
  return {
    user: user.username,
    accounts,
    terms,
    matches,
    p50_by_term_ms: byTerm,
    selects_by_term: perTerm,
    buffers_by_term: buffers,
    api: stats(viaApi.latencies),
    api_rps: round(viaApi.latencies.length / viaApi.seconds),
    pgbench: stats(viaSql.latencies),
  };
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage:
      'npm run bench -- search [--requests N] [--concurrency C] [--user N] [--big-user N] [--explain]',
    options: {
      'database-url': { type: 'string', default: DEFAULT_DATABASE_URL, help: 'seeded database' },
      user: { type: 'number', default: 1, help: 'bench user index of the ordinary user' },
      'big-user': {
        type: 'number',
        help: 'bench user index of the big user (default: the one with the most accounts)',
      },
      requests: {
        type: 'number',
        default: 500,
        help: 'searches measured per user (terms in turn)',
      },
      concurrency: { type: 'number', default: 1, help: 'searches in flight at once' },
      warmup: { type: 'number', default: 50, help: 'searches before measuring' },
      explain: { type: 'boolean', help: 'print EXPLAIN ANALYZE of the captured queries' },
    },
  });
  const url = opts['database-url'];
  const db = pool(url, 2);
  const api = await startApi(url);
  try {
    const scale = await scaleOf(db);
    const bigIndex = opts['big-user'] ?? (await biggestUser(db));
    const indexes =
      bigIndex !== undefined && bigIndex !== opts.user ? [opts.user, bigIndex] : [opts.user];
    const users = [];
    for (const index of indexes) users.push(await measureUser({ db, api, url, index, opts }));

    printTable([
      ['user', 'accounts', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'pgbench p95 ms', 'requests'],
      ...users.map((u) => [
        u.user,
        u.accounts.toLocaleString('en'),
        u.api.p50,
        u.api.p95,
        u.api.p99,
        u.api.max,
        u.pgbench.p95,
        u.api.n,
      ]),
    ]);
    for (const u of users) {
      process.stdout.write(`${u.user} matches per term: ${JSON.stringify(u.matches)}\n`);
      process.stdout.write(`${u.user} API p50 ms per term: ${JSON.stringify(u.p50_by_term_ms)}\n`);
      process.stdout.write(`${u.user} buffers per term: ${JSON.stringify(u.buffers_by_term)}\n`);
    }
    const [small, big] = users;
    const ratio = big ? round(big.api.p95 / small.api.p95, 2) : null;
    const worstP95 = Math.max(...users.map((u) => u.api.p95));
    const met = worstP95 <= TARGET_P95_MS && (ratio === null || ratio <= TARGET_RATIO);
    process.stdout.write(
      `p95 ratio (${big?.user ?? 'no big user'} / ${small.user}): ${ratio ?? 'n/a'}\n` +
        `targets: p95 <= ${TARGET_P95_MS} ms for each user; ratio <= ${TARGET_RATIO}; met: ${met}\n`,
    );
    const file = writeResult({
      name: 'search',
      machine: machine(),
      params: { ...opts, scale },
      figures: { users },
      baseline: { pgbench_latency_ms: Object.fromEntries(users.map((u) => [u.user, u.pgbench])) },
      ratio,
      target: `API p95 <= ${TARGET_P95_MS} ms; p95(200k user) / p95(10k user) <= ${TARGET_RATIO}`,
      met,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await api.close();
    await db.end();
  }
}
