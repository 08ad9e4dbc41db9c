// Sync benchmark: the real agent against pve-sim and the real API on PostgreSQL, for a node
// with N guests — the first cycle and a steady-state cycle with 1% of the guests changed —
// against the call pattern of the earlier agent (list, then config and status per guest,
// then one AccountDB call per guest) in the same run.

import { apiModule } from './lib/api-modules.mjs';
import { apiCall, startApi } from './lib/api-server.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { ensureDatabase, pool } from './lib/db.mjs';
import { oldAgentCycle } from './lib/old-agent.mjs';
import { machine, printTable, round, writeResult } from './lib/results.mjs';

export const description =
  'agent cycle for a node with 10,000 guests vs the old per-VM call pattern';

const ADMIN = {
  username: 'bench_sync_admin',
  email: 'sync-admin@bench.test',
  password: 'bench sync admin password',
};

/** AccountDB's own count of the requests it served (loopback /metrics). */
async function apiRequests(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('accountdb_http_requests_total{') && !line.includes('route="/metrics"'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * Rows the run wrote: VM rows, the node's liveness row (migration 0012) and its node row
 * inserted or updated (their xmin is newer than the run's first transaction), plus sync
 * cycles, status events and audit entries added. `vms` is the VM rows alone.
 */
async function writeCounter(db, nodeIds) {
  const counts = async () => {
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM vm_status_events)::bigint AS events,
              (SELECT count(*) FROM audit_log)::bigint AS audit,
              (SELECT count(*) FROM agent_sync_cycles)::bigint AS cycles,
              txid_current() % 4294967296 AS xid`,
    );
    return rows[0];
  };
  const before = await counts();
  return async () => {
    const after = await counts();
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM vms WHERE node_id = ANY($1) AND xmin::text::bigint > $2)::int AS vms,
              (SELECT count(*) FROM vm_liveness WHERE node_id = ANY($1) AND xmin::text::bigint > $2)::int AS liveness,
              (SELECT count(*) FROM proxmox_nodes WHERE id = ANY($1) AND xmin::text::bigint > $2)::int AS nodes`,
      [nodeIds, before.xid],
    );
    const added = (k) => Number(after[k] - before[k]);
    const r = rows[0];
    return {
      total: r.vms + r.liveness + r.nodes + added('events') + added('audit') + added('cycles'),
      vms: r.vms,
    };
  };
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage: 'npm run bench -- sync [--guests N] [--changed PCT] [--baseline-concurrency N]',
    options: {
      guests: { type: 'number', default: 10_000, help: 'guests on the node' },
      changed: {
        type: 'number',
        default: 1,
        help: 'percent of guests changed before the steady cycle',
      },
      'baseline-concurrency': {
        type: 'number',
        default: 8,
        help: 'requests the old pattern keeps in flight (it was sequential: this flatters it)',
      },
      'database-url': {
        type: 'string',
        help: 'use this database (default: a fresh bench_sync next to the bench database)',
      },
    },
  });
  const url = opts['database-url'] ?? DEFAULT_DATABASE_URL.replace(/\/[^/]*$/, '/bench_sync');
  await ensureDatabase(url, { fresh: opts['database-url'] === undefined });
  const { openDatabase } = await apiModule.client();
  const { runMigrations } = await apiModule.migrate();
  const migrating = await openDatabase({ url, poolMax: 1 });
  await runMigrations(migrating.raw, { log: () => undefined });
  await migrating.close();

  const { startPveSim } = await import('../packages/pve-sim/src/index.ts');
  const { Agent } = await import('../apps/agent/src/agent.ts');
  const { createLogger } = await import('../apps/agent/src/log.ts');

  const api = await startApi(url);
  const sim = await startPveSim({
    vms: opts.guests,
    nodes: 1,
    seed: 11,
    authDelayMs: 0,
    nameDelayMs: 0,
    agentNotRunningMs: 1,
    agentTimeoutMs: 5,
  });
  const db = pool(url, 2);
  const agents = [];
  try {
    await apiCall(api.base, '/api/v1/auth/setup', { method: 'POST', body: ADMIN });
    const token = (
      await apiCall(api.base, '/api/v1/auth/login', {
        method: 'POST',
        body: { username: ADMIN.username, password: ADMIN.password },
      })
    ).access_token;
    const node = await apiCall(api.base, '/api/v1/proxmox-nodes', {
      token,
      method: 'POST',
      body: { name: 'pve1' },
    });
    const oldNode = await apiCall(api.base, '/api/v1/proxmox-nodes', {
      token,
      method: 'POST',
      body: { name: 'pve1-old-agent' },
    });
    const guests = [...sim.state.guests()].length;
    process.stderr.write(`sync: pve-sim with ${guests} guests on pve1\n`);

    const agent = new Agent({
      settings: {
        accountdbUrl: api.base,
        nodeKey: node.api_key,
        accountdbCa: undefined,
        pveUrl: sim.url,
        pveTokenId: sim.tokenId,
        pveTokenSecret: sim.tokenSecret,
        pveTls: { mode: 'plain' },
        pveNode: 'pve1',
        syncIntervalS: 60,
        healthPort: undefined,
        healthHost: '127.0.0.1',
        logLevel: 'silent',
        stateFile: undefined,
      },
      log: createLogger('silent'),
    });
    agents.push(agent);

    const change = () => {
      const step = Math.max(1, Math.round(100 / opts.changed));
      const picked = [...sim.state.guests()].filter((_, i) => i % step === 0);
      for (const g of picked) {
        sim.state.patchGuest(g.vmid, {
          ...(g.derived.template ? {} : { status: g.status === 'running' ? 'stopped' : 'running' }),
          name: `changed-${g.vmid}-${Date.now() % 100000}`,
        });
      }
      return picked.length;
    };

    const measureNew = async (label) => {
      sim.resetStats();
      const requestsBefore = await apiRequests(api.base);
      const written = await writeCounter(db, [node.id]);
      const { value: outcome, seconds } = await timed(() => agent.cycle());
      if (outcome.kind !== 'synced') throw new Error(`agent ${label}: ${outcome.kind}`);
      const rows = await written();
      const s = outcome.stats;
      return {
        seconds,
        pve_calls: sim.stats().requests_total,
        accountdb_calls: (await apiRequests(api.base)) - requestsBefore,
        rows_written: rows.total,
        vm_rows_written: rows.vms,
        round_robin: s.refreshReads + s.refreshAddressReads + s.retryReads,
        stats: s,
        result: outcome.result,
      };
    };
    /** Cycles after the first (listing only) until every guest's details are read. */
    const measureFill = async () => {
      const total = { cycles: 0, seconds: 0, pve_calls: 0, accountdb_calls: 0, rows_written: 0 };
      for (let i = 0; i < 1000; i++) {
        const m = await measureNew(`fill ${i + 1}`);
        total.cycles++;
        total.seconds += m.seconds;
        total.pve_calls += m.pve_calls;
        total.accountdb_calls += m.accountdb_calls;
        total.rows_written += m.rows_written;
        if (m.stats.detailBacklog === 0) return total;
      }
      throw new Error('details never filled in');
    };
    const ids = new Map();
    const measureOld = async () => {
      const login = await apiCall(api.base, '/api/v1/auth/login', {
        method: 'POST',
        body: { username: ADMIN.username, password: ADMIN.password },
      });
      sim.resetStats();
      const written = await writeCounter(db, [oldNode.id]);
      const { value, seconds } = await timed(() =>
        oldAgentCycle({
          sim,
          node: 'pve1',
          api: api.base,
          nodeId: oldNode.id,
          token: login.access_token,
          ids,
          concurrency: opts['baseline-concurrency'],
        }),
      );
      return {
        seconds,
        pve_calls: sim.stats().requests_total,
        accountdb_calls: value.adbCalls,
        rows_written: (await written()).total,
      };
    };

    process.stderr.write('sync: first cycle, agent…\n');
    const firstNew = await measureNew('first');
    process.stderr.write(
      `sync: first cycle ${round(firstNew.seconds, 2)} s; filling in the details of ${firstNew.stats.detailBacklog} guests…\n`,
    );
    const fill = await measureFill();
    process.stderr.write('sync: first cycle, old pattern…\n');
    const firstOld = await measureOld();
    const changed = change();
    process.stderr.write(`sync: ${changed} guests changed; steady cycle, agent…\n`);
    const steadyNew = await measureNew('steady');
    process.stderr.write('sync: steady cycle, old pattern…\n');
    const steadyOld = await measureOld();

    const ratio = (a, b) => (b === 0 ? null : round(a / b, 3));
    const figures = {
      guests,
      changed,
      first: { agent: firstNew, old_pattern: firstOld },
      fill_in: fill,
      steady: { agent: steadyNew, old_pattern: steadyOld },
    };
    const ratios = {
      first_time: ratio(firstNew.seconds, firstOld.seconds),
      first_calls: ratio(
        firstNew.pve_calls + firstNew.accountdb_calls,
        firstOld.pve_calls + firstOld.accountdb_calls,
      ),
      steady_time: ratio(steadyNew.seconds, steadyOld.seconds),
      steady_calls: ratio(
        steadyNew.pve_calls + steadyNew.accountdb_calls,
        steadyOld.pve_calls + steadyOld.accountdb_calls,
      ),
      steady_rows: ratio(steadyNew.rows_written, steadyOld.rows_written),
    };
    // The targets (issue 14, part 3), same machine, same run.
    const targets = {
      steady_rows: { limit: 2 * changed + 10, value: steadyNew.rows_written },
      steady_pve_calls: {
        limit: 1 + 3 * changed + steadyNew.round_robin,
        value: steadyNew.pve_calls,
      },
      first_speedup: { limit: 20, value: round(firstOld.seconds / firstNew.seconds, 1) },
    };
    const met =
      targets.steady_rows.value <= targets.steady_rows.limit &&
      targets.steady_pve_calls.value <= targets.steady_pve_calls.limit &&
      targets.first_speedup.value >= targets.first_speedup.limit;
    printTable([
      ['cycle', 'who', 'seconds', 'Proxmox calls', 'AccountDB calls', 'rows written'],
      ...[
        ['first', 'agent', firstNew],
        ['first', 'old pattern', firstOld],
        [`fill-in (${fill.cycles} cycles)`, 'agent', fill],
        ['steady (1%)', 'agent', steadyNew],
        ['steady (1%)', 'old pattern', steadyOld],
      ].map(([cycle, who, m]) => [
        cycle,
        who,
        round(m.seconds, 2),
        m.pve_calls,
        m.accountdb_calls,
        m.rows_written,
      ]),
    ]);
    process.stdout.write(
      `agent / old pattern: first cycle ${ratios.first_time}× the time, ${ratios.first_calls}× the calls; ` +
        `steady ${ratios.steady_time}× the time, ${ratios.steady_calls}× the calls, ${ratios.steady_rows}× the rows\n`,
    );
    process.stdout.write(
      `targets: steady rows ${targets.steady_rows.value} ≤ 2×${changed}+10 = ${targets.steady_rows.limit}; ` +
        `steady Proxmox calls ${targets.steady_pve_calls.value} ≤ 1+3×${changed}+${steadyNew.round_robin} (round robin) = ${targets.steady_pve_calls.limit}; ` +
        `first cycle ${targets.first_speedup.value}× faster than the old pattern (≥ 20×): ${met ? 'met' : 'NOT met'}\n` +
        `steady cycle: ${steadyNew.vm_rows_written} VM rows written; round robin = ${steadyNew.stats.refreshReads} config refreshes + ${steadyNew.stats.refreshAddressReads} of their address reads + ${steadyNew.stats.retryReads} address retries\n`,
    );
    const file = writeResult({
      name: 'sync',
      machine: machine(),
      params: {
        guests: opts.guests,
        changed_pct: opts.changed,
        baseline_concurrency: opts['baseline-concurrency'],
      },
      figures,
      baseline: { first: firstOld, steady: steadyOld },
      ratio: ratios,
      target:
        'steady rows ≤ 2 × changed + 10; steady Proxmox calls ≤ 1 + 3 × changed + round robin; first cycle ≥ 20× faster than the old pattern',
      targets,
      met,
    });
    process.stderr.write(`sync: wrote ${file}\n`);
  } finally {
    for (const a of agents) await a.close();
    await sim.stop();
    await api.close();
    await db.end();
  }
}
