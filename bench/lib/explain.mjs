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
