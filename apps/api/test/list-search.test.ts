import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * `q` on lists: a substring of any text field, or a word similar to the name field (a typo
 * still finds it); ids full of digits match as substrings only, so one Steam id does not
 * find every account.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const found = async (user: TestUser, path: string) =>
  ((await call(user, 'GET', path)).json() as { items: Array<{ username?: string; name?: string }> })
    .items;

describe('q', () => {
  const word = randomName('x').replace(/[^a-z0-9]/g, '');
  const steam = (n: number) => String(76561198000000000n + BigInt(n));

  beforeAll(async () => {
    for (let i = 1; i <= 12; i++) {
      const res = await call(alice, 'POST', '/accounts', {
        username: i === 1 ? `shadowfalcon${word}` : `player${i}${word}`,
        email: `box${i}@${word}.test`,
        external_id: steam(1000 + i),
      });
      expect(res.statusCode).toBe(201);
    }
    expect(
      (await call(bob, 'POST', '/accounts', { username: `shadowfalcon${word}` })).statusCode,
    ).toBe(201);
  });

  it('forgives a typo in the username', async () => {
    const items = await found(alice, `/accounts?q=shadowfalkon${word}`);
    expect(items.map((a) => a.username)).toEqual([`shadowfalcon${word}`]);
  });

  it('finds a substring of the e-mail and of the external id, and nothing else', async () => {
    expect((await found(alice, `/accounts?q=box7@${word}`)).map((a) => a.username)).toEqual([
      `player7${word}`,
    ]);
    // A whole Steam id: its neighbours share all but a digit or two, yet only it matches.
    expect((await found(alice, `/accounts?q=${steam(1005)}`)).map((a) => a.username)).toEqual([
      `player5${word}`,
    ]);
    expect(await found(alice, `/accounts?q=${steam(999_999)}`)).toEqual([]);
  });

  it('counts every match, whether the first page holds them all or not', async () => {
    const page = async (query: string) =>
      (await call(alice, 'GET', `/accounts?q=${word}${query}`)).json() as {
        items: unknown[];
        total: number;
        next_cursor: string | null;
      };
    const all = await page('');
    expect({ items: all.items.length, total: all.total, more: all.next_cursor }).toEqual({
      items: 12,
      total: 12,
      more: null,
    });
    // Past a first page that holds every match, total is counted when asked (count=true).
    const first = await page('&limit=5&count=true');
    expect({ items: first.items.length, total: first.total }).toEqual({ items: 5, total: 12 });
    const second = await page(
      `&limit=5&count=true&cursor=${encodeURIComponent(first.next_cursor ?? '')}`,
    );
    expect({ items: second.items.length, total: second.total }).toEqual({ items: 5, total: 12 });
    const last = await page('&limit=12');
    expect({ items: last.items.length, total: last.total }).toEqual({ items: 12, total: 12 });
  });

  it('searches the VM name fuzzily and the description by substring, only among your own', async () => {
    const vm = await call(alice, 'POST', '/vms', {
      name: `render-node-${word}`,
      description: `GPU box in rack ${word}-r7`,
    });
    expect(vm.statusCode).toBe(201);
    expect((await found(alice, `/vms?q=rendr-node-${word}`)).map((v) => v.name)).toEqual([
      `render-node-${word}`,
    ]);
    expect((await found(alice, `/vms?q=${word}-r7`)).map((v) => v.name)).toEqual([
      `render-node-${word}`,
    ]);
    expect(await found(bob, `/vms?q=render-node-${word}`)).toEqual([]);
  });
});
