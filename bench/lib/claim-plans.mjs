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
  { name: 'service (10%) + two tags', filter: { service: 'epic', tags: ['eu', 'farm'] } },
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
    const statements = await captureSql(() =>
      apiCall(api.base, '/api/v1/accounts/claim', {
        token,
        method: 'POST',
        body: { lease_seconds: 600, claimed_by: 'bench-explain', ...(filter ? { filter } : {}) },
      }),
    );
    const tenant = statements.filter((s) => s.text.includes("set_config('role'")).at(-1);
    const claim = statements.find((s) => /claimed_by/.test(s.text) && /accounts/.test(s.text));
    if (!claim) throw new Error(`no claim statement captured for filter ${name}`);
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await client.query(inlineStatement(tenant));
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${inlineStatement(claim)}`);
      await client.query('ROLLBACK');
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      const index = plan.match(/Index (?:Only )?Scan(?: Backward)? using (\w+) on accounts/)?.[1];
      const ms = Number(plan.match(/Execution Time: ([\d.]+) ms/)?.[1]);
      out.push({ filter: name, index: index ?? 'none', ms, plan });
      process.stdout.write(`\n--- claim, filter ${name}\n${inlineStatement(claim)}\n${plan}\n`);
    } finally {
      client.release();
    }
  }
  return out;
}
