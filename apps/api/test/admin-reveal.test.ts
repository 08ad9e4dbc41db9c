import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './helpers/factories.js';
import { allAuditText, expectProblem } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// Issue 16, part 3: an admin reveals another user's secret (account secrets, its live 2FA
// code, a card's codes, an export with secrets) only with a reason, audited with it in the
// owner's audit log, where the owner reads it.

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

const PASSWORD = 'alice-very-secret-password';
const SHARED = 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=';
const CODE = 'REVEAL-ME-0001-XYZ';
let accountId: string;
let cardId: string;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
  const acc = await call(alice, 'POST', '/accounts', {
    username: 'alice-main',
    password: PASSWORD,
    shared_secret: SHARED,
  });
  expect(acc.statusCode, acc.body).toBe(201);
  accountId = acc.json().id;
  const card = await call(alice, 'POST', '/cards', { code1: CODE });
  expect(card.statusCode, card.body).toBe(201);
  cardId = card.json().id;
});
afterAll(async () => t?.close());

/** Alice's own audit entries of an action, as Alice reads them. */
async function aliceSees(action: string) {
  const res = await call(alice, 'GET', `/audit?action=${action}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as Array<{
    actor_id: string;
    owner_id: string;
    entity_id: string;
    details: Record<string, unknown>;
  }>;
}

const q = (reason: string) => `?reason=${encodeURIComponent(reason)}`;

describe("revealing another user's secret", () => {
  it.each([
    ['secrets', 'account.reveal_secrets'],
    ['totp', 'account.totp'],
  ])(
    'GET /accounts/{id}/%s asks an admin for a reason, audited in the owner’s log',
    async (path, action) => {
      const url = `/accounts/${accountId}/${path}`;
      expectProblem(await call(admin, 'GET', url), 400, 'reason_required');
      expectProblem(await call(admin, 'GET', `${url}${q('   ')}`), 400, 'reason_required');
      expectProblem(await call(admin, 'GET', `${url}${q('a\u0007b')}`), 400, 'validation_error');
      expectProblem(
        await call(admin, 'GET', `${url}${q('x'.repeat(501))}`),
        400,
        'validation_error',
      );
      expect(await aliceSees(action)).toEqual([]);

      const res = await call(admin, 'GET', `${url}${q(' ticket 42: locked out ')}`);
      expect(res.statusCode, res.body).toBe(200);
      const entries = await aliceSees(action);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor_id: admin.id,
        owner_id: alice.id,
        entity_id: accountId,
        details: { reason: 'ticket 42: locked out' },
      });
      // The owner needs no reason for her own, and her entry has none.
      expect((await call(alice, 'GET', url)).statusCode).toBe(200);
      const own = (await aliceSees(action)).find((e) => e.actor_id === alice.id);
      expect(own?.details.reason).toBeUndefined();
      // Bob cannot reach it, reason or not.
      expect((await call(bob, 'GET', `${url}${q('curious')}`)).statusCode).toBe(404);
    },
  );

  it("answers an admin another user's card masked without a reason, revealed and audited with one", async () => {
    const masked = await call(admin, 'GET', `/cards/${cardId}`);
    expect(masked.statusCode, masked.body).toBe(200);
    expect(masked.body).not.toContain(CODE);
    expect(masked.json().owner).toEqual({ id: alice.id, username: alice.username });
    expect(await aliceSees('card.reveal')).toEqual([]);

    const shown = await call(admin, 'GET', `/cards/${cardId}${q('refund check')}`);
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json().code1).toBe(CODE);
    expect(await aliceSees('card.reveal')).toMatchObject([
      { actor_id: admin.id, owner_id: alice.id, details: { reason: 'refund check' } },
    ]);
    // Alice's own card page reveals without a reason, as before.
    expect((await call(alice, 'GET', `/cards/${cardId}`)).json().code1).toBe(CODE);
  });

  it("asks a reason for an export with secrets that covers other users' objects", async () => {
    const url = '/accounts/export?format=json&include_secrets=true';
    expectProblem(await call(admin, 'GET', `${url}&scope=all`), 400, 'reason_required');
    expectProblem(await call(admin, 'GET', `${url}&owner_id=${alice.id}`), 400, 'reason_required');
    // Their own: no reason needed.
    expect((await call(admin, 'GET', url)).statusCode).toBe(200);
    const res = await call(admin, 'GET', `${url}&owner_id=${alice.id}&reason=migration`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain(PASSWORD);
    expect(await aliceSees('account.export')).toMatchObject([
      { actor_id: admin.id, owner_id: alice.id, details: { reason: 'migration' } },
    ]);
  });

  it("writes an export of everyone's secrets into the audit log of each owner it holds, with the reason", async () => {
    const bobs = await call(bob, 'POST', '/accounts', { username: 'bob-main', password: 'bob-pw' });
    expect(bobs.statusCode, bobs.body).toBe(201);
    const before = (await aliceSees('account.export')).length;
    const res = await call(
      admin,
      'GET',
      '/accounts/export?format=json&include_secrets=true&scope=all&reason=audit%20sweep',
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain(PASSWORD);
    const mine = await aliceSees('account.export');
    expect(mine).toHaveLength(before + 1);
    expect(mine[0]).toMatchObject({
      actor_id: admin.id,
      owner_id: alice.id,
      details: { reason: 'audit sweep', scope: 'all' },
    });
    const bobSees = await call(bob, 'GET', '/audit?action=account.export');
    expect(bobSees.json().items).toMatchObject([
      { actor_id: admin.id, owner_id: bob.id, details: { reason: 'audit sweep' } },
    ]);
    // A search that matches only Alice's account writes nothing into Bob's log.
    const only = await call(
      admin,
      'GET',
      '/accounts/export?format=json&include_secrets=true&scope=all&q=alice-main&reason=one',
    );
    expect(only.statusCode, only.body).toBe(200);
    expect((await call(bob, 'GET', '/audit?action=account.export')).json().items).toHaveLength(1);
    expect(await aliceSees('account.export')).toHaveLength(before + 2);
  });

  it("asks a reason of an admin claiming another user's account with its secrets, before anything is leased", async () => {
    const claim = { owner_id: alice.id, include_secrets: true, lease_seconds: 60 };
    expectProblem(await call(admin, 'POST', '/accounts/claim', claim), 400, 'reason_required');
    expect(await aliceSees('account.claim')).toEqual([]);
    const res = await call(admin, 'POST', '/accounts/claim', { ...claim, reason: 'support 7' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secrets.password).toBe(PASSWORD);
    expect(await aliceSees('account.claim')).toMatchObject([
      { actor_id: admin.id, owner_id: alice.id, details: { reason: 'support 7' } },
    ]);
    // Without secrets, no reason is needed.
    await call(admin, 'POST', `/accounts/${accountId}/release`, {});
    const plain = await call(admin, 'POST', '/accounts/claim', { owner_id: alice.id });
    expect(plain.statusCode, plain.body).toBe(200);
  });

  it("asks a reason of an admin claiming another user's card (the answer carries its codes)", async () => {
    const claim = { owner_id: alice.id, lease_seconds: 60 };
    expectProblem(await call(admin, 'POST', '/cards/claim', claim), 400, 'reason_required');
    expect(await aliceSees('card.claim')).toEqual([]);
    const res = await call(admin, 'POST', '/cards/claim', { ...claim, reason: 'refund 9' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().code1).toBe(CODE);
    expect(await aliceSees('card.claim')).toMatchObject([
      { actor_id: admin.id, owner_id: alice.id, details: { reason: 'refund 9' } },
    ]);
  });

  it('writes no secret into any audit entry', async () => {
    const text = await allAuditText(t.database);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(SHARED);
    expect(text).not.toContain(CODE);
  });
});
