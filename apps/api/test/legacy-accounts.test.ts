import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { text as streamText } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCliSession } from '../src/cli/cli-session.js';
import { exportResource } from '../src/cli/export-resource.js';
import { importResource } from '../src/cli/import-resource.js';
import { detectInputFormat } from '../src/cli/split-input.js';
import { parseCsv } from '../src/http/resource/csv.js';
import { legacyAccountRowBody } from '../src/modules/accounts/legacy-account.js';
import { createUser, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * The earlier AccountDB's account formats (Xenogy/SLLAB, read with the fetch tool). Facts
 * the fixtures in fixtures/legacy-accounts/ are built from (values are our own):
 * - backend/routers/upload.py: the upload CSV's dotted columns (ten required, then
 *   steamguard.deviceId … steamguard.confirm_type), metadata.createdAt/sessionStart read as
 *   int, steamguard status/confirm_type as int;
 * - backend/routers/accounts.py: the upload model (id str, createdAt/sessionStart int,
 *   metadata.tags list, guard str; steamguard serial_number and server_time str, status and
 *   confirm_type int); backend/validation.py: the records' prime/lock/perm_lock booleans;
 * - frontend/nextjs/public/sample_accounts_template.csv: the web UI's template, the ten first
 *   columns;
 * - inits/01-accounts_table.sql (+ 04-user_ownership.sql): the accounts table's columns and
 *   their order, owner_id last.
 */

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'legacy-accounts');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

let t: TestApp;
let admin: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, call } = await twoUsers());
});
afterAll(async () => {
  await t?.close();
});

type Obj = Record<string, unknown>;

async function importAs(user: TestUser, text: string, type: string, query = '') {
  const res = await call(user, 'POST', `/accounts/import${query}`, text, { 'content-type': type });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every account of a user by external id, with its secrets and status history. */
async function accountsOf(user: TestUser) {
  const items = (await call(user, 'GET', '/accounts?limit=500')).json().items as Obj[];
  const out = new Map<string, { account: Obj; secrets: Obj; events: Obj[] }>();
  for (const account of items) {
    const secrets = (await call(user, 'GET', `/accounts/${account.id}/secrets`)).json();
    const events = (await call(user, 'GET', `/accounts/${account.id}/events`)).json().items;
    out.set(account.external_id as string, { account, secrets, events });
  }
  return out;
}

/** The entry of a map, which the test expects to be there. */
function the<V>(map: Map<string, V>, key: string): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`no account with external id ${key}`);
  return value;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** What an earlier upload object must become in AccountDB, field by field. */
function expectUploadRecord(got: { account: Obj; secrets: Obj }, r: Obj) {
  const user = r.user as Obj;
  const email = (r.email ?? {}) as Obj;
  const vault = r.vault as Obj;
  const meta = r.metadata as Obj;
  const guard = (r.steamguard ?? null) as Obj | null;
  const status = r.perm_lock ? 'disabled' : r.lock ? 'locked' : 'active';
  const tags = [
    ...((meta.tags as string[]) ?? []),
    ...(r.prime ? ['prime'] : []),
    ...(r.perm_lock && r.lock ? ['lock'] : []),
  ];
  expect(got.account).toMatchObject({
    external_id: String(r.id),
    service: 'steam',
    username: user.username,
    email: email.address ?? null,
    status,
    locked_until: null,
    tags,
    created_at: iso(meta.createdAt as number),
    attributes: {
      vault_address: vault.address,
      session_start: meta.sessionStart,
      guard: meta.guard,
    },
  });
  const { shared_secret, identity_secret, revocation_code, deviceId, ...rest } = guard ?? {};
  expect(got.secrets).toEqual({
    password: user.password,
    email_password: email.password ?? null,
    vault_password: vault.password,
    totp_secret: null,
    shared_secret: shared_secret ?? null,
    identity_secret: identity_secret ?? null,
    revocation_code: revocation_code ?? null,
    steam_guard: guard
      ? {
          ...rest,
          device_id: deviceId,
          // Typed as the shared decision says: server_time a number, serial_number text.
          ...(rest.server_time !== undefined ? { server_time: Number(rest.server_time) } : {}),
        }
      : null,
  });
}

