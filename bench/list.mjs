// GET /api/v1/vms as a regular user at scale, against pgbench running the very SQL the API
// sent for the same request (captured from the driver) in the same RLS context, and against
// pgbench running the minimal SQL of the request: BEGIN, the context, the page, COMMIT.

import { apiCall, captureSql, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { autocannon } from './lib/autocannon.mjs';
import { benchUser, databaseName, pool, scaleOf } from './lib/db.mjs';
import { backendCpuMs } from './lib/db-cpu.mjs';
import { explainCaptured, printPlans } from './lib/explain.mjs';
import { minimalListScript, pgbenchScript, runPgbench } from './lib/pgbench.mjs';
import { machine, printTable, round, writeResult } from './lib/results.mjs';

export const description = 'VM list (plain, filter, sort, deep cursor): API req/s vs pgbench';

/** Issue 15: API req/s against pgbench running the minimal SQL of the request. */
const TARGET_RATIO = 0.6;
const GOAL_RATIO = 0.8;

/** The cursor of the page that starts `offset` rows into the default order. */
async function deepCursor(api, token, offset) {
  let cursor = null;
  for (let seen = 0; seen < offset; seen += 500) {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await apiCall(api.base, `/api/v1/vms?limit=500${q}`, { token });
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return cursor;
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- list [--seconds S] [--connections C] [--user N] [--explain]',
    options: {
      'database-url': { type: 'string', default: DEFAULT_DATABASE_URL, help: 'seeded database' },
      user: { type: 'number', default: 1, help: 'bench user index to act as' },
      seconds: { type: 'number', default: 10, help: 'duration of each measurement' },
      warmup: { type: 'number', default: 2, help: 'warm-up seconds before each measurement' },
      connections: {
        type: 'number',
        default: 10,
        help: 'HTTP connections = pgbench clients (API pool: 10)',
      },
      only: { type: 'string', help: 'run only this scenario (plain, filter, sort, cursor)' },
      explain: { type: 'boolean', help: 'print EXPLAIN ANALYZE of the captured queries' },
    },
  });
  const url = opts['database-url'];
  const db = pool(url, 2);
  const api = await startApi(url);
  try {
    const user = await benchUser(db, opts.user);
    const scale = await scaleOf(db);
    const token = await api.login(user.username);
    const mine = (await apiCall(api.base, '/api/v1/vms?limit=1&count=true', { token })).total;
    const cursor = await deepCursor(api, token, Math.floor(mine / 2));
    const scenarios = [
      { name: 'plain', path: '/api/v1/vms?limit=50' },
      { name: 'filter', path: '/api/v1/vms?limit=50&status=running' },
      { name: 'sort', path: '/api/v1/vms?limit=50&sort=-name' },
      { name: 'cursor', path: `/api/v1/vms?limit=50&cursor=${encodeURIComponent(cursor)}` },
    ].filter((s) => !opts.only || s.name === opts.only);

    const rows = [];
    for (const s of scenarios) {
      // One request first, so that the captured one finds the credential cache warm (an entry
      // is asked again after 60 s: the capture must not be that one request).
      await apiCall(api.base, s.path, { token });
      const statements = await captureSql(() => apiCall(api.base, s.path, { token }));
      if (opts.explain) printPlans(s.name, await explainCaptured(db, statements, 'vms'));
      const script = pgbenchScript(statements);
      const minimal = minimalListScript(statements);
      const load = {
        connections: opts.connections,
        headers: { authorization: `Bearer ${token}` },
      };
      const bench = { clients: opts.connections, threads: 2 };
      if (opts.warmup > 0) {
        await autocannon(`${api.base}${s.path}`, { ...load, seconds: opts.warmup });
        await runPgbench(url, [script], { ...bench, seconds: opts.warmup });
        await runPgbench(url, [minimal], { ...bench, seconds: opts.warmup });
      }
      const cpuBefore = process.cpuUsage();
      const dbCpuBefore = await backendCpuMs(db, databaseName(url));
      const viaApi = await autocannon(`${api.base}${s.path}`, { ...load, seconds: opts.seconds });
      const cpu = process.cpuUsage(cpuBefore);
      const dbCpuMs = (await backendCpuMs(db, databaseName(url))) - dbCpuBefore;
      const apiCpuMs = (cpu.user + cpu.system) / 1000;
      if (viaApi.non2xx || viaApi.errors) {
        throw new Error(`${s.name}: ${viaApi.non2xx} non-2xx answers, ${viaApi.errors} errors`);
      }
      const viaSql = await runPgbench(url, [script], { ...bench, seconds: opts.seconds });
      const viaMinimal = await runPgbench(url, [minimal], { ...bench, seconds: opts.seconds });
      rows.push({
        scenario: s.name,
        path: s.path.replace(/cursor=[^&]+/, 'cursor=…'),
        // Queries sent to PostgreSQL (round trips); one may hold two statements (BEGIN; …).
        statements: statements.length,
        api_rps: round(viaApi.rps),
        api_latency_ms: viaApi.latencyMs,
        // CPU per request of the API process and of the load generator (same machine).
        api_cpu_ms_per_request: round(apiCpuMs / viaApi.requests, 2),
        // CPU per request of the database backends serving the API (less noisy than req/s
        // on a shared machine: what a change costs, whatever else runs).
        db_cpu_ms_per_request: round(dbCpuMs / viaApi.requests, 2),
        autocannon_cpu_ms_per_request: round(viaApi.cpuMs / viaApi.requests, 2),
        pgbench_tps: round(viaSql.tps),
        ratio: round(viaApi.rps / viaSql.tps, 2),
        pgbench_minimal_tps: round(viaMinimal.tps),
        ratio_minimal: round(viaApi.rps / viaMinimal.tps, 2),
      });
      process.stderr.write(
        `list ${s.name}: api ${round(viaApi.rps)} req/s, pgbench ${round(viaSql.tps)} tps (same SQL), ${round(viaMinimal.tps)} tps (minimal SQL)\n`,
      );
    }

    printTable([
      [
        'scenario',
        'API req/s',
        'API p50 ms',
        'API p99 ms',
        'API cpu ms/req',
        'DB cpu ms/req',
        'autocannon cpu ms/req',
        'queries/req',
        'pgbench tps (same SQL)',
        'API/same',
        'pgbench tps (minimal SQL)',
        'API/minimal',
      ],
      ...rows.map((r) => [
        r.scenario,
        r.api_rps,
        r.api_latency_ms.p50,
        r.api_latency_ms.p99,
        r.api_cpu_ms_per_request,
        r.db_cpu_ms_per_request,
        r.autocannon_cpu_ms_per_request,
        r.statements,
        r.pgbench_tps,
        r.ratio,
        r.pgbench_minimal_tps,
        r.ratio_minimal,
      ]),
    ]);
    const worst = Math.min(...rows.map((r) => r.ratio_minimal));
    process.stdout.write(
      `target API/minimal >= ${TARGET_RATIO}: ${worst >= TARGET_RATIO ? 'met' : 'NOT met'} (worst ${worst}; goal ${GOAL_RATIO}: ${worst >= GOAL_RATIO ? 'met' : 'not met'})\n`,
    );
    const file = writeResult({
      name: 'list',
      machine: machine(),
      params: {
        ...opts,
        scale,
        user: user.username,
        user_vms: mine,
        sql_per_request:
          'same SQL: every statement the API sent for one request; minimal SQL: BEGIN, the context statement, the page query, COMMIT',
      },
      figures: Object.fromEntries(rows.map((r) => [r.scenario, r])),
      baseline: Object.fromEntries(
        rows.map((r) => [
          r.scenario,
          { same_sql: r.pgbench_tps, minimal_sql: r.pgbench_minimal_tps },
        ]),
      ),
      ratio: worst,
      target: `API req/s >= ${TARGET_RATIO * 100}% (goal ${GOAL_RATIO * 100}%) of pgbench tps running the minimal SQL, in every scenario`,
      goal_met: worst >= GOAL_RATIO,
      met: worst >= TARGET_RATIO,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await api.close();
    await db.end();
  }
}
