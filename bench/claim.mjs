// 32 concurrent workers claiming accounts through POST /api/v1/accounts/claim: claims/s,
// accounts handed out twice (must be 0), statements per claim, CPU per claim of the API, the
// database and the load generator, against the naive SELECT-then-UPDATE from as many
// PostgreSQL clients, which does hand some out twice.

import { apiModule } from './lib/api-modules.mjs';
import { apiCall, captureSql, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { claimPlans } from './lib/claim-plans.mjs';
import { asTenant, benchUser, databaseName, pool, scaleOf } from './lib/db.mjs';
import { watchBackendCpu } from './lib/db-cpu.mjs';
import { runLoad } from './lib/load-client.mjs';
import { naiveClaims } from './lib/naive-claim.mjs';
import { pgbenchScript, runPgbench } from './lib/pgbench.mjs';
import { machine, percentile, printTable, round, writeResult } from './lib/results.mjs';

export const description =
  'concurrent account claims via the API: claims/s (≥ 1,000), duplicates (0), statements per claim';

const TARGET_RATE = 1000;
const CLAIM = '/api/v1/accounts/claim';

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

/** The branch's migrations (e.g. 0016), applied with the API's own migrator. */
async function migrate(url) {
  const { openDatabase } = await apiModule.client();
  const { runMigrations } = await apiModule.migrate();
  const database = await openDatabase({ url, poolMax: 1 });
  try {
    await runMigrations(database.raw, { log: (m) => process.stderr.write(`claim: ${m}\n`) });
  } finally {
    await database.close();
  }
}

/** Every statement the API sends for one claim, split into the session check and the rest. */
async function statementsPerClaim(api, token) {
  const statements = await captureSql(() =>
    apiCall(api.base, CLAIM, {
      token,
      method: 'POST',
      body: { lease_seconds: 600, claimed_by: 'bench-capture' },
    }),
  );
  const session = statements.findIndex((s) => s.text.includes('auth_session_state'));
  // The session check is its own transaction: begin, set_config, the call, commit.
  const sessionCount = session < 0 ? 0 : 4;
  return {
    captured: statements,
    total: statements.length,
    session_check: sessionCount,
    claim: statements.length - sessionCount,
    text: statements.map((s) => s.text.replace(/\s+/g, ' ').slice(0, 160)),
  };
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- claim [--workers N] [--seconds S] [--user N] [--explain] [--no-naive]',
    options: {
      'database-url': { type: 'string', default: DEFAULT_DATABASE_URL, help: 'seeded database' },
      user: { type: 'number', default: 2, help: 'bench user whose accounts are claimed' },
      workers: { type: 'number', default: 32, help: 'concurrent claimers (API and naive)' },
      seconds: {
        type: 'number',
        default: 5,
        help: 'duration of each run (a user has ~9,400 claimable accounts: at 1,000/s a run of more than 9 s runs out)',
      },
      'pool-max': { type: 'number', default: 10, help: "the API's connection pool" },
      explain: {
        type: 'boolean',
        default: false,
        help: 'EXPLAIN ANALYZE the claim statement with every filter combination',
      },
      'no-naive': { type: 'boolean', default: false, help: 'skip the naive baseline' },
    },
  });
  const url = opts['database-url'];
  await migrate(url);
  const db = pool(url, opts.workers + 2);
  const api = await startApi(url, { poolMax: opts['pool-max'] });
  try {
    const user = await benchUser(db, opts.user);
    const scale = await scaleOf(db);
    const token = await api.login(user.username);

    await releaseAll(db, user);
    // Warm the pool, the data key and the prepared plans; then capture one claim's SQL.
    for (let i = 0; i < 20; i++) {
      await apiCall(api.base, CLAIM, { token, method: 'POST', body: { lease_seconds: 600 } });
    }
    const statements = await statementsPerClaim(api, token);
    const plans = opts.explain ? await claimPlans({ db, api, token, user }) : null;
    await releaseAll(db, user);

    const dbName = databaseName(url);
    const cpuBefore = process.cpuUsage();
    const dbCpu = await watchBackendCpu(db, dbName);
    const viaApi = await runLoad({
      base: api.base,
      token,
      requests: [
        {
          method: 'POST',
          path: CLAIM,
          body: { lease_seconds: 600, claimed_by: 'bench-worker-{worker}' },
        },
      ],
      concurrency: opts.workers,
      seconds: opts.seconds,
      collect: 'account.id',
      stopOn404: true,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const dbCpuMs = await dbCpu.stop();
    const unexpected = Object.keys(viaApi.statuses).filter((s) => s !== '200' && s !== '404');
    if (unexpected.length > 0) throw new Error(`claim answered ${JSON.stringify(viaApi.statuses)}`);
    const apiDup = duplicates(viaApi.collected);
    const claims = viaApi.collected.length;
    const requests = viaApi.latencies.length;
    const perRequest = (ms) => round(ms / requests, 2);
    const cpuMs = {
      api: perRequest((cpu.user + cpu.system) / 1000),
      database: perRequest(dbCpuMs),
      load_generator: perRequest(viaApi.cpuMs),
    };

    // PostgreSQL alone: the same statements (one claim's, parameters as literals) from
    // pgbench with as many clients as the API's pool. Claims made = leases running after.
    await releaseAll(db, user);
    const pgCpu = await watchBackendCpu(db, dbName);
    const viaSql = await runPgbench(url, [pgbenchScript(statements.captured)], {
      clients: opts['pool-max'],
      threads: 2,
      seconds: opts.seconds,
    });
    const pgCpuMs = await pgCpu.stop();
    const sqlClaims = Number(
      (
        await asTenant(db, { userId: user.id, role: 'user' }, (c) =>
          c.query(
            'SELECT count(*) AS n FROM accounts WHERE owner_id = $1 AND claimed_until > now()',
            [user.id],
          ),
        )
      ).rows[0].n,
    );
    const sqlRate = sqlClaims / opts.seconds;

    await releaseAll(db, user);
    const naive = opts['no-naive']
      ? null
      : await naiveClaims(db, user, { clients: opts.workers, seconds: opts.seconds });
    await releaseAll(db, user);

    const apiRate = claims / viaApi.seconds;
    const naiveRate = naive ? naive.ids.length / naive.seconds : null;
    const met = apiDup === 0 && claims > 0 && apiRate >= TARGET_RATE;
    printTable([
      ['', 'claims', 'claims/s', 'duplicates', 'p50 ms', 'p95 ms', 'statements'],
      [
        'API (FOR UPDATE SKIP LOCKED)',
        claims,
        round(apiRate),
        apiDup,
        round(percentile(viaApi.latencies, 50), 1),
        round(percentile(viaApi.latencies, 95), 1),
        `${statements.total} (${statements.session_check} session check + ${statements.claim})`,
      ],
      [
        `pgbench, the same ${statements.total} statements`,
        sqlClaims,
        round(sqlRate),
        '',
        round(percentile(viaSql.latencies, 50), 1),
        round(percentile(viaSql.latencies, 95), 1),
        statements.total,
      ],
      naive
        ? [
            'naive SELECT then UPDATE (pg)',
            naive.ids.length,
            round(naiveRate),
            duplicates(naive.ids),
            '',
            '',
            5,
          ]
        : ['naive baseline skipped', '', '', '', '', '', ''],
    ]);
    printTable([
      ['CPU ms per claim request', 'API process', 'PostgreSQL backends', 'load generator'],
      ['API', cpuMs.api, cpuMs.database, cpuMs.load_generator],
      ['pgbench', '', round(pgCpuMs / viaSql.transactions, 2), ''],
    ]);
    process.stdout.write(
      `target: ≥ ${TARGET_RATE} claims/s and 0 duplicates: ${met ? 'met' : 'NOT met'}\n`,
    );
    const file = writeResult({
      name: 'claim',
      machine: machine(),
      params: { ...opts, scale, user: user.username },
      figures: {
        claims,
        requests,
        claims_per_s: round(apiRate),
        duplicates: apiDup,
        statuses: viaApi.statuses,
        latency_ms: {
          p50: round(percentile(viaApi.latencies, 50), 2),
          p95: round(percentile(viaApi.latencies, 95), 2),
          p99: round(percentile(viaApi.latencies, 99), 2),
        },
        statements_per_claim: { ...statements, captured: undefined },
        cpu_ms_per_request: cpuMs,
        postgres_alone: {
          kind: `pgbench running the API's ${statements.total} statements of one claim, ${opts['pool-max']} clients`,
          claims: sqlClaims,
          claims_per_s: round(sqlRate),
          db_cpu_ms_per_claim: round(pgCpuMs / viaSql.transactions, 2),
          latency_ms: {
            p50: round(percentile(viaSql.latencies, 50), 2),
            p95: round(percentile(viaSql.latencies, 95), 2),
          },
        },
        ...(plans ? { plans } : {}),
      },
      baseline: naive
        ? {
            kind: 'naive SELECT then UPDATE, no row lock, from as many pg clients',
            claims: naive.ids.length,
            claims_per_s: round(naiveRate),
            duplicates: duplicates(naive.ids),
          }
        : null,
      ratio: naive ? round(apiRate / naiveRate, 2) : null,
      target: `≥ ${TARGET_RATE} claims/s through the API with ${opts.workers} workers, 0 duplicates`,
      met,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await api.close();
    await db.end();
  }
}
