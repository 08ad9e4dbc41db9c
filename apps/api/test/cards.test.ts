import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { expectProblem, ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const ownerQuery = <T>(text: string) => ownerQueryAs<T>(t.database, text);

const code = () => `${randomName('c').toUpperCase().replace('_', '-')}-WXYZ`;

describe('cards', () => {
  it('masks codes in lists and shows them in detail, audited', async () => {
    const c1 = code();
    const created = await call(alice, 'POST', '/cards', { code1: c1, value: 20, currency: 'eur' });
    expect(created.statusCode, created.body).toBe(201);
    const card = created.json();
    expect(card).toMatchObject({
      code_hint: expect.stringMatching(/WXYZ$/),
      status: 'available',
      value: 20,
      currency: 'EUR',
      has_code2: false,
    });
    expect(created.body).not.toContain(c1);
    expect((await call(alice, 'GET', '/cards')).body).not.toContain(c1);
    const detail = (await call(alice, 'GET', `/cards/${card.id}`)).json();
    expect(detail.code1).toBe(c1);
    const audit = await ownerQuery(
      `SELECT 1 FROM audit_log WHERE action = 'card.reveal' AND entity_id = '${card.id}'`,
    );
    expect(audit).toHaveLength(1);
    const rows = await ownerQuery(`SELECT * FROM cards WHERE id = '${card.id}'`);
    expect(JSON.stringify(rows)).not.toContain(c1.slice(0, 10));
  });

  it('finds a card by its code ignoring case, spaces and dashes, only among your own', async () => {
    const c1 = code();
    const pin = `PIN-${randomName('p')}`;
    const card = (await call(alice, 'POST', '/cards', { code1: c1, code2: pin })).json();
    const lookup = (user: TestUser, body: object) => call(user, 'POST', '/cards/lookup', body);
    const spelled = c1.toLowerCase().replace(/-/g, ' ');
    const found = await lookup(alice, { code: spelled });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json()).toMatchObject({ total: 1, items: [{ id: card.id, has_code2: true }] });
    // Masked like a list: the code is not in the answer, and the lookup reveals nothing.
    expect(found.body).not.toContain(c1);
    expect((await lookup(alice, { code: pin.toLowerCase() })).json().items[0].id).toBe(card.id);
    expect((await lookup(alice, { code: `${c1}-X` })).json()).toEqual({ items: [], total: 0 });
    expect((await lookup(bob, { code: c1 })).json().total).toBe(0);
    // An admin looks in their own cards unless scope=all (every user's, each with its owner).
    expect((await lookup(admin, { code: c1 })).json().total).toBe(0);
    const everyone = (await lookup(admin, { code: c1, scope: 'all' })).json();
    expect(everyone).toMatchObject({
      total: 1,
      items: [{ id: card.id, owner: { id: alice.id, username: alice.username } }],
    });
    expectProblem(await lookup(bob, { code: c1, scope: 'all' }), 403, 'admin_only');
    expect((await lookup(admin, { code: c1, owner_id: bob.id })).json().total).toBe(0);
    expect((await lookup(admin, { code: c1, owner_id: alice.id })).json().total).toBe(1);
    expectProblem(await lookup(bob, { code: c1, owner_id: alice.id }), 403, 'admin_only');
    expectProblem(await lookup(alice, { code: '' }), 400, 'validation_error');
    expectProblem(await lookup(alice, { code: c1, colour: 'red' }), 400, 'validation_error');
    // The same code may live in two users' inventories; a user's second copy is a duplicate.
    expect((await call(bob, 'POST', '/cards', { code1: c1 })).statusCode).toBe(201);
    const dup = await call(alice, 'POST', '/cards', { code1: c1.toLowerCase() });
    expect(dup.statusCode).toBe(409);
    expect((await lookup(admin, { code: c1, scope: 'all' })).json().total).toBe(2);
    const limited = (await lookup(admin, { code: c1, scope: 'all', limit: 1 })).json();
    expect(limited).toMatchObject({ total: 2, items: [{ id: card.id }] });
  });

  it('a lookup is not audited, as a list is not (it reveals no code)', async () => {
    const c1 = code();
    const card = (await call(alice, 'POST', '/cards', { code1: c1 })).json();
    const before = await ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    expect((await call(alice, 'POST', '/cards/lookup', { code: c1 })).json().total).toBe(1);
    expect((await call(alice, 'GET', '/cards')).statusCode).toBe(200);
    const after = await ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(
      await ownerQuery(
        `SELECT 1 FROM audit_log WHERE entity_id = '${card.id}' AND action <> 'card.create'`,
      ),
    ).toEqual([]);
  });

  it('refuses a code in the URL, naming the lookup route', async () => {
    const c1 = code();
    await call(alice, 'POST', '/cards', { code1: c1 });
    for (const url of [
      `/cards?code=${encodeURIComponent(c1)}`,
      `/cards?limit=5&code=${encodeURIComponent(c1)}`,
      `/cards/export?format=csv&code=${encodeURIComponent(c1)}`,
    ]) {
      const res = await call(alice, 'GET', url);
      expectProblem(res, 400, 'code_in_url');
      expect(res.json().detail, url).toContain('POST /api/v1/cards/lookup');
      expect(res.json().errors).toEqual([
        { path: '/querystring/code', message: 'is not accepted; use POST /api/v1/cards/lookup' },
      ]);
      expect(res.body).not.toContain(c1);
    }
    // Other list filters are unaffected.
    expect((await call(alice, 'GET', '/cards?limit=1')).statusCode).toBe(200);
  });

  it('imports one card a line, skipping duplicates; a dry run writes nothing', async () => {
    const user = await createUser(t.app, admin);
    const [a, b, c] = [code(), code(), code()];
    const text = `# batch 7\n${a}\n${b},PIN-1\n\n${a}\n${c},x,y\n`;
    const dry = (
      await call(user, 'POST', '/cards/import?dry_run=true&currency=usd&value=5&tags=b7', text, {
        'content-type': 'text/plain',
      })
    ).json();
    expect(dry).toMatchObject({ dry_run: true, created: 2, duplicates: 1, failed: 1 });
    expect(dry.errors[0].row).toBe(6);
    expect((await call(user, 'GET', '/cards')).json().total).toBe(0);
    const real = (
      await call(user, 'POST', '/cards/import?currency=usd&value=5&tags=b7', text, {
        'content-type': 'text/plain',
      })
    ).json();
    expect(real).toMatchObject({ created: 2, duplicates: 1, failed: 1 });
    const again = (
      await call(user, 'POST', '/cards/import', `${a}\n`, { 'content-type': 'text/plain' })
    ).json();
    expect(again).toMatchObject({ created: 0, duplicates: 1 });
    const list = (await call(user, 'GET', '/cards?tag=b7&currency=USD')).json();
    expect(list.total).toBe(2);
    expect(list.items[0]).toMatchObject({ value: 5, currency: 'USD' });
  });

  it('claims: never the same card twice, codes in the answer, lapsed leases free again', async () => {
    const user = await createUser(t.app, admin);
    await call(user, 'POST', '/cards/bulk', {
      items: Array.from({ length: 10 }, () => ({ code1: code(), currency: 'EUR', value: 10 })),
    });
    const results = await Promise.all(
      Array.from({ length: 22 }, () => call(user, 'POST', '/cards/claim', { lease_seconds: 60 })),
    );
    const won = results.filter((r) => r.statusCode === 200).map((r) => r.json());
    expect(won).toHaveLength(10);
    expect(new Set(won.map((c) => c.id)).size).toBe(10);
    expect(won[0].code1).toMatch(/WXYZ$/);
    expect(results.filter((r) => r.statusCode === 404)).toHaveLength(12);
    await ownerQuery(
      `UPDATE cards SET claimed_until = now() - interval '1 second' WHERE id = '${won[0].id}'`,
    );
    const again = (await call(user, 'POST', '/cards/claim', { lease_seconds: 60 })).json();
    expect(again.id).toBe(won[0].id);
  });

  it('redeems onto an account, fails with a reason, releases, and refuses what does not follow', async () => {
    const user = await createUser(t.app, admin);
    const account = (await call(user, 'POST', '/accounts', { username: 'redeemer' })).json();
    const [c1, c2, c3] = await Promise.all(
      [code(), code(), code()].map(async (c) =>
        (await call(user, 'POST', '/cards', { code1: c })).json(),
      ),
    );
    const redeemed = (
      await call(user, 'POST', `/cards/${c1.id}/redeem`, { account_id: account.id })
    ).json();
    expect(redeemed).toMatchObject({ status: 'redeemed', account_id: account.id });
    expect(redeemed.redeemed_at).not.toBeNull();
    expect((await call(user, 'POST', `/cards/${c1.id}/fail`, { reason: 'late' })).statusCode).toBe(
      409,
    );
    expect(
      (await call(user, 'POST', `/cards/${c2.id}/fail`, { reason: 'region locked' })).json(),
    ).toMatchObject({ status: 'failed', failure_reason: 'region locked' });
    expect((await call(user, 'POST', `/cards/${c3.id}/release`)).statusCode).toBe(409);
    // Redeeming onto another user's account is a missing reference.
    const foreign = (await call(alice, 'POST', '/accounts', { username: 'not-yours' })).json();
    const c4 = (await call(user, 'POST', '/cards', { code1: code() })).json();
    const bad = await call(user, 'POST', `/cards/${c4.id}/redeem`, { account_id: foreign.id });
    expect(bad.statusCode).toBe(422);
    expect((await call(user, 'GET', `/cards/${c4.id}`)).json().status).toBe('available');
  });

  it("answers 404 for another user's card on every route", async () => {
    const card = (await call(alice, 'POST', '/cards', { code1: code() })).json();
    for (const [method, url, body] of [
      ['GET', `/cards/${card.id}`],
      ['PATCH', `/cards/${card.id}`, { notes: 'x' }],
      ['DELETE', `/cards/${card.id}`],
      ['POST', `/cards/${card.id}/redeem`, {}],
      ['POST', `/cards/${card.id}/fail`, { reason: 'x' }],
      ['POST', `/cards/${card.id}/release`],
    ] as Array<[string, string, unknown?]>) {
      expect({ method, url, status: (await call(bob, method, url, body)).statusCode }).toEqual({
        method,
        url,
        status: 404,
      });
    }
    expect((await call(alice, 'GET', `/cards/${card.id}`)).json().status).toBe('available');
  });
});
