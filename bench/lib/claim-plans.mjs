import { apiCall, captureSql } from './api-server.mjs';
import { inlineStatement } from './pgbench.mjs';

/** Every filter combination POST /accounts/claim accepts, with values the seed made. */
export const CLAIM_FILTERS = [
  { name: 'none', filter: undefined },
  { name: 'service (90%)', filter: { service: 'steam' } },
  { name: 'service (10%)', filter: { service: 'epic' } },
  { name: 'tag (18%)', filter: { tags: ['prime'] } },
  { name: 'two tags (11%)', filter: { tags: ['eu', 'farm'] } },
  { name: 'service + tag', filter: { service: 'steam', tags: ['prime'] } },
  { name: 'service (10%) + two tags (none)', filter: { service: 'epic', tags: ['eu', 'farm'] } },
];

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the claim statement for each filter combination: one real
 * claim per combination captures the statement, which is then explained in the captured
 * tenant context inside a transaction that is rolled back. Prints each plan; returns
 * [{filter, index, ms, plan}].
 */
export async function claimPlans({ db, api, token }) {
  const out = [];
  for (const { name, filter } of CLAIM_FILTERS) {
    // A combination the seed has no account for answers 404: its plan shows what finding
    // nothing costs.
    const statements = await captureSql(() =>
      apiCall(api.base, '/api/v1/accounts/claim', {
        token,
        method: 'POST',
        body: { lease_seconds: 600, claimed_by: 'bench-explain', ...(filter ? { filter } : {}) },
      }).catch((err) => {
        if (!/HTTP 404/.test(err.message)) throw err;
      }),
    );
    const tenant = statements.filter((s) => s.text.includes("set_config('role'")).at(-1);
    const claim = statements.find((s) => /claimed_by/.test(s.text) && /accounts/.test(s.text));
    if (!claim) throw new Error(`no claim statement captured for filter ${name}`);
    const client = await db.connect();
    try {
      // As the API runs it: a prepared statement, whose cached generic plan serves every
      // claim after the fifth (the parameters unknown to the planner) ...
      const generic = await explainIn(client, tenant, [
        'SET LOCAL plan_cache_mode = force_generic_plan',
        `PREPARE claim_plan AS ${claim.text}`,
        `EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim_plan(${claim.values.map((v) => inlineStatement({ text: '$1', values: [v] })).join(', ')})`,
      ]);
      // ... and with the values written in (the custom plans of the first five).
      const custom = await explainIn(client, tenant, [
        `EXPLAIN (ANALYZE, BUFFERS) ${inlineStatement(claim)}`,
      ]);
      for (const [kind, plan] of [
        ['generic', generic],
        ['custom', custom],
      ]) {
        const index = plan.match(
          /Index (?:Only )?Scan(?: Backward)? using (\w+) on accounts accounts_1/,
        )?.[1];
        const ms = Number(plan.match(/Execution Time: ([\d.]+) ms/)?.[1]);
        out.push({ filter: name, plan_kind: kind, index: index ?? 'none', ms, plan });
        process.stdout.write(`\n--- claim, filter ${name}, ${kind} plan\n${plan}\n`);
      }
    } finally {
      client.release();
    }
  }
  return out;
}

/** Runs the statements in a rolled-back transaction in the tenant context; the last one's plan. */
async function explainIn(client, tenant, statements) {
  await client.query('BEGIN');
  try {
    await client.query(inlineStatement(tenant));
    let rows = [];
    for (const s of statements) ({ rows } = await client.query(s));
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
    await client.query('DEALLOCATE ALL');
  }
}
