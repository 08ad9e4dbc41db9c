import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, rowsOf, withTenant } from '../src/db/tenant.js';
import { claimAccount } from '../src/modules/accounts/claim-account.js';
import { writeAudit } from '../src/modules/audit/write-audit.js';
import { captureStatements, withoutSessionCheck } from './helpers/count-statements.js';
import { bearer, createToken, createUser, type TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// POST /accounts/claim as one statement (issue 15, part 3): the pick, the lease and the
// audit entry together; its filters, order, tenancy and statement count.

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const ownerQuery = <T>(text: string, params: unknown[] = []) =>
  ownerQueryAs<T>(t.database, text, params);

async function addAccounts(
  user: TestUser,
  items: Array<Record<string, unknown>>,
): Promise<string[]> {
  const res = await call(user, 'POST', '/accounts/bulk', { items });
  expect(res.statusCode, res.body).toBe(200);
  const ids = await ownerQuery<{ id: string; username: string }>(
    'SELECT id, username FROM accounts WHERE owner_id = $1',
    [user.id],
  );
  return items.map((i) => ids.find((r) => r.username === i.username)?.id ?? '');
}

const claim = (user: TestUser, body: Record<string, unknown> = {}) =>
  call(user, 'POST', '/accounts/claim', { lease_seconds: 600, ...body });

type AuditRow = Record<string, unknown> & { details: Record<string, unknown> };
const claimAudits = (ownerId: string) =>
  ownerQuery<AuditRow>(
    `SELECT owner_id, actor_type, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, details
       FROM audit_log WHERE action = 'account.claim' AND owner_id = $1 ORDER BY at, id`,
    [ownerId],
  );

const userActor = (u: TestUser): Actor => ({
  kind: 'user',
  userId: u.id,
  username: u.username,
  role: u.role,
  via: 'session',
  scopes: ['read', 'write'],
});

describe('claim: concurrency', () => {
  it('hands each of 40 accounts to exactly one of 64 parallel claimers, filters mixed', async () => {
    const user = await createUser(t.app, admin);
    const items = Array.from({ length: 40 }, (_, i) => ({
      username: `par-${i}`,
      service: i % 2 ? 'steam' : 'epic',
      tags: i % 4 === 0 ? ['prime'] : [],
    }));
    await addAccounts(user, items);
    const filters = [undefined, { service: 'steam' }, { service: 'epic' }, { tags: ['prime'] }];
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        claim(user, {
          claimed_by: `w${i}`,
          ...(filters[i % 4] ? { filter: filters[i % 4] } : {}),
        }),
      ),
    );
    const won = results.filter((r) => r.statusCode === 200).map((r) => r.json().account.id);
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 404)).toBe(true);
    expect(new Set(won).size).toBe(won.length);
    // Drain what the filtered claimers left: every account is then claimed exactly once.
    for (;;) {
      const res = await claim(user, { claimed_by: 'drain' });
      if (res.statusCode === 404) break;
      won.push(res.json().account.id);
    }
    expect(won).toHaveLength(40);
    expect(new Set(won).size).toBe(40);
    // One audit entry per claim, naming the account claimed.
    const audits = await claimAudits(user.id);
    expect(audits.map((a) => a.entity_id).sort()).toEqual([...won].sort());
  });
});

