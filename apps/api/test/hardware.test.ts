import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
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

describe('hardware', () => {
  it('normalises MACs and UUIDs and answers with ETag and Location', async () => {
    const res = await call(alice, 'POST', '/hardware', {
      pcname: randomName('pc'),
      mac_address: 'bc-24-11-5e-0a-01',
      smbios_uuid: '{4C4C4544-0042-3510-8052-B4C04F4E4D32}',
      tags: ['eu', ' EU ', 'prime'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const hw = res.json();
    expect(hw.mac_address).toBe('BC:24:11:5E:0A:01');
    expect(hw.smbios_uuid).toBe('4c4c4544-0042-3510-8052-b4c04f4e4d32');
    expect(hw.tags).toEqual(['eu', 'prime']);
    expect(hw.owner_id).toBe(alice.id);
    expect(res.headers.etag).toMatch(/^"\d+"$/);
    expect(res.headers.location).toBe(`/api/v1/hardware/${hw.id}`);
  });

  it('refuses a bad MAC with a 400 naming the field and writes nothing', async () => {
    const before = (await call(alice, 'GET', '/hardware')).json().total;
    const res = await call(alice, 'POST', '/hardware', { mac_address: 'zz:zz:zz:zz:zz:zz' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/body/mac_address');
    expect((await call(alice, 'GET', '/hardware')).json().total).toBe(before);
  });

  it('finds by MAC in any spelling and by any UUID field', async () => {
    const guid = '11111111-2222-4333-8444-555555555555';
    const created = (
      await call(alice, 'POST', '/hardware', { mac_address: 'AABBCCDDEEFF', machine_guid: guid })
    ).json();
    const byMac = (await call(alice, 'GET', '/hardware?mac_address=aa:bb:cc:dd:ee:ff')).json();
    expect(byMac.items.map((h: { id: string }) => h.id)).toEqual([created.id]);
    const byUuid = (await call(alice, 'GET', `/hardware?uuid=${guid.toUpperCase()}`)).json();
    expect(byUuid.items.map((h: { id: string }) => h.id)).toEqual([created.id]);
  });

  it('pages with a keyset cursor that returns every row once', async () => {
    const owner = await createUser(t.app, admin);
    for (let i = 0; i < 7; i++) await call(owner, 'POST', '/hardware', { pcname: `pc-${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        owner,
        'GET',
        `/hardware?limit=3&sort=-pcname&count=true${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.total).toBe(7);
      seen.push(...page.items.map((h: { pcname: string }) => h.pcname));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['pc-6', 'pc-5', 'pc-4', 'pc-3', 'pc-2', 'pc-1', 'pc-0']);
  });

  it('refuses an unknown sort field and a cursor of another order', async () => {
    expect((await call(alice, 'GET', '/hardware?sort=password')).json().code).toBe('invalid_sort');
    const page = (await call(alice, 'GET', '/hardware?limit=1&sort=pcname')).json();
    const res = await call(
      alice,
      'GET',
      `/hardware?limit=1&sort=-pcname&cursor=${page.next_cursor}`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_cursor');
  });

  it('updates with If-Match and answers 412 on a stale ETag, changing nothing', async () => {
    const created = await call(alice, 'POST', '/hardware', { pcname: 'before' });
    const id = created.json().id;
    const etag = created.headers.etag as string;
    const ok = await call(
      alice,
      'PATCH',
      `/hardware/${id}`,
      { pcname: 'after' },
      { 'if-match': etag },
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers.etag).not.toBe(etag);
    const stale = await call(
      alice,
      'PATCH',
      `/hardware/${id}`,
      { pcname: 'lost' },
      { 'if-match': etag },
    );
    expect(stale.statusCode).toBe(412);
    expect((await call(alice, 'GET', `/hardware/${id}`)).json().pcname).toBe('after');
  });

  it("keeps users apart: another user's record is 404 everywhere and unchanged", async () => {
    const mine = (
      await call(alice, 'POST', '/hardware', {
        pcname: 'alice-only',
        mac_address: '02:00:00:00:00:01',
      })
    ).json();
    expect((await call(bob, 'GET', `/hardware/${mine.id}`)).statusCode).toBe(404);
    expect((await call(bob, 'PATCH', `/hardware/${mine.id}`, { pcname: 'x' })).statusCode).toBe(
      404,
    );
    expect((await call(bob, 'DELETE', `/hardware/${mine.id}`)).statusCode).toBe(404);
    const del = (await call(bob, 'POST', '/hardware/bulk-delete', { ids: [mine.id] })).json();
    expect(del).toEqual({ deleted: 0, not_found: [mine.id] });
    expect((await call(bob, 'GET', '/hardware?mac_address=02:00:00:00:00:01')).json().total).toBe(
      0,
    );
    expect((await call(bob, 'GET', '/hardware?q=alice-only')).json().total).toBe(0);
    expect((await call(alice, 'GET', `/hardware/${mine.id}`)).json().pcname).toBe('alice-only');
    // An admin sees both users' records and may filter by owner.
    const adminView = (
      await call(admin, 'GET', `/hardware?owner_id=${alice.id}&q=alice-only`)
    ).json();
    expect(adminView.items.map((h: { id: string }) => h.id)).toContain(mine.id);
    // A non-admin may not filter by owner.
    expect((await call(bob, 'GET', `/hardware?owner_id=${alice.id}`)).statusCode).toBe(403);
  });

  it("refuses a link to another user's VM or account as a missing reference", async () => {
    const res = await call(bob, 'POST', '/hardware', {
      account_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0].path).toBe('/body/account_id');
  });

  it('bulk-creates in one transaction: one bad row writes nothing unless partial', async () => {
    const owner = await createUser(t.app, admin);
    const items = [
      { pcname: 'b1' },
      { pcname: 'b2', mac_address: 'nope' },
      { pcname: 'b3', extra: 1 },
    ];
    const strict = await call(owner, 'POST', '/hardware/bulk', { items });
    expect(strict.statusCode).toBe(422);
    expect(strict.json().code).toBe('bulk_failed');
    expect(strict.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/body/items/1/mac_address',
      '/body/items/2/extra',
    ]);
    expect((await call(owner, 'GET', '/hardware')).json().total).toBe(0);
    const partial = await call(owner, 'POST', '/hardware/bulk?partial=true', { items });
    expect(partial.statusCode, partial.body).toBe(200);
    expect(partial.json()).toMatchObject({ created: 1, failed: 2 });
    expect((await call(owner, 'GET', '/hardware')).json().total).toBe(1);
  });

  it("exports CSV and JSON of what the filters select, never another user's rows", async () => {
    const owner = await createUser(t.app, admin);
    await call(owner, 'POST', '/hardware/bulk', {
      items: [{ pcname: '=cmd', tags: ['x'] }, { pcname: 'two' }],
    });
    const csv = await call(owner, 'GET', '/hardware/export?format=csv&sort=pcname');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain("'=cmd");
    const json = await call(owner, 'GET', '/hardware/export?format=json&tag=x');
    expect(JSON.parse(json.body).map((h: { pcname: string }) => h.pcname)).toEqual(['=cmd']);
  });

  it('reports identifiers shared by several records', async () => {
    const owner = await createUser(t.app, admin);
    await call(owner, 'POST', '/hardware/bulk', {
      items: [
        { mac_address: '02:00:00:00:00:AA' },
        { mac_address: '02-00-00-00-00-aa' },
        { mac_address: '02:00:00:00:00:BB' },
      ],
    });
    const res = await call(owner, 'GET', '/hardware/collisions');
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ field: 'mac_address', value: '02:00:00:00:00:AA', count: 2 });
  });
});

describe('hardware: bulk limits', () => {
  it('takes 10,000 rows in one request and refuses 10,001', async () => {
    const owner = await createUser(t.app, admin);
    const items = Array.from({ length: 10_000 }, (_, i) => ({ pcname: `bulk-${i}` }));
    const ok = await call(owner, 'POST', '/hardware/bulk', { items });
    expect(ok.statusCode, ok.body.slice(0, 300)).toBe(200);
    expect(ok.json()).toMatchObject({ created: 10_000, failed: 0 });
    expect((await call(owner, 'GET', '/hardware?limit=1&count=true')).json().total).toBe(10_000);
    const tooMany = await call(owner, 'POST', '/hardware/bulk', {
      items: [...items, { pcname: 'one more' }],
    });
    expect(tooMany.statusCode).toBe(400);
    expect((await call(owner, 'GET', '/hardware?limit=1&count=true')).json().total).toBe(10_000);
  }, 120_000);
});
