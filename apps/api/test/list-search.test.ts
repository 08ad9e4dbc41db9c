import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomName, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * `q` on lists: a substring of any text field, or a word similar to the name field (a typo
 * still finds it); ids full of digits match as substrings only, so one Steam id does not
 * find every account. Without a sort, the best matches come first (migration 0015): the
 * name equal to q, then names starting with it, then any field containing it, then similar
 * names.
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
    // With another filter too, the total is counted over both (when asked: the search's own
    // count only stands for the total when q is the only filter).
    expect((await page('&limit=5&service=steam')).total).toBeNull();
    const filtered = await page('&limit=5&service=steam&count=true');
    expect({ items: filtered.items.length, total: filtered.total }).toEqual({
      items: 5,
      total: 12,
    });
    expect((await page('&limit=5&service=epic')).total).toBe(0);
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

type Page = {
  items: Array<{ id: string; username: string }>;
  next_cursor: string | null;
  total: number;
};

const page = async (user: TestUser, path: string): Promise<Page> => {
  const res = await call(user, 'GET', path);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};
const names = async (user: TestUser, path: string) =>
  (await page(user, path)).items.map((a) => a.username);

describe('ranking', () => {
  // Bob's own accounts, apart from Alice's above (each test file has its own database).
  const w = randomName('r').replace(/[^a-z0-9]/g, '');
  const typo = `${w.slice(0, 5)}q${w.slice(6)}`;

  beforeAll(async () => {
    const usernames = [
      `zz${w}zz`, // substring
      `${typo}`, // similar only
      `${w}zzzz`, // prefix, longer
      `legacy_Pl41nabc${w}`,
      `u_Pl41nabc${w}`,
      `${w}`, // exact
      `${w}z`, // prefix, shorter
      'player77',
      'gamer12',
      '50%off',
      '50xoff',
      'a_b_c',
      'axbxc',
    ];
    for (const username of usernames) {
      const res = await call(bob, 'POST', '/accounts', { username });
      expect(res.statusCode, res.body).toBe(201);
    }
    const mail = await call(bob, 'POST', '/accounts', {
      username: 'mailonly',
      email: `box@${w}.test`,
    });
    expect(mail.statusCode, mail.body).toBe(201);
  });

  it('lists the exact name first and a similar one after it (issue 15)', async () => {
    expect(await names(bob, `/accounts?q=legacy_Pl41nabc${w}`)).toEqual([
      `legacy_Pl41nabc${w}`,
      `u_Pl41nabc${w}`,
    ]);
  });

  it('ranks exact > prefix > substring > similar, closer matches first within each', async () => {
    const found = await names(bob, `/accounts?q=${w}`);
    expect(found.slice(0, 3)).toEqual([w, `${w}z`, `${w}zzzz`]);
    // Then every name or e-mail containing it (the closer, the earlier), then the typo.
    expect(found.slice(3, -1).sort()).toEqual(
      [`zz${w}zz`, `legacy_Pl41nabc${w}`, `u_Pl41nabc${w}`, 'mailonly'].sort(),
    );
    expect(found.at(-1)).toBe(typo);
    expect(found.indexOf(`zz${w}zz`)).toBeLessThan(found.indexOf(`legacy_Pl41nabc${w}`));
  });

  it('forgives a missing letter: playr77 finds player77 (issue 15)', async () => {
    expect((await names(bob, '/accounts?q=playr77'))[0]).toBe('player77');
  });

  it('pages through a ranked result, every match once, in rank order', async () => {
    const all = await page(bob, `/accounts?q=${w}&limit=50`);
    expect(all.next_cursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/accounts?q=${w}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const p = await page(bob, query);
      expect(p.total).toBe(all.total);
      seen.push(...p.items.map((a) => a.username));
      cursor = p.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(all.items.map((a) => a.username));
    expect(new Set(seen).size).toBe(all.total);
  });

  it('exports the matches of q in the same ranked order', async () => {
    const listed = await names(bob, `/accounts?q=${w}`);
    const res = await call(bob, 'GET', `/accounts/export?format=json&q=${w}`);
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as Array<{ username: string }>).map((a) => a.username)).toEqual(listed);
  });

  it('keeps an explicit sort over the rank', async () => {
    const found = await names(bob, `/accounts?q=${w}&sort=-username`);
    expect(found).toEqual([...found].sort().reverse());
    expect(found).toHaveLength((await page(bob, `/accounts?q=${w}`)).total);
  });

  it('refuses a cursor of the ranked order for an explicit sort', async () => {
    const first = await page(bob, `/accounts?q=${w}&limit=2`);
    const res = await call(
      bob,
      'GET',
      `/accounts?q=${w}&limit=2&sort=username&cursor=${encodeURIComponent(first.next_cursor ?? '')}`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_cursor');
  });

  it('matches a term of one or two characters at the start of the name only', async () => {
    expect((await names(bob, '/accounts?q=pl')).sort()).toEqual(['player77']);
    expect(await names(bob, '/accounts?q=5')).toEqual(expect.arrayContaining(['50%off', '50xoff']));
    expect(await names(bob, '/accounts?q=ff')).toEqual([]);
  });

  it("takes LIKE's wildcards and backslashes literally", async () => {
    expect(await names(bob, `/accounts?q=${encodeURIComponent('50%off')}`)).toEqual(['50%off']);
    expect(await names(bob, '/accounts?q=a_b')).toEqual(['a_b_c']);
    expect(await names(bob, `/accounts?q=${encodeURIComponent('%')}`)).toEqual([]);
    expect(await names(bob, `/accounts?q=${encodeURIComponent('\\')}`)).toEqual([]);
  });

  it('answers 400, never 500, to a term too long or holding a NUL', async () => {
    const long = await call(bob, 'GET', `/accounts?q=${'x'.repeat(201)}`);
    expect(long.statusCode).toBe(400);
    const nul = await call(bob, 'GET', `/accounts?q=${encodeURIComponent('ab\u0000cd')}`);
    expect(nul.statusCode).toBe(400);
    const control = await call(bob, 'GET', `/accounts?q=${encodeURIComponent('\u0001\u001b[2J')}`);
    expect(control.statusCode).toBe(200);
    expect((control.json() as Page).items).toEqual([]);
  });
});