describe('claim: filters and order', () => {
  it('claims only active accounts (a lapsed lock counts) matching service and all tags', async () => {
    const user = await createUser(t.app, admin);
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const [steamPrime, epicPrime, steamEu, lapsed] = await addAccounts(user, [
      { username: 'steam-prime', service: 'steam', tags: ['prime', 'eu'] },
      { username: 'epic-prime', service: 'epic', tags: ['prime'] },
      { username: 'steam-eu', service: 'steam', tags: ['eu'] },
      { username: 'lapsed-lock', service: 'steam', status: 'locked', locked_until: past },
      { username: 'locked', service: 'steam', status: 'locked', locked_until: future },
      { username: 'locked-forever', service: 'steam', status: 'locked' },
      { username: 'disabled', service: 'steam', status: 'disabled' },
      { username: 'banned', service: 'steam', tags: ['prime'], status: 'banned' },
    ]);
    const id = async (body: Record<string, unknown>) => {
      const res = await claim(user, body);
      return res.statusCode === 200 ? res.json().account.id : res.statusCode;
    };
    expect(await id({ filter: { service: 'EPIC' } })).toBe(epicPrime);
    expect(await id({ filter: { service: 'epic' } })).toBe(404);
    expect(await id({ filter: { service: 'steam', tags: ['prime', 'eu'] } })).toBe(steamPrime);
    expect(await id({ filter: { tags: ['prime'] } })).toBe(404);
    expect(await id({ filter: { tags: ['eu'] } })).toBe(steamEu);
    expect(await id({})).toBe(lapsed);
    const last = await claim(user, {});
    expect(last.statusCode).toBe(404);
    expect(last.json().code).toBe('nothing_to_claim');
  });

  it('gives the least recently claimed account first, never-claimed ones before all', async () => {
    const user = await createUser(t.app, admin);
    const [a, b, c] = await addAccounts(user, [
      { username: 'a' },
      { username: 'b' },
      { username: 'c' },
    ]);
    await ownerQuery(
      `UPDATE accounts SET claimed_at = now() - interval '1 hour', claimed_until = now() - interval '1 minute'
        WHERE id = $1`,
      [a],
    );
    await ownerQuery(
      `UPDATE accounts SET claimed_at = now() - interval '2 hours', claimed_until = now() - interval '1 minute'
        WHERE id = $1`,
      [b],
    );
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await claim(user)).json().account.id);
    expect(order).toEqual([c, b, a]);
  });
});

