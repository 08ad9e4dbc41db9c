import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from './helpers/factories.js';
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

describe('audit log', () => {
  it("shows each user their own entries, newest first, paged; an admin sees everyone's with scope=all", async () => {
    const acc = (
      await call(alice, 'POST', '/accounts', { username: 'audited', password: 'hunter2-hunter2' })
    ).json();
    await call(alice, 'GET', `/accounts/${acc.id}/secrets`);
    await call(bob, 'POST', '/hardware', { pcname: 'bob-pc' });
    const mine = (await call(alice, 'GET', '/audit?action=account.')).json();
    expect(mine.items.map((e: { action: string }) => e.action)).toEqual([
      'account.reveal_secrets',
      'account.create',
    ]);
    expect(mine.items.every((e: { owner_id: string }) => e.owner_id === alice.id)).toBe(true);
    expect(JSON.stringify(mine)).not.toContain('hunter2-hunter2');
    expect((await call(alice, 'GET', '/audit?entity_type=hardware')).json().items).toEqual([]);
    const own = (await call(admin, 'GET', '/audit?entity_type=hardware')).json();
    expect(own.items).toEqual([]);
    const all = (await call(admin, 'GET', '/audit?entity_type=hardware&scope=all')).json();
    expect(all.items.map((e: { owner_id: string }) => e.owner_id)).toContain(bob.id);
    expect((await call(alice, 'GET', '/audit?scope=all')).statusCode).toBe(403);
    const page1 = (await call(alice, 'GET', '/audit?limit=1')).json();
    const page2 = (await call(alice, 'GET', `/audit?limit=1&cursor=${page1.next_cursor}`)).json();
    expect(page2.items[0].id).not.toBe(page1.items[0].id);
    expect(new Date(page2.items[0].at).getTime()).toBeLessThanOrEqual(
      new Date(page1.items[0].at).getTime(),
    );
    expect((await call(alice, 'GET', `/audit?owner_id=${bob.id}`)).statusCode).toBe(403);
  });
});

describe('dashboard', () => {
  it("counts only the caller's own inventory; an admin's too, unless scope=all", async () => {
    const user = await createUser(t.app, admin);
    await call(user, 'POST', '/accounts/bulk', {
      items: [{ username: 'a1' }, { username: 'a2', status: 'banned' }],
    });
    await call(user, 'POST', '/vms', { name: 'v1', status: 'running' });
    await call(user, 'POST', '/cards', { code1: 'DASH-0001' });
    await call(user, 'POST', '/proxmox-nodes', { name: 'dash-node' });
    const res = await call(user, 'GET', '/dashboard');
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d.accounts).toMatchObject({
      total: 2,
      by_status: { active: 1, banned: 1, locked: 0, disabled: 0 },
      claimed: 0,
    });
    expect(d.vms).toMatchObject({ total: 1, by_status: { running: 1 } });
    expect(d.cards).toMatchObject({ total: 1, by_status: { available: 1 } });
    expect(d.nodes).toMatchObject({ total: 1, by_status: { pending: 1 } });
    expect(d.nodes.items[0]).toMatchObject({
      name: 'dash-node',
      status: 'pending',
      sync_age_s: null,
    });
    expect(d.recent_activity.length).toBeGreaterThan(0);
    const adminOwn = (await call(admin, 'GET', '/dashboard')).json();
    expect(adminOwn.accounts.total).toBe(0);
    expect(adminOwn.vms.total).toBe(0);
    expect(adminOwn.nodes.items).toEqual([]);
    expect(JSON.stringify(adminOwn.recent_activity)).not.toContain(user.username);
    const adminAll = (await call(admin, 'GET', '/dashboard?scope=all')).json();
    expect(adminAll.accounts.total).toBeGreaterThanOrEqual(d.accounts.total + 1);
    expect(adminAll.nodes.items.map((n: { name: string }) => n.name)).toContain('dash-node');
    const refused = await call(user, 'GET', '/dashboard?scope=all');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('admin_only');
  });
});
