// 32 concurrent workers claiming accounts through POST /api/v1/accounts/claim: claims/s and
// accounts handed out twice (must be 0), against the naive SELECT-then-UPDATE from as many
// PostgreSQL clients, which does hand some out twice.

import { startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { asTenant, benchUser, pool, scaleOf } from './lib/db.mjs';
import { runLoad } from './lib/load-client.mjs';
import { naiveClaims } from './lib/naive-claim.mjs';
import { machine, percentile, printTable, round, writeResult } from './lib/results.mjs';

export const description = 'concurrent account claims via the API: claims/s, duplicates (0)';

const duplicates = (ids) => ids.length - new Set(ids).size;

/** Ends every lease of the user, so each run starts from the same free accounts. */
function releaseAll(db, user) {
  return asTenant(db, { userId: user.id, role: 'user' }, (c) =>
    c.query(
      'UPDATE accounts SET claimed_by = NULL, claimed_at = NULL, claimed_until = NULL WHERE owner_id = $1 AND claimed_at IS NOT NULL',
      [user.id],
    ),
  );
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- claim [--workers N] [--seconds S] [--user N]',
    options: {
      'database-url': { type: 'string', default: DEFAULT_DATABASE_URL, help: 'seeded database' },
      user: { type: 'number', default: 2, help: 'bench user whose accounts are claimed' },
      workers: { type: 'number', default: 32, help: 'concurrent claimers (API and naive)' },
      seconds: { type: 'number', default: 10, help: 'duration of each run' },
    },
  });
  const url = opts['database-url'];
  const db = pool(url, opts.workers + 2);
  const api = await startApi(url);
  try {
    const user = await benchUser(db, opts.user);
    const scale = await scaleOf(db);
    const token = await api.login(user.username);

    await releaseAll(db, user);
    const viaApi = await runLoad({
      base: api.base,
      token,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/accounts/claim',
          body: { lease_seconds: 600, claimed_by: 'bench-worker-{worker}' },
        },
      ],
      concurrency: opts.workers,
      seconds: opts.seconds,
      collect: 'account.id',
      stopOn404: true,
    });
    const unexpected = Object.keys(viaApi.statuses).filter((s) => s !== '200' && s !== '404');
    if (unexpected.length > 0) throw new Error(`claim answered ${JSON.stringify(viaApi.statuses)}`);
    const apiDup = duplicates(viaApi.collected);

    await releaseAll(db, user);
    const naive = await naiveClaims(db, user, { clients: opts.workers, seconds: opts.seconds });
    const naiveDup = duplicates(naive.ids);
    await releaseAll(db, user);

    const apiRate = viaApi.collected.length / viaApi.seconds;
    const naiveRate = naive.ids.length / naive.seconds;
    printTable([
      ['', 'claims', 'claims/s', 'duplicates', 'p50 ms', 'p95 ms'],
      [
        'API (FOR UPDATE SKIP LOCKED)',
        viaApi.collected.length,
        round(apiRate),
        apiDup,
        round(percentile(viaApi.latencies, 50), 1),
        round(percentile(viaApi.latencies, 95), 1),
      ],
      ['naive SELECT then UPDATE (pg)', naive.ids.length, round(naiveRate), naiveDup, '', ''],
    ]);
    const file = writeResult({
      name: 'claim',
      machine: machine(),
      params: { ...opts, scale, user: user.username },
      figures: {
        claims: viaApi.collected.length,
        claims_per_s: round(apiRate),
        duplicates: apiDup,
        statuses: viaApi.statuses,
        latency_ms: {
          p50: round(percentile(viaApi.latencies, 50), 2),
          p95: round(percentile(viaApi.latencies, 95), 2),
          p99: round(percentile(viaApi.latencies, 99), 2),
        },
      },
      baseline: {
        kind: 'naive SELECT then UPDATE, no row lock, from as many pg clients',
        claims: naive.ids.length,
        claims_per_s: round(naiveRate),
        duplicates: naiveDup,
      },
      ratio: round(apiRate / naiveRate, 2),
      target: 'duplicates = 0 through the API (the naive baseline shows the race exists)',
      met: apiDup === 0 && viaApi.collected.length > 0,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await api.close();
    await db.end();
  }
}
