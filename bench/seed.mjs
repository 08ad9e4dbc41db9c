// Seeds a benchmark database: migrations, users, Proxmox nodes, accounts and VMs, each row
// written inside its owner's tenant transaction (RLS forced), with set-based INSERTs.

import { apiModule } from './lib/api-modules.mjs';
import { DEFAULT_DATABASE_URL, parseOptions } from './lib/args.mjs';
import { asTenant, BENCH_PASSWORD, databaseName, ensureDatabase, pool } from './lib/db.mjs';
import { progressBar } from './lib/progress.mjs';
import { machine, printTable, round, writeResult } from './lib/results.mjs';
import {
  ACCOUNT_IDS,
  INSERT_ACCOUNTS,
  INSERT_NODES,
  INSERT_USERS,
  INSERT_VMS,
} from './lib/seed-sql.mjs';

export const description = 'fresh database with N users, VMs, nodes and accounts (RLS-checked)';

/** n split over parts as evenly as possible. */
const share = (n, parts, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0);

export async function main(argv) {
  const opts = parseOptions(argv, {
    usage:
      'npm run bench -- seed [--vms N] [--accounts N] [--users N] [--big-user N] [--database-url URL]',
    options: {
      vms: { type: 'number', default: 1_000_000, help: 'VMs in all' },
      accounts: { type: 'number', default: 1_000_000, help: 'accounts in all' },
      users: { type: 'number', default: 100, help: 'users owning them (evenly)' },
      nodes: { type: 'number', default: 4, help: 'Proxmox nodes per user' },
      'database-url': {
        type: 'string',
        help: `use this database as it is (default: recreate ${DEFAULT_DATABASE_URL})`,
      },
      concurrency: { type: 'number', default: 2, help: 'users seeded in parallel' },
      batch: { type: 'number', default: 5000, help: 'rows per INSERT statement' },
      'big-user': {
        type: 'number',
        help: 'add one user with N accounts (and one node, no VMs) to the --database-url database',
      },
    },
  });
  if (opts['big-user'] !== undefined) {
    // The search benchmark's second user (bench/README.md): beside a seeded database, never
    // a fresh one.
    if (opts['database-url'] === undefined) {
      throw new Error('--big-user adds to an existing database: pass --database-url');
    }
    Object.assign(opts, { users: 1, accounts: opts['big-user'], vms: 0, nodes: 1 });
  }
  const url = opts['database-url'] ?? DEFAULT_DATABASE_URL;
  if (opts.users < 1) throw new Error('--users must be at least 1');
  const started = performance.now();

  await ensureDatabase(url, { fresh: opts['database-url'] === undefined });
  const { openDatabase } = await apiModule.client();
  const { runMigrations } = await apiModule.migrate();
  const database = await openDatabase({ url, poolMax: 1 });
  try {
    await runMigrations(database.raw, { log: (m) => process.stderr.write(`seed: ${m}\n`) });
  } finally {
    await database.close();
  }
  process.stderr.write(`seed: migrated ${databaseName(url)}\n`);

  const db = pool(url, opts.concurrency + 1);
  try {
    // One argon2id hash made by the app's own hashing, shared by every bench user.
    const { hashPassword } = await apiModule.passwords();
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const users = await asTenant(db, { userId: '', role: 'admin' }, async (c) => {
      const { rows } = await c.query('SELECT count(*)::int AS n FROM users');
      const first = rows[0].n + 1;
      return (await c.query(INSERT_USERS, [first, first + opts.users - 1, passwordHash])).rows;
    });

    const total = opts.users * opts.nodes + opts.accounts + opts.vms;
    const bar = progressBar('seed', total);
    const counts = { users: users.length, proxmox_nodes: 0, accounts: 0, vms: 0 };
    let next = 0;
    const seedUser = async (i) => {
      const user = users[i];
      const actor = { userId: user.id, role: 'user' };
      const index = Number(user.username.slice('bench_user_'.length));
      const nodeIds = await asTenant(db, actor, async (c) =>
        (await c.query(INSERT_NODES, [user.id, opts.nodes])).rows.map((r) => r.id),
      );
      counts.proxmox_nodes += nodeIds.length;
      bar.add(nodeIds.length);
      const nAccounts = share(opts.accounts, users.length, i);
      for (let from = 1; from <= nAccounts; from += opts.batch) {
        const to = Math.min(nAccounts, from + opts.batch - 1);
        const { rowCount } = await asTenant(db, actor, (c) =>
          c.query(INSERT_ACCOUNTS, [user.id, index, from, to, nAccounts]),
        );
        counts.accounts += rowCount;
        bar.add(rowCount);
      }
      const accountIds = await asTenant(
        db,
        actor,
        async (c) => (await c.query(ACCOUNT_IDS, [user.id])).rows[0].ids,
      );
      const nVms = share(opts.vms, users.length, i);
      for (let from = 1; from <= nVms; from += opts.batch) {
        const to = Math.min(nVms, from + opts.batch - 1);
        const { rowCount } = await asTenant(db, actor, (c) =>
          c.query(INSERT_VMS, [user.id, index, from, to, nVms, nodeIds, accountIds]),
        );
        counts.vms += rowCount;
        bar.add(rowCount);
      }
    };
    const worker = async () => {
      while (next < users.length) await seedUser(next++);
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const insert = bar.finish();

    const analyzeStart = performance.now();
    process.stderr.write('seed: VACUUM ANALYZE …\n');
    await db.query('VACUUM (ANALYZE) users, proxmox_nodes, accounts, vms');
    const analyzeSeconds = (performance.now() - analyzeStart) / 1000;
    const totalSeconds = (performance.now() - started) / 1000;

    const { rows: size } = await db.query(
      'SELECT pg_size_pretty(pg_database_size(current_database())) AS size',
    );
    printTable([
      ['table', 'rows'],
      ...Object.entries(counts).map(([t, n]) => [t, n.toLocaleString('en')]),
      ['insert rate', `${Math.round(insert.rate).toLocaleString('en')} rows/s`],
      ['insert time', `${insert.seconds.toFixed(1)} s`],
      ['vacuum analyze', `${analyzeSeconds.toFixed(1)} s`],
      ['total', `${totalSeconds.toFixed(1)} s`],
      ['database size', size[0].size],
    ]);
    const file = writeResult({
      name: 'seed',
      machine: machine(),
      params: { ...opts, database: databaseName(url) },
      figures: {
        rows: counts,
        insert_rows_per_s: Math.round(insert.rate),
        insert_seconds: round(insert.seconds),
        vacuum_analyze_seconds: round(analyzeSeconds),
        total_seconds: round(totalSeconds),
        database_size: size[0].size,
      },
      baseline: null,
      ratio: null,
      target: 'total_seconds <= 300 for 1M VMs + 1M accounts over 100 users',
      met: totalSeconds <= 300,
    });
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await db.end();
  }
}
