import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFieldName } from '../src/http/field-names.js';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { SHARED } from './helpers/ma-files.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Issue 13: a record read in one of the earlier AccountDB's formats (Xenogy/SLLAB, as
 * ../shared/LEGACY.md states them: the upload object and its dotted-header CSV, the accounts,
 * cards and hardware tables) or from a Steam Guard file is refused by AccountDB's own checks
 * under the name the user's file gives the field, with its row, never with the value.
 * Facts used: the upload's `user.username`, `user.password`, `email.address`,
 * `steamguard.shared_secret` and `id`; the table's `acc_username`, `acc_password`,
 * `acc_email_address`, `acc_shared_secret`, `acc_id`; the hardware table's `id`, `acc_id`,
 * `mac_address`; the cards table's `code1`/`code2`; a .maFile's `account_name` and
 * `shared_secret` (a 20-byte key: SDA's SteamGuardAccount.cs).
 */

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => t?.close());

/** A secret the answers must never hold: over AccountDB's 4096-character limit. */
const LONG_SECRET = `S3cret-${'x'.repeat(4100)}`;
/** 16 bytes in base64: a secret, but not a 20-byte Steam key. */
const SHORT_KEY = 'q83vEjRWeJCrze8SNFZ4kA==';
const steamId = () => `7656119${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;

type RowError = { row: number; message: string };

async function importAccounts(user: TestUser, text: string, type: string) {
  const res = await call(user, 'POST', '/accounts/import', text, { 'content-type': type });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.body).not.toContain('S3cret-');
  expect(res.body).not.toContain(SHORT_KEY);
  return res.json() as { format: string; created: number; failed: number; errors: RowError[] };
}

const csvLine = (cells: string[]) => `${cells.join(',')}\r\n`;

describe('fileFieldName', () => {
  it('names a path by its exact entry, then by the nearest entry above it', () => {
    const names = { username: 'user.username', 'steam_guard/*': 'steamguard.', 'tags/*': 'x' };
    expect(fileFieldName('username', names)).toBe('user.username');
    expect(fileFieldName('steam_guard/Session/SteamID', names)).toBe('steamguard.Session.SteamID');
    expect(fileFieldName('tags/3', names)).toBe('x');
    expect(fileFieldName('email', names)).toBe('email');
    expect(fileFieldName('email', undefined)).toBe('email');
  });
});

describe('accounts in the earlier formats', () => {
  it('the dotted-header upload CSV: user.username, user.password, steamguard.shared_secret, id', async () => {
    const user = await createUser(t.app, admin);
    const first = steamId();
    const csv =
      csvLine([
        'id',
        'user.username',
        'user.password',
        'metadata.createdAt',
        'steamguard.shared_secret',
      ]) +
      csvLine([first, randomName('ok'), 'pw', '1620000000', SHARED]) +
      csvLine([steamId(), '', 'pw', '1620000000', '']) +
      csvLine([steamId(), randomName('long'), LONG_SECRET, '', '']) +
      csvLine([steamId(), randomName('key'), 'pw', '', SHORT_KEY]) +
      csvLine([steamId(), randomName('time'), 'pw', 'yesterday', '']) +
      csvLine([first, randomName('twice'), 'pw', '', '']);
    const answer = await importAccounts(user, csv, 'text/csv');
    expect(answer).toMatchObject({ format: 'legacy-csv', created: 1, failed: 5 });
    expect(answer.errors).toEqual([
      { row: 3, message: 'user.username is required' },
      { row: 4, message: 'user.password must NOT have more than 4096 characters' },
      { row: 5, message: expect.stringMatching(/^steamguard\.shared_secret \S/) },
      { row: 6, message: 'metadata.createdAt must be a whole number' },
      { row: 7, message: `id ${first} was already in row 2` },
    ]);
  });

  it('the upload JSON: the same names, email.address too', async () => {
    const user = await createUser(t.app, admin);
    const base = { id: steamId(), user: { username: randomName('ok'), password: 'pw' } };
    const text = JSON.stringify([
      base,
      { id: steamId(), user: { password: 'pw' } },
      {
        id: steamId(),
        user: { username: randomName('m') },
        email: { address: `${'e'.repeat(260)}@x.y` },
      },
      {
        id: steamId(),
        user: { username: randomName('k') },
        steamguard: { shared_secret: SHORT_KEY },
      },
      { id: steamId(), user: { username: randomName('p'), password: LONG_SECRET } },
    ]);
    const answer = await importAccounts(user, text, 'application/json');
    expect(answer).toMatchObject({ format: 'legacy-json', created: 1, failed: 4 });
    expect(answer.errors).toEqual([
      { row: 2, message: 'user.username is required' },
      { row: 3, message: 'email.address must NOT have more than 254 characters' },
      { row: 4, message: expect.stringMatching(/^steamguard\.shared_secret \S/) },
      { row: 5, message: 'user.password must NOT have more than 4096 characters' },
    ]);
  });

  it('a dump of the accounts table: acc_ columns, by line', async () => {
    const user = await createUser(t.app, admin);
    const header = [
      'id',
      'acc_id',
      'acc_username',
      'acc_password',
      'acc_shared_secret',
      'acc_created_at',
      'prime',
    ];
    const csv =
      csvLine(header) +
      csvLine(['1', steamId(), randomName('ok'), 'pw', SHARED, '1620000000', 't']) +
      csvLine(['2', steamId(), '', 'pw', '', '', 'f']) +
      csvLine(['3', steamId(), randomName('k'), 'pw', SHORT_KEY, '', 'f']) +
      csvLine(['4', steamId(), randomName('p'), LONG_SECRET, '', '', 'f']) +
      csvLine(['5', steamId(), randomName('c'), 'pw', '', '99999999999999', 'f']) +
      csvLine(['6', 'STEAM_0:1:1', randomName('i'), 'pw', '', '', 'f']);
    const answer = await importAccounts(user, csv, 'text/csv');
    expect(answer).toMatchObject({ format: 'legacy-table-csv', created: 1, failed: 5 });
    expect(answer.errors).toEqual([
      { row: 3, message: 'acc_username is required' },
      { row: 4, message: expect.stringMatching(/^acc_shared_secret \S/) },
      { row: 5, message: 'acc_password must NOT have more than 4096 characters' },
      { row: 6, message: 'acc_created_at must be Unix seconds between 1970 and now' },
      { row: 7, message: 'acc_id must be a string of digits' },
    ]);
  });

  it('rows of the accounts table as JSON: acc_email_address, acc_id twice', async () => {
    const user = await createUser(t.app, admin);
    const id = steamId();
    const text = JSON.stringify([
      { acc_id: id, acc_username: randomName('ok') },
      {
        acc_id: steamId(),
        acc_username: randomName('m'),
        acc_email_address: `${'e'.repeat(260)}@x.y`,
      },
      { acc_id: id, acc_username: randomName('twice') },
    ]);
    const answer = await importAccounts(user, text, 'application/json');
    expect(answer).toMatchObject({ format: 'legacy-table-json', created: 1, failed: 2 });
    expect(answer.errors).toEqual([
      { row: 2, message: 'acc_email_address must NOT have more than 254 characters' },
      { row: 3, message: `acc_id ${id} was already in row 1` },
    ]);
  });

  it("AccountDB's own CSV keeps AccountDB's names", async () => {
    const user = await createUser(t.app, admin);
    const answer = await importAccounts(user, 'username,password\r\n,pw\r\n', 'text/csv');
    expect(answer.errors).toEqual([{ row: 2, message: 'username is required' }]);
  });
});

describe('Steam Guard files', () => {
  const maFile = (o: { name: string; shared: string }) =>
    JSON.stringify({
      account_name: o.name,
      shared_secret: o.shared,
      serial_number: '12345678901234567890',
      Session: { SteamID: steamId() },
    });

  it('names the file and its key: account_name, shared_secret', async () => {
    const user = await createUser(t.app, admin);
    const files = [
      { name: 'maFiles/ok.maFile', content: maFile({ name: randomName('ok'), shared: SHARED }) },
      { name: 'maFiles/empty.maFile', content: maFile({ name: '', shared: SHARED }) },
      {
        name: 'maFiles/short.maFile',
        content: maFile({ name: randomName('k'), shared: SHORT_KEY }),
      },
    ];
    const dry = await call(user, 'POST', '/accounts/import/mafiles?dry_run=true', { files });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.body).not.toContain(SHORT_KEY);
    expect(dry.json().errors).toEqual([
      {
        row: 2,
        file: 'maFiles/empty.maFile',
        message: 'account_name must NOT have fewer than 1 characters',
      },
      { row: 3, file: 'maFiles/short.maFile', message: expect.stringMatching(/^shared_secret \S/) },
    ]);
    const real = await call(user, 'POST', '/accounts/import/mafiles', { files });
    expect(real.statusCode, real.body).toBe(422);
    expect(real.json().errors[0]).toEqual({
      path: '/body/files/1',
      message: 'maFiles/empty.maFile: account_name must NOT have fewer than 1 characters',
    });
  });
});

describe('hardware and cards in the earlier formats', () => {
  it('hardware rows: id twice, mac_address, a missing acc_id link', async () => {
    const user = await createUser(t.app, admin);
    const accId = steamId();
    const made = await call(user, 'POST', '/accounts', {
      username: randomName('a'),
      external_id: accId,
    });
    expect(made.statusCode, made.body).toBe(201);
    const missing = steamId();
    const rows = [
      { id: 7, acc_id: accId, pcname: 'PC-1' },
      { id: 8, acc_id: accId, mac_address: 'ZZ:ZZ:ZZ:ZZ:ZZ:ZZ' },
      { id: 7, acc_id: accId, pcname: 'PC-again' },
      { id: 9, acc_id: missing },
      { id: 10, acc_id: accId, pcname: 'P'.repeat(201) },
    ];
    const res = await call(user, 'POST', '/hardware/import', JSON.stringify(rows), {
      'content-type': 'application/json',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ created: 1, failed: 4 });
    expect(res.json().errors).toEqual([
      { row: 2, message: 'mac_address is not a MAC address (like AA:BB:CC:DD:EE:FF)' },
      { row: 3, message: 'id 7 was already in row 1' },
      {
        row: 4,
        message: `acc_id ${missing}: none of your accounts has this external_id (SteamID64)`,
      },
      { row: 5, message: 'pcname must NOT have more than 200 characters' },
    ]);
  });

  it('cards: the column or position of a code that is too long', async () => {
    const user = await createUser(t.app, admin);
    const long = 'C'.repeat(501);
    const dump =
      'id,code1,code2,redeemed,failed,lock,perm_lock,owner_id\n' +
      `1,${randomName('CODE')},${long},f,,f,f,1\n` +
      `2,${long},,f,,f,f,1\n`;
    const table = await call(user, 'POST', '/cards/import', dump, { 'content-type': 'text/csv' });
    expect(table.statusCode, table.body).toBe(200);
    expect(table.json().errors).toEqual([
      { row: 2, message: 'code2 is longer than 500 characters' },
      { row: 3, message: 'code1 is longer than 500 characters' },
    ]);
    const lists = await call(
      user,
      'POST',
      '/cards/import',
      JSON.stringify([[randomName('C'), long]]),
      {
        'content-type': 'application/json',
      },
    );
    expect(lists.statusCode, lists.body).toBe(200);
    expect(lists.json().errors).toEqual([
      { row: 1, message: 'code 2 is longer than 500 characters' },
    ]);
  });
});