describe('earlier upload JSON', () => {
  it('imports every field of every record, typed, with flags as status and tags', async () => {
    const user = await createUser(t.app, admin);
    const text = fixture('upload.json');
    const source = JSON.parse(text) as Obj[];
    const answer = await importAs(user, text, 'application/json');
    expect(answer).toMatchObject({ format: 'legacy-json', created: 3, failed: 0 });
    const got = await accountsOf(user);
    for (const r of source) expectUploadRecord(the(got, r.id as string), r);
    // The serial number beyond 2^64-1's neighbourhood keeps every digit.
    expect((the(got, '76561198000000001').secrets.steam_guard as Obj).serial_number).toBe(
      '18446744073709551615',
    );
    // The first status event says where a status came from, not that it changed now.
    expect(the(got, '76561198000000001').events).toEqual([
      expect.objectContaining({
        from_status: null,
        to_status: 'disabled',
        reason: 'perm_lock in the earlier AccountDB',
      }),
    ]);
  });

  it('takes the id and the serial as bare JSON numbers with every digit', async () => {
    const user = await createUser(t.app, admin);
    const text =
      '[{"id": 76561198000000099, "user": {"username": "bare", "password": "pw"}, ' +
      '"vault": {"address": "v@example.com", "password": "vp"}, ' +
      '"metadata": {"createdAt": "1620000000", "sessionStart": 1620000001, "guard": "email"}, ' +
      '"steamguard": {"serial_number": 98765432109876543210, "server_time": 1620000000, "status": "1"}}]';
    expect(await importAs(user, text, 'application/json')).toMatchObject({ created: 1 });
    const got = the(await accountsOf(user), '76561198000000099');
    expect(got.account).toMatchObject({
      created_at: iso(1620000000),
      attributes: { session_start: 1620000001 },
    });
    expect(got.secrets.steam_guard).toEqual({
      serial_number: '98765432109876543210',
      server_time: 1620000000,
      status: 1,
    });
  });

  it('names the record and the field of a bad value, and writes the good ones', async () => {
    const user = await createUser(t.app, admin);
    const good = JSON.parse(fixture('upload.json'))[2];
    const text = JSON.stringify([
      good,
      { ...good, id: '76561198000000777', metadata: { ...good.metadata, createdAt: 'yesterday' } },
      { ...good, id: '76561198000000778', prime: 'maybe' },
      { ...good, id: 'not-a-steam-id' },
      { ...good, id: '76561198000000779', steamguard: { status: 'on' } },
      { ...good, id: '76561198000000780', metadata: { ...good.metadata, createdAt: 4102444800 } },
    ]);
    const answer = await importAs(user, text, 'application/json');
    expect(answer).toMatchObject({ created: 1, failed: 5 });
    expect(answer.errors).toEqual([
      { row: 2, message: 'metadata.createdAt must be a whole number' },
      { row: 3, message: 'prime must be true or false' },
      { row: 4, message: 'id must be a string of digits' },
      { row: 5, message: 'steamguard.status must be a whole number' },
      { row: 6, message: 'metadata.createdAt must be Unix seconds between 1970 and now' },
    ]);
  });
});

