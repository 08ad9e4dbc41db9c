import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCliSession } from '../src/cli/cli-session.js';
import { importResource } from '../src/cli/import-resource.js';
import { randomName, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * `accountdb import cards|hardware` with the earlier AccountDB's files (formats as in
 * cards-legacy.test.ts and hardware-import.test.ts, from Xenogy/SLLAB's table definitions):
 * in batches, rows named by their place in the file, through the API as the named user.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

async function importFile(
  login: string,
  options: Omit<Parameters<typeof importResource>[0], 'session'>,
) {
  const s = await openCliSession({ config: t.config, database: t.database, login });
  try {
    return await importResource({ ...options, session: s });
  } finally {
    await s.close();
  }
}

const code = () => `${randomName('k').toUpperCase().replace(/_/g, '-')}-CLI`;

describe('accountdb import cards|hardware, earlier formats', () => {
  it('cards: the list of lists in batches, a bad element named by its place in the file', async () => {
    const codes = Array.from({ length: 5 }, code);
    const file = JSON.stringify([
      [codes[0]],
      [codes[1], 'PIN'],
      ['a', 'b', 'c'],
      [codes[3]],
      [codes[4]],
    ]);
    const outcome = await importFile(alice.username, {
      resource: 'cards',
      format: 'json',
      text: file,
      batchSize: 2,
    });
    expect(outcome).toMatchObject({ created: 4, failed: 1 });
    expect(outcome.errors).toEqual([{ row: 3, message: expect.stringMatching(/has 3 codes/) }]);
    expect((await call(bob, 'POST', '/cards/lookup', { code: codes[0] })).json().total).toBe(0);
  });

  it('cards: a table dump as CSV keeps its header in every batch; one-a-line CSV still works', async () => {
    const [a, b, c] = [code(), code(), code()];
    const dump = `id,code1,code2,redeemed,failed,lock,perm_lock,owner_id\n1,${a},,t,"",f,f,1\n2,${b},,f,Expired,f,f,1\n3,${c},,f,"",t,f,1\n`;
    const outcome = await importFile(alice.username, {
      resource: 'cards',
      format: 'csv',
      text: dump,
      batchSize: 1,
    });
    expect(outcome).toMatchObject({ created: 3, failed: 0 });
    const status = async (x: string) =>
      (await call(alice, 'POST', '/cards/lookup', { code: x })).json().items[0].status;
    expect([await status(a), await status(b), await status(c)]).toEqual([
      'redeemed',
      'failed',
      'disabled',
    ]);
    const plain = await importFile(alice.username, {
      resource: 'cards',
      format: 'csv',
      text: `${code()}\n${code()},PIN\n`,
      batchSize: 1,
    });
    expect(plain).toMatchObject({ created: 2, failed: 0 });
  });

  it('hardware: earlier rows linked by acc_id, twice without duplicates, CSV and JSON', async () => {
    const steam = '76561198012345678';
    await call(bob, 'POST', '/accounts', { username: randomName('h'), external_id: steam });
    const rows = [
      { id: 1, acc_id: steam, pcname: 'PC-1', mac_address: 'BC:24:11:00:00:01', vmid: null },
      { id: 2, acc_id: steam, pcname: 'PC-2', mac_address: null, vmid: null },
      { id: 3, acc_id: '76561190000000001', pcname: 'PC-3', mac_address: null, vmid: null },
    ];
    const first = await importFile(bob.username, {
      resource: 'hardware',
      format: 'json',
      text: JSON.stringify(rows),
      batchSize: 2,
    });
    expect(first).toMatchObject({ created: 2, failed: 1 });
    expect(first.errors).toEqual([
      { row: 3, message: expect.stringMatching(/^acc_id 76561190000000001/) },
    ]);
    const csv = `id,acc_id,pcname,mac_address,vmid\n1,${steam},PC-1,BC:24:11:00:00:01,\n2,${steam},PC-2b,,\n`;
    const second = await importFile(bob.username, {
      resource: 'hardware',
      format: 'csv',
      text: csv,
      batchSize: 1,
    });
    expect(second).toMatchObject({ created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect((await call(bob, 'GET', '/hardware')).json().total).toBe(2);
    expect((await call(alice, 'GET', '/hardware')).json().total).toBe(0);
  });
});
