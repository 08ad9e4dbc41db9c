import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// The audit log names what an entry is about (issue 17: "account …414159" told people
// nothing), as the reader may see it now: through their own row policies, so a deleted
// object, or another user's, has no name, and a name is never a secret.

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

type Entry = { action: string; entity_id: string | null; entity_name: string | null };
async function entries(user: TestUser, query = ''): Promise<Entry[]> {
  const res = await call(user, 'GET', `/audit?limit=200${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}
const nameOf = (list: Entry[], action: string, id: string) =>
  list.find((e) => e.action === action && e.entity_id === id)?.entity_name;

describe('audit entries name their entity', () => {
  it("by the account's username, the VM's and node's name, the PC name, the card's masked code", async () => {
    const made = async (url: string, body: object) => {
      const res = await call(alice, 'POST', url, body);
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; code_hint?: string };
    };
    const account = await made('/accounts', { username: 'named-account', password: 'pw-secret-1' });
    const vm = await made('/vms', { name: 'named-vm' });
    const node = await made('/proxmox-nodes', { name: 'named-node' });
    const pc = await made('/hardware', { pcname: 'NAMED-PC', mac_address: '02:AA:00:00:00:09' });
    const card = await made('/cards', { code1: 'NAMED-CARD-CODE-0001' });
    const list = await entries(alice);
    expect(nameOf(list, 'account.create', account.id)).toBe('named-account');
    expect(nameOf(list, 'vm.create', vm.id)).toBe('named-vm');
    expect(nameOf(list, 'proxmox_node.create', node.id)).toBe('named-node');
    expect(nameOf(list, 'hardware.create', pc.id)).toBe('NAMED-PC');
    const hint = nameOf(list, 'card.create', card.id);
    expect(hint).toBe(card.code_hint);
    expect(hint).not.toContain('NAMED-CARD-CODE-0001');
    expect(JSON.stringify(list)).not.toContain('pw-secret-1');
  });

  it('has no name once the object is deleted (the id stays)', async () => {
    const res = await call(alice, 'POST', '/vms', { name: 'short-lived' });
    const id = res.json().id as string;
    expect(nameOf(await entries(alice), 'vm.create', id)).toBe('short-lived');
    expect((await call(alice, 'DELETE', `/vms/${id}`)).statusCode).toBe(204);
    const after = await entries(alice);
    expect(nameOf(after, 'vm.create', id)).toBeNull();
    expect(nameOf(after, 'vm.delete', id)).toBeNull();
  });

  it("names another user's objects only for whoever may see them: an admin under All users", async () => {
    const res = await call(bob, 'POST', '/vms', { name: 'bobs-named-vm' });
    const id = res.json().id as string;
    expect(nameOf(await entries(admin, '&scope=all'), 'vm.create', id)).toBe('bobs-named-vm');
    // Alice never sees Bob's entries at all.
    expect((await entries(alice)).some((e) => e.entity_id === id)).toBe(false);
  });
});