describe('claim: the audit entry written with it', () => {
  it('is what writeAudit() writes, and there is none when nothing was claimed', async () => {
    const user = await createUser(t.app, admin);
    const [only] = await addAccounts(user, [{ username: 'audited', password: 'pw-not-in-audit' }]);
    const res = await claim(user, { claimed_by: 'worker-7', include_secrets: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secrets.password).toBe('pw-not-in-audit');
    const [entry, ...more] = await claimAudits(user.id);
    expect(more).toHaveLength(0);
    expect(entry).toEqual({
      owner_id: user.id,
      actor_type: 'user',
      actor_id: user.id,
      actor_name: user.username,
      action: 'account.claim',
      entity_type: 'account',
      entity_id: only,
      ip: '127.0.0.1',
      request_id: res.headers['x-request-id'],
      details: { claimed_by: 'worker-7', lease_seconds: 600, include_secrets: true },
    });
    expect(JSON.stringify(entry)).not.toContain('pw-not-in-audit');

    // The same entry through writeAudit(), for the same request: identical but for id and at.
    await withTenant(t.database, userActor(user), (tx) =>
      writeAudit(
        tx,
        { actor: userActor(user), ip: '127.0.0.1', requestId: String(res.headers['x-request-id']) },
        {
          action: 'account.claim',
          entityType: 'account',
          entityId: only,
          ownerId: user.id,
          details: { claimed_by: 'worker-7', lease_seconds: 600, include_secrets: true },
        },
      ),
    );
    const [fromClaim, fromWriteAudit] = await claimAudits(user.id);
    expect(fromClaim).toEqual(fromWriteAudit);

    const empty = await claim(user, { claimed_by: 'worker-8' });
    expect(empty.statusCode).toBe(404);
    expect(await claimAudits(user.id)).toHaveLength(2);
  });

  it('refuses a claimed_by the database cannot store with a 400, claiming nothing', async () => {
    const user = await createUser(t.app, admin);
    const [acc] = await addAccounts(user, [{ username: 'nul' }]);
    const res = await claim(user, { claimed_by: 'w\u0000' });
    expect(res.statusCode, res.body).toBe(400);
    expect(await claimAudits(user.id)).toHaveLength(0);
    const [row] = await ownerQuery<{ claimed_by: string | null }>(
      'SELECT claimed_by FROM accounts WHERE id = $1',
      [acc],
    );
    expect(row?.claimed_by).toBeNull();
  });

  it('names the token of a token actor, as every audit entry does', async () => {
    const user = await createUser(t.app, admin);
    const [only] = await addAccounts(user, [{ username: 'by-token' }]);
    const token = await createToken(t.app, user);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts/claim',
      headers: bearer(token.token),
      payload: { lease_seconds: 60 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const [entry] = await claimAudits(user.id);
    expect(entry).toMatchObject({
      actor_type: 'token',
      actor_id: user.id,
      entity_id: only,
      details: {
        claimed_by: `${user.username} (token ${token.id.slice(0, 8)})`,
        lease_seconds: 60,
        include_secrets: false,
        token_id: token.id,
      },
    });
  });
});

describe('claim: tenancy', () => {
  it("never picks another user's account, and an admin claims for the user named", async () => {
    const [bobs] = await addAccounts(bob, [{ username: 'bobs-only', tags: ['tenancy'] }]);
    const aliceTry = await claim(alice, { filter: { tags: ['tenancy'] } });
    expect(aliceTry.statusCode).toBe(404);
    expect(await claimAudits(alice.id)).toHaveLength(0);
    expect(await claimAudits(bob.id)).toHaveLength(0);
    const forBob = await claim(admin, { owner_id: bob.id, filter: { tags: ['tenancy'] } });
    expect(forBob.statusCode, forBob.body).toBe(200);
    expect(forBob.json().account.id).toBe(bobs);
    const [entry] = await claimAudits(bob.id);
    expect(entry).toMatchObject({ owner_id: bob.id, actor_id: admin.id, entity_id: bobs });
    await call(bob, 'POST', `/accounts/${bobs}/release`);
  });

  it("claims nothing and writes no audit entry in another tenant's context", async () => {
    const [bobs] = await addAccounts(bob, [{ username: 'bobs-free', tags: ['ctx'] }]);
    const claimedBy = 'alice-as-herself';
    // Alice's tenant transaction asking for Bob's accounts: row-level security hides them
    // from the pick, so neither the lease nor the audit entry is written.
    const row = await withTenant(t.database, userActor(alice), (tx) =>
      claimAccount(tx, {
        ownerId: bob.id,
        claimedBy,
        leaseSeconds: 600,
        filter: { tags: ['ctx'] },
        audit: { context: { actor: userActor(alice), ip: null, requestId: null }, details: {} },
      }),
    );
    expect(row).toBeNull();
    const [stored] = await ownerQuery<{ claimed_by: string | null }>(
      'SELECT claimed_by FROM accounts WHERE id = $1',
      [bobs],
    );
    expect(stored?.claimed_by).toBeNull();
    expect(await ownerQuery('SELECT 1 FROM audit_log WHERE entity_id = $1', [bobs])).toHaveLength(
      0,
    );
    // Bob's own context does claim it: the statement is not simply broken.
    const own = await withTenant(t.database, userActor(bob), async (tx) => {
      const claimed = await claimAccount(tx, {
        ownerId: bob.id,
        claimedBy: 'bob',
        leaseSeconds: 600,
        filter: { tags: ['ctx'] },
        audit: { context: { actor: userActor(bob), ip: null, requestId: null }, details: {} },
      });
      const audits = rowsOf<{ n: number }>(
        await tx.execute(sql`SELECT count(*)::int AS n FROM audit_log WHERE entity_id = ${bobs}`),
      );
      return { claimed, audits: audits[0]?.n };
    });
    expect(own.claimed?.id).toBe(bobs);
    expect(own.audits).toBe(1);
  });
});

/**
 * Statements of a tenant transaction with `inner` statements between BEGIN + context and
 * COMMIT: on PostgreSQL BEGIN and the context are one query (db/one-trip-transaction.ts), on
 * PGlite two.
 */
function transactionStatements(inner: number): number {
  return t.database.kind === 'postgres' ? inner : inner + 1;
}

describe('claim: statements', () => {
  it('is one statement inside the tenant transaction, with or without a filter', async () => {
    const user = await createUser(t.app, admin);
    await addAccounts(user, [
      { username: 's1', service: 'steam', tags: ['x'] },
      { username: 's2', service: 'steam', tags: ['x'] },
      { username: 's3', service: 'steam', tags: ['x'] },
    ]);
    await claim(user, { include_secrets: true }); // the data key, read once per process
    for (const filter of [undefined, { service: 'steam', tags: ['x'] }]) {
      const all = await captureStatements(t.database, async () => {
        const res = await claim(user, { include_secrets: true, ...(filter ? { filter } : {}) });
        expect(res.statusCode, res.body).toBe(200);
      });
      const statements = withoutSessionCheck(all);
      const texts = statements.map((s) => s.text);
      // BEGIN and the tenant context (one query on PostgreSQL, two on PGlite), the claim
      // (pick, lease and audit entry), COMMIT.
      expect(texts, texts.join('\n---\n')).toHaveLength(transactionStatements(3));
      const claims = statements.filter((s) => /accounts/.test(s.text));
      expect(claims).toHaveLength(1);
      expect(claims[0]?.text).toMatch(/audit_log/);
      // On PostgreSQL a named prepared statement: parsed and planned once per connection.
      if (t.database.kind === 'postgres') expect(claims[0]?.name).toMatch(/^claim_account/);
    }
    const none = withoutSessionCheck(
      await captureStatements(t.database, async () => {
        expect((await claim(user, { filter: { tags: ['absent'] } })).statusCode).toBe(404);
      }),
    );
    expect(none).toHaveLength(transactionStatements(3));
  });
});

describe('release: one statement with its audit entry', () => {
  const releaseAudits = (ownerId: string) =>
    ownerQuery<AuditRow>(
      `SELECT owner_id, actor_type, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, details
         FROM audit_log WHERE action = 'account.release' AND owner_id = $1 ORDER BY at, id`,
      [ownerId],
    );

  it("releases for the holder only, audits what it released, and not another tenant's", async () => {
    const user = await createUser(t.app, admin);
    const [acc] = await addAccounts(user, [{ username: 'leased' }]);
    expect((await claim(user, { claimed_by: 'w1' })).statusCode).toBe(200);

    const refused = await call(user, 'POST', `/accounts/${acc}/release`, { claimed_by: 'w2' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('not_lease_holder');
    expect(refused.json().detail).toContain('w1');
    expect(await releaseAudits(user.id)).toHaveLength(0);

    const notYours = await call(alice, 'POST', `/accounts/${acc}/release`);
    expect(notYours.statusCode).toBe(404);
    expect(await releaseAudits(user.id)).toHaveLength(0);

    const statements = withoutSessionCheck(
      await captureStatements(t.database, async () => {
        const res = await call(user, 'POST', `/accounts/${acc}/release`, { claimed_by: 'w1' });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ id: acc, claimed_by: null, claimed_until: null });
        const [entry, ...more] = await releaseAudits(user.id);
        expect(more).toHaveLength(0);
        expect(entry).toEqual({
          owner_id: user.id,
          actor_type: 'user',
          actor_id: user.id,
          actor_name: user.username,
          action: 'account.release',
          entity_type: 'account',
          entity_id: acc,
          ip: '127.0.0.1',
          request_id: res.headers['x-request-id'],
          details: { held_by: 'w1' },
        });
      }),
    ).filter((s) => !/audit_log WHERE action = 'account.release'/.test(s.text));
    // BEGIN and the tenant context, the release (lock, update and audit entry), COMMIT.
    expect(
      statements.map((s) => s.text),
      statements.map((s) => s.text).join('\n---\n'),
    ).toHaveLength(transactionStatements(3));
    if (t.database.kind === 'postgres') {
      expect(statements.find((s) => /accounts/.test(s.text))?.name).toBe('release_account');
    }

    // Released again with no lease running: allowed, held_by null.
    expect(
      (await call(user, 'POST', `/accounts/${acc}/release`, { claimed_by: 'w2' })).statusCode,
    ).toBe(200);
    expect((await releaseAudits(user.id))[1]?.details).toEqual({ held_by: null });
  });
});
