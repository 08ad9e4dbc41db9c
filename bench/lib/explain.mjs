import { inlineStatement } from './pgbench.mjs';

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the captured statements that read `table`, each run in the
 * tenant context the API opened its transaction with (the captured set_config statement).
 */
export async function explainCaptured(db, statements, table) {
  const tenant = statements.filter((s) => s.text.includes("set_config('role'")).at(-1);
  const reads = statements.filter(
    (s) => /^\s*(select|with)/i.test(s.text) && s.text.includes(`from "${table}"`),
  );
  const client = await db.connect();
  const plans = [];
  try {
    for (const s of reads) {
      await client.query('BEGIN');
      if (tenant) await client.query(inlineStatement(tenant));
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${inlineStatement(s)}`);
      await client.query('ROLLBACK');
      plans.push({ sql: inlineStatement(s), plan: rows.map((r) => r['QUERY PLAN']).join('\n') });
    }
  } finally {
    client.release();
  }
  return plans;
}

export function printPlans(label, plans) {
  for (const p of plans) {
    process.stdout.write(`\n--- ${label}\n${p.sql}\n${p.plan}\n`);
  }
}

/**
 * The plans inside the search function (migration 0015) of the captured list statement that
 * calls it: the statement runs again in its tenant context with auto_explain logging nested
 * statements to this connection (loaded as the superuser the bench connects as, before the
 * transaction drops to accountdb_app).
 */
export async function explainSearch(db, statements) {
  const tenant = statements.filter((s) => s.text.includes("set_config('role'")).at(-1);
  const search = statements.find((s) => /"search"\."rank"/.test(s.text));
  if (!search) return [];
  const client = await db.connect();
  const notices = [];
  const listen = (n) => notices.push(n.message);
  client.on('notice', listen);
  try {
    await client.query("LOAD 'auto_explain'");
    await client.query(
      'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; ' +
        'SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET client_min_messages = log',
    );
    await client.query('BEGIN');
    if (tenant) await client.query(inlineStatement(tenant));
    notices.length = 0;
    await client.query(inlineStatement(search));
    await client.query('ROLLBACK');
    await client.query('RESET client_min_messages; RESET auto_explain.log_min_duration');
  } finally {
    client.off('notice', listen);
    client.release(true);
  }
  return notices
    .filter((n) => n.includes('FROM public.') && !n.includes('app_context_keys'))
    .map((n) => {
      const [head, ...rest] = n.split('\n');
      const at = rest.findIndex((l) => /^\S/.test(l) && !l.startsWith('Query Text'));
      return { sql: head, plan: rest.slice(Math.max(0, at)).join('\n') };
    });
}