describe('earlier upload JSON: what it cannot import is listed, not dropped', () => {
  it('reads email and vault given as plain address strings', async () => {
    const user = await createUser(t.app, admin);
    const text = JSON.stringify([
      {
        id: '76561198000000901',
        user: { username: 'plain-strings', password: 'pw' },
        email: 'plain@example.com',
        vault: 'vault@example.com',
      },
    ]);
    const answer = await importAs(user, text, 'application/json');
    expect(answer).toMatchObject({ created: 1, failed: 0, ignored_fields: [] });
    const got = the(await accountsOf(user), '76561198000000901');
    expect(got.account).toMatchObject({
      email: 'plain@example.com',
      attributes: { vault_address: 'vault@example.com' },
    });
  });

  it('lists every field it reads past, with how many records had it, in the dry run too', async () => {
    const user = await createUser(t.app, admin);
    const record = (id: string, extra: Obj) => ({
      id,
      user: { username: `u${id.slice(-3)}`, password: 'pw', nickname: 'nick' },
      email: { address: 'e@example.com', recovery: 'r@example.com' },
      metadata: { createdAt: 1620000000, note: 'kept nowhere' },
      // steamguard keeps unknown keys (in steam_guard): nothing to list there.
      steamguard: { shared_secret: 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=', weird: 1 },
      ...extra,
    });
    const text = JSON.stringify([
      record('76561198000000911', { farm: 'eu-1' }),
      record('76561198000000912', { farm: 'eu-2', banned: false }),
    ]);
    const dry = await importAs(user, text, 'application/json', '?dry_run=true');
    expect(dry).toMatchObject({ dry_run: true, created: 2, failed: 0 });
    expect(dry.ignored_fields).toEqual([
      { field: 'farm', records: 2 },
      { field: 'user.nickname', records: 2 },
      { field: 'email.recovery', records: 2 },
      { field: 'metadata.note', records: 2 },
      { field: 'banned', records: 1 },
    ]);
    expect(dry.ignored_fields_truncated).toBe(false);
    const real = await importAs(user, text, 'application/json');
    expect(real.ignored_fields).toEqual(dry.ignored_fields);
    expect(the(await accountsOf(user), '76561198000000911').secrets.steam_guard).toMatchObject({
      weird: '1',
    });
  });

  it('lists at most 50 names, each clipped, for records with thousands of unknown keys', async () => {
    const user = await createUser(t.app, admin);
    const keys = Object.fromEntries(
      Array.from({ length: 2_000 }, (_, i) => [`k${i}_${'x'.repeat(300)}`, i]),
    );
    const text = JSON.stringify([
      { id: '76561198000000921', user: { username: 'many-keys', password: 'pw' }, ...keys },
    ]);
    const answer = await importAs(user, text, 'application/json', '?dry_run=true');
    expect(answer).toMatchObject({ created: 1, ignored_fields_truncated: true });
    expect(answer.ignored_fields).toHaveLength(50);
    expect(answer.ignored_fields[0]).toEqual({ field: `k0_${'x'.repeat(97)}…`, records: 1 });
  });

  it('the CLI prints the fields it read past', async () => {
    const user = await createUser(t.app, admin);
    const cli = await openCliSession({
      config: t.config,
      database: t.database,
      login: user.username,
    });
    try {
      const text = JSON.stringify([
        { id: '76561198000000931', user: { username: 'cli-a', password: 'pw' }, farm: 'x' },
        { id: '76561198000000932', user: { username: 'cli-b', password: 'pw' }, farm: 'y' },
      ]);
      const outcome = await importResource({
        session: cli,
        resource: 'accounts',
        format: 'json',
        text,
        batchSize: 1,
        dryRun: true,
      });
      expect(outcome).toMatchObject({ created: 2, failed: 0 });
      // Summed over the batches (one record each).
      expect([...outcome.ignored]).toEqual([['farm', 2]]);
    } finally {
      await cli.close();
    }
  });
});

describe('earlier upload CSV', () => {
  it('imports its dotted-header CSV: every cell equals the source', async () => {
    const user = await createUser(t.app, admin);
    const answer = await importAs(user, fixture('upload.csv'), 'text/csv');
    expect(answer).toMatchObject({ format: 'legacy-csv', created: 3, failed: 0 });
    // The CSV holds the same records as upload.json (built from the same values).
    const got = await accountsOf(user);
    for (const r of JSON.parse(fixture('upload.json')) as Obj[]) {
      expectUploadRecord(the(got, r.id as string), r);
    }
  });

  it("imports the earlier web UI's ten-column template, quoted fields included", async () => {
    const user = await createUser(t.app, admin);
    // Sent as text/plain, as the web wizard does: told from the header.
    const answer = await importAs(user, fixture('template.csv'), 'text/plain');
    expect(answer).toMatchObject({ format: 'legacy-csv', created: 2, failed: 0 });
    const got = await accountsOf(user);
    const first = the(got, '76561199123450001');
    expect(first.account).toMatchObject({
      username: 'templateuser1',
      email: 't1@example.com',
      status: 'active',
      tags: [],
      created_at: iso(1620000000),
      attributes: { vault_address: 'v1@example.com', session_start: 1620000000, guard: 'email' },
    });
    expect(first.secrets).toMatchObject({
      password: 'pass,word "1"',
      email_password: 'emailpass1',
      vault_password: 'vaultpass1',
      steam_guard: null,
    });
    expect(the(got, '76561199123450002').account.email).toBeNull();
  });

  it('names line and column of bad cells; an unknown column is refused per row', async () => {
    const user = await createUser(t.app, admin);
    const csv =
      'id,user.username,user.password,vault.address,vault.password,metadata.createdAt,prime\r\n' +
      '76561198000000501,ok_user,pw,v@x.y,vp,1620000000,true\r\n' +
      '76561198000000502,bad_time,pw,v@x.y,vp,16200000000000,false\r\n' +
      '76561198000000503,bad_flag,pw,v@x.y,vp,1620000000,perhaps\r\n' +
      '76561198000000504,,pw,v@x.y,vp,1620000000,f\r\n';
    const answer = await importAs(user, csv, 'text/csv');
    expect(answer).toMatchObject({ format: 'legacy-csv', created: 1, failed: 3 });
    expect(answer.errors).toEqual([
      { row: 3, message: 'metadata.createdAt must be Unix seconds between 1970 and now' },
      { row: 4, message: 'prime must be true or false' },
      { row: 5, message: expect.stringContaining('username') },
    ]);
    const unknown = await importAs(user, 'id,user.username,user.shoe\r\n1,a,b\r\n', 'text/csv');
    expect(unknown.errors).toEqual([
      { row: 2, message: 'user.shoe is not a column of the earlier upload CSV' },
    ]);
    // ?format=legacy-table-csv insists on the table's header.
    const wrong = await call(user, 'POST', '/accounts/import?format=legacy-table-csv', csv, {
      'content-type': 'text/csv',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].path).toBe('/querystring/format');
  });
});

/** What a row of the earlier accounts table must become, field by field. */
function expectTableRow(got: { account: Obj; secrets: Obj }, row: Obj) {
  const status = row.perm_lock ? 'disabled' : row.lock ? 'locked' : 'active';
  expect(got.account).toMatchObject({
    external_id: row.acc_id,
    username: row.acc_username,
    email: row.acc_email_address ?? null,
    status,
    tags: [...(row.prime ? ['prime'] : []), ...(row.perm_lock && row.lock ? ['lock'] : [])],
    created_at: iso(Number(row.acc_created_at)),
  });
  expect(got.account.attributes).toEqual({
    legacy_id: Number(row.id),
    vault_address: row.acc_vault_address,
    session_start: Number(row.acc_session_start),
    ...(row.farmlabs_upload ? { farmlabs_upload: row.farmlabs_upload } : {}),
  });
  expect(got.secrets).toEqual({
    password: row.acc_password,
    // '' and NULL both mean none.
    email_password: row.acc_email_password || null,
    vault_password: row.acc_vault_password,
    totp_secret: null,
    shared_secret: row.acc_shared_secret,
    identity_secret: row.acc_identity_secret,
    revocation_code: row.acc_revocation_code,
    steam_guard: {
      account_name: row.acc_steamguard_account_name,
      confirm_type: Number(row.acc_confirm_type),
      device_id: row.acc_device_id,
      secret_1: row.acc_secret_1,
      serial_number: String(row.acc_serial_number),
      server_time: Number(row.acc_server_time),
      status: Number(row.acc_status),
      token_gid: row.acc_token_gid,
      uri: row.acc_uri,
    },
  });
}

describe('dump of the earlier accounts table', () => {
  const rows = JSON.parse(fixture('accounts-table.json')) as Obj[];

  it('imports its psql CSV dump (t/f, NULL empty): every column equals the source', async () => {
    const user = await createUser(t.app, admin);
    const answer = await importAs(user, fixture('accounts-table.csv'), 'text/csv');
    expect(answer).toMatchObject({ format: 'legacy-table-csv', created: 3, failed: 0 });
    const got = await accountsOf(user);
    for (const row of rows) expectTableRow(the(got, row.acc_id as string), row);
    // Its owner_id is not read: the importer owns them.
    expect([...got.values()].every((g) => g.account.owner_id === user.id)).toBe(true);
  });

  it('imports its JSON export (booleans, numbers) the same way', async () => {
    const user = await createUser(t.app, admin);
    const answer = await importAs(user, fixture('accounts-table.json'), 'application/json');
    expect(answer).toMatchObject({ format: 'legacy-table-json', created: 3, failed: 0 });
    const got = await accountsOf(user);
    for (const row of rows) expectTableRow(the(got, row.acc_id as string), row);
  });

  it('legacyAccountRowBody takes node-postgres rows (bigint as text)', () => {
    const row = rows[0] as Obj;
    const pgRow = {
      ...row,
      acc_created_at: String(row.acc_created_at),
      acc_session_start: String(row.acc_session_start),
      acc_server_time: String(row.acc_server_time),
      email_id: 3,
    };
    const body = legacyAccountRowBody(pgRow);
    expect(body).toMatchObject({
      external_id: '76561198000000011',
      created_at: iso(1620000000),
      status: 'disabled',
      status_reason: 'perm_lock in the earlier AccountDB',
      tags: ['prime'],
      attributes: { legacy_id: 17, session_start: 1620003600 },
      steam_guard: { server_time: 1620000000, serial_number: '18446744073709551615' },
    });
    expect(body).not.toHaveProperty('owner_id');
    expect(() => legacyAccountRowBody({ ...pgRow, acc_server_time: '12:00' })).toThrow(
      'acc_server_time must be a whole number',
    );
    expect(() => legacyAccountRowBody({ ...pgRow, shoe_size: 4 })).toThrow(
      'shoe_size is not a column of the earlier accounts table',
    );
  });
});

/** CSV text → its records' cells (header first). */
const cells = (text: string) => parseCsv(text).map((r) => r.fields);

describe('export in the earlier format and back', () => {
  it('legacy-json: source → import → export gives every value of the source back', async () => {
    const user = await createUser(t.app, admin);
    const source = fixture('upload.json');
    await importAs(user, source, 'application/json');
    const res = await call(
      user,
      'GET',
      '/accounts/export?format=legacy-json&include_secrets=true&sort=external_id',
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/accounts-legacy-json-.*\.json/);
    expect(res.json()).toEqual(JSON.parse(source));
    // Importing the export again changes nothing and matches every account.
    expect(await importAs(user, res.body, 'application/json')).toMatchObject({
      created: 0,
      updated: 3,
      failed: 0,
    });
    const again = await call(
      user,
      'GET',
      '/accounts/export?format=legacy-json&include_secrets=true&sort=external_id',
    );
    expect(again.body).toBe(res.body);
  });

  it('legacy-csv: the export is the source file, cell by cell and byte by byte', async () => {
    const user = await createUser(t.app, admin);
    const source = fixture('upload.csv');
    await importAs(user, source, 'text/csv');
    const res = await call(
      user,
      'GET',
      '/accounts/export?format=legacy-csv&include_secrets=true&sort=external_id',
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    // Not defused: "=cmd…", "-mail…", "+vault…" and "@second…" come back as they were.
    expect(cells(res.body)).toEqual(cells(source));
    expect(res.body).toBe(`\uFEFF${source}`);
  });

  it('without include_secrets leaves out every secret', async () => {
    const user = await createUser(t.app, admin);
    await importAs(user, fixture('upload.json'), 'application/json');
    const json = (
      await call(user, 'GET', '/accounts/export?format=legacy-json&sort=external_id')
    ).json();
    expect(json[0]).toEqual({
      id: '76561198000000001',
      user: { username: 'ünïcødé_用户_1' },
      email: { address: 'first@example.com' },
      vault: { address: 'vault.first@example.com' },
      metadata: {
        createdAt: 1620000000,
        sessionStart: 1620003600,
        guard: 'email',
        tags: ['eu', 'batch-7'],
      },
      prime: true,
      lock: true,
      perm_lock: true,
    });
    const csv = (await call(user, 'GET', '/accounts/export?format=legacy-csv')).body;
    const [header] = cells(csv);
    expect(header).toEqual([
      'id',
      'user.username',
      'email.address',
      'vault.address',
      'metadata.createdAt',
      'metadata.sessionStart',
      'metadata.guard',
      'metadata.tags',
      'prime',
      'lock',
      'perm_lock',
    ]);
    for (const secret of ['R12345', 'cnOgv', 'vault2', 'second pass'])
      expect(csv).not.toContain(secret);
  });

  it("exports only the caller's accounts; another user's import of the same ids is theirs", async () => {
    const one = await createUser(t.app, admin);
    const two = await createUser(t.app, admin);
    await importAs(one, fixture('upload.json'), 'application/json');
    await importAs(two, fixture('template.csv'), 'text/csv');
    await importAs(two, fixture('upload.json'), 'application/json');
    const ones = (await call(one, 'GET', '/accounts/export?format=legacy-json')).json();
    expect(ones).toHaveLength(3);
    const twos = (await call(two, 'GET', '/accounts/export?format=legacy-json')).json();
    expect(twos).toHaveLength(5);
  });
});

describe('created_at', () => {
  it('is taken on create and bulk, refused in the future, and set by an import update', async () => {
    const user = await createUser(t.app, admin);
    const made = await call(user, 'POST', '/accounts', {
      username: 'old_one',
      created_at: '2019-03-04T05:06:07.000Z',
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json().created_at).toBe('2019-03-04T05:06:07.000Z');
    const future = await call(user, 'POST', '/accounts', {
      username: 'future',
      created_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future.statusCode).toBe(400);
    expect(future.json().errors).toEqual([
      { path: '/body/created_at', message: 'must not be in the future' },
    ]);
    const bulk = await call(user, 'POST', '/accounts/bulk', {
      items: [
        { username: 'b1', created_at: '2020-01-01T00:00:00Z' },
        { username: 'b2', created_at: '3020-01-01T00:00:00Z' },
      ],
    });
    expect(bulk.statusCode).toBe(422);
    expect(bulk.json().errors).toEqual([
      { path: '/body/items/1/created_at', message: 'must not be in the future' },
    ]);
    const notDate = await call(user, 'POST', '/accounts', { username: 'x', created_at: 'soon' });
    expect(notDate.statusCode).toBe(400);
    expect(JSON.stringify(notDate.json().errors)).toContain('created_at');

    const csv = 'username,external_id,created_at\r\nimp,555,2018-01-01T00:00:00Z\r\n';
    await importAs(user, csv, 'text/csv');
    const update = 'username,external_id,created_at\r\nimp,555,2017-01-01T00:00:00Z\r\n';
    expect(await importAs(user, update, 'text/csv')).toMatchObject({ updated: 1 });
    const acc = (await call(user, 'GET', '/accounts?external_id=555')).json().items[0];
    expect(acc.created_at).toBe('2017-01-01T00:00:00.000Z');
  });
});

describe('hostile uploads', () => {
  it('a huge cell or 20,000 bad rows get row errors, bounded, nothing written', async () => {
    const user = await createUser(t.app, admin);
    const header = 'id,user.username,user.password,vault.address,metadata.createdAt\r\n';
    const huge = `${header}76561198000000901,big,${'p'.repeat(1_000_000)},v@x.y,1620000000\r\n`;
    const big = await importAs(user, huge, 'text/csv');
    expect(big).toMatchObject({ created: 0, failed: 1 });
    expect(big.errors[0].message).toContain('password');
    const many = header + '1,u,p,v,not-a-time\r\n'.repeat(20_000);
    const bad = await importAs(user, many, 'text/csv');
    expect(bad).toMatchObject({ failed: 20_000, errors_total: 20_000, errors_truncated: true });
    expect(bad.errors[0]).toEqual({
      row: 2,
      message: 'metadata.createdAt must be a whole number',
    });
    const deep = `[{"id":"1","user":{"username":"d","password":"p"},"metadata":{"guard":${'['.repeat(200)}${']'.repeat(200)}}}]`;
    const res = await call(user, 'POST', '/accounts/import', deep, {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(400);
    expect((await call(user, 'GET', '/accounts')).json().total).toBe(0);
  });
});

describe('accountdb import and export', () => {
  it('imports the earlier CSVs in batches and exports the upload CSV back as it was', async () => {
    const user = await createUser(t.app, admin);
    const cli = await openCliSession({
      config: t.config,
      database: t.database,
      login: user.username,
    });
    try {
      for (const name of ['upload.csv', 'accounts-table.csv']) {
        const text = fixture(name);
        const outcome = await importResource({
          session: cli,
          resource: 'accounts',
          format: detectInputFormat(name, text),
          text,
          // One record a batch: every batch carries the header that tells the format.
          batchSize: 1,
        });
        expect(outcome).toMatchObject({ created: 3, failed: 0 });
      }
      const out = new PassThrough();
      const body = streamText(out);
      const result = await exportResource({
        session: cli,
        resource: 'accounts',
        format: 'legacy-csv',
        query: { include_secrets: 'true', sort: 'external_id', q: '7656119800000000' },
        out,
      });
      out.end();
      expect(result.rows).toBe(3);
      expect((await body).replace(/^\uFEFF/, '')).toBe(fixture('upload.csv'));
    } finally {
      await cli.close();
    }
    const got = await accountsOf(user);
    for (const row of JSON.parse(fixture('accounts-table.json')) as Obj[])
      expectTableRow(the(got, row.acc_id as string), row);
  });
});
