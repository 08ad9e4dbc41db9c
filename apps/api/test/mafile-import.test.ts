import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from './helpers/factories.js';
import {
  IDENTITY,
  SHARED,
  STEAMGUARD_CLI_ENCRYPTED,
  sdaEncrypt,
  sdaManifest,
  sdaNewText,
  sdaOldText,
  steamguardCliText,
  steamV2Text,
} from './helpers/ma-files.js';
import { allAuditText, expectProblem } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Steam Guard files as the tools write them (fixtures: helpers/ma-files.ts, each citing its
 * source), alone through POST /accounts/import and as a folder through
 * POST /accounts/import/mafiles, encrypted SDA files included.
 */

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers());
});
afterAll(async () => t?.close());

const JSON_TYPE = { 'content-type': 'application/json' };
// 17-digit SteamID64s (beyond 2^53: a double would change the last digits).
const ID_OLD = '76561198000000301';
const ID_NEW = '76561198000000302';
const ID_CLI = '76561198000000303';
const ID_V2 = '76561199441992970';
// serial_number beyond 2^63 (20 digits).
const SERIAL = '18446744073709551615';

const SHAPES = [
  { shape: 'SDA, older Session', id: ID_OLD, text: sdaOldText },
  { shape: 'SDA, current Session', id: ID_NEW, text: sdaNewText },
  { shape: 'steamguard-cli, current', id: ID_CLI, text: steamguardCliText },
  { shape: 'Steam mobile v2 backup', id: ID_V2, text: steamV2Text },
];

async function accountBy(user: TestUser, externalId: string) {
  const list = (await call(user, 'GET', `/accounts?external_id=${externalId}`)).json();
  return list.items as Array<Record<string, unknown>>;
}

describe('one Steam Guard file through POST /accounts/import', () => {
  it.each(SHAPES)(
    '$shape: SteamID as external_id, the rest in steam_guard; twice updates',
    async ({ id, text }) => {
      const user = await createUser(t.app, admin);
      const name = `ma_${id.slice(-3)}`;
      const file = text({ steamId: id, name, serial: SERIAL });
      for (const [round, counts] of [
        [1, { created: 1, updated: 0 }],
        [2, { created: 0, updated: 1 }],
      ] as const) {
        const res = await call(user, 'POST', '/accounts/import', file, JSON_TYPE);
        expect(res.statusCode, `round ${round}: ${res.body}`).toBe(200);
        expect(res.json()).toMatchObject({ ...counts, failed: 0 });
        // No secret of the file in the answer.
        expect(res.body).not.toContain(SHARED);
      }
      const items = await accountBy(user, id);
      expect(items).toHaveLength(1);
      const account = items[0] as Record<string, unknown>;
      expect(account).toMatchObject({
        external_id: id,
        username: name,
        service: 'steam',
        attributes: {},
        has_shared_secret: true,
        has_identity_secret: true,
        has_revocation_code: true,
        has_steam_guard: true,
      });
      const listBody = (await call(user, 'GET', '/accounts')).body;
      for (const token of ['eyJ', 'oauth-old', 'sess-']) expect(listBody).not.toContain(token);

      const secrets = (await call(user, 'GET', `/accounts/${account.id}/secrets`)).json();
      expect(secrets.shared_secret).toBe(SHARED);
      expect(secrets.identity_secret).toBe(IDENTITY);
      const source = JSON.parse(file.replace(/":(\d{16,})/g, '":"$1"')) as Record<string, unknown>;
      const { shared_secret, identity_secret, revocation_code, steam_id, steamid, ...rest } =
        source;
      expect(secrets.revocation_code).toBe(revocation_code);
      // Everything else as in the file: serial_number the exact digits, integers as numbers,
      // Session and tokens as they were (SteamID digit for digit).
      const expected: Record<string, unknown> = { ...rest, serial_number: SERIAL };
      if (typeof rest.server_time === 'string') expected.server_time = Number(rest.server_time);
      expect(secrets.steam_guard).toEqual(expected);
      if (source.Session) {
        expect((secrets.steam_guard.Session as { SteamID: unknown }).SteamID).toBe(id);
      }
    },
  );

  it('a serial_number written as a small number becomes its digits as a string', async () => {
    const user = await createUser(t.app, admin);
    const file = sdaOldText({ steamId: ID_OLD, name: 'serial_num', serial: 'X' }).replace(
      '"serial_number":"X"',
      '"serial_number":123456789012345',
    );
    expect((await call(user, 'POST', '/accounts/import', file, JSON_TYPE)).json()).toMatchObject({
      created: 1,
    });
    const [account] = await accountBy(user, ID_OLD);
    const secrets = (await call(user, 'GET', `/accounts/${account?.id}/secrets`)).json();
    expect(secrets.steam_guard.serial_number).toBe('123456789012345');
  });

  it('refuses a file naming two different SteamIDs, and one whose SteamID is not digits', async () => {
    const user = await createUser(t.app, admin);
    const two = steamguardCliText({ steamId: ID_CLI, name: 'two_ids', serial: '1' }).replace(
      '"tokens"',
      `"steamid":"${ID_V2}","tokens"`,
    );
    const words = steamV2Text({ steamId: 'not-an-id', name: 'bad_id', serial: '1' });
    const res = await call(user, 'POST', '/accounts/import', `[${two},${words}]`, JSON_TYPE);
    expect(res.json()).toMatchObject({ created: 0, failed: 2 });
    expect(res.json().errors).toEqual([
      { row: 1, message: `names two SteamIDs: steam_id ${ID_CLI}, steamid ${ID_V2}` },
      { row: 2, message: 'steamid is not a SteamID (digits)' },
    ]);
  });

  it('an encrypted .maFile sent alone is told as such, not as invalid JSON', async () => {
    for (const type of ['application/json', 'text/plain']) {
      const res = await call(alice, 'POST', '/accounts/import', STEAMGUARD_CLI_ENCRYPTED.file, {
        'content-type': type,
      });
      expectProblem(res, 400, 'mafile_encrypted');
      expect(res.json().detail).toContain('/accounts/import/mafiles');
    }
    // Not JSON and not ciphertext stays invalid_json.
    expectProblem(
      await call(alice, 'POST', '/accounts/import', 'ZZZZ not base64 {', JSON_TYPE),
      400,
      'invalid_json',
    );
  });
});

describe('shared_secret and identity_secret on every write', () => {
  const HEX = 'fbff3ffbef7efbfe0fe0ffe3ffbfbefbfffeffff';
  const STANDARD = '+/8/++9++/4P4P/j/7+++//+//8=';

  it('hex and URL-safe base64 are stored as standard base64 and make the same code', async () => {
    const a = await call(alice, 'POST', '/accounts', {
      username: 'hex_secret',
      shared_secret: HEX,
      identity_secret: '-_8_--9--_4P4P_j_7---__-__8',
    });
    expect(a.statusCode, a.body).toBe(201);
    const secrets = (await call(alice, 'GET', `/accounts/${a.json().id}/secrets`)).json();
    expect(secrets).toMatchObject({ shared_secret: STANDARD, identity_secret: STANDARD });
    const b = await call(alice, 'POST', '/accounts', { username: 'b64', shared_secret: STANDARD });
    // The two codes, read in the same 30-second window.
    for (let attempt = 0; attempt < 3; attempt++) {
      const [x, y] = await Promise.all(
        [a, b].map(async (r) => (await call(alice, 'GET', `/accounts/${r.json().id}/totp`)).json()),
      );
      if (x.remaining_s !== y.remaining_s) continue;
      expect(x.code).toBe(y.code);
      return;
    }
    throw new Error('no two codes in one window');
  });

  it('refuses a bad value naming the field: create, update, import row', async () => {
    const created = await call(alice, 'POST', '/accounts', {
      username: 'bad_secret',
      shared_secret: HEX.slice(1),
    });
    expectProblem(created, 400, 'validation_error');
    expect(created.json().errors).toEqual([
      { path: '/body/shared_secret', message: expect.stringContaining('29 bytes') },
    ]);
    const ok = await call(alice, 'POST', '/accounts', { username: 'patch_me' });
    const patched = await call(alice, 'PATCH', `/accounts/${ok.json().id}`, {
      identity_secret: `${STANDARD.slice(0, 10)}\u0001${STANDARD.slice(11)}`,
    });
    expectProblem(patched, 400, 'validation_error');
    expect(patched.json().errors[0].path).toBe('/body/identity_secret');
    const csv = `username,shared_secret\nfine,${HEX}\nbroken,${STANDARD.slice(4)}\n`;
    const imported = await call(alice, 'POST', '/accounts/import', csv, {
      'content-type': 'text/csv',
    });
    expect(imported.json()).toMatchObject({ created: 1, failed: 1 });
    expect(imported.json().errors).toEqual([
      { row: 3, message: expect.stringMatching(/^shared_secret .*17 bytes/) },
    ]);
  });
});

const ENC_SALT = Buffer.from('0011223344556677', 'hex');
const ENC_IV = Buffer.from('8899aabbccddeeff0011223344556677', 'hex');
const ENC_SALT_2 = Buffer.from('a1b2c3d4e5f60718', 'hex');
const ENC_IV_2 = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
const PASSKEY = 'correct höre battery';

function encryptedFolder() {
  const files = [
    { id: ID_OLD, text: sdaOldText({ steamId: ID_OLD, name: 'enc_old', serial: SERIAL }) },
    { id: ID_NEW, text: sdaNewText({ steamId: ID_NEW, name: 'enc_new', serial: SERIAL }) },
  ];
  const keys = [
    { salt: ENC_SALT, iv: ENC_IV },
    { salt: ENC_SALT_2, iv: ENC_IV_2 },
  ];
  return [
    {
      name: 'maFiles/manifest.json',
      content: sdaManifest({
        encrypted: true,
        entries: files.map((f, i) => ({
          filename: `${f.id}.maFile`,
          steamId: f.id,
          ...(keys[i] as { salt: Buffer; iv: Buffer }),
        })),
      }),
    },
    ...files.map((f, i) => ({
      name: `maFiles/${f.id}.maFile`,
      content: sdaEncrypt({
        passkey: PASSKEY,
        ...(keys[i] as { salt: Buffer; iv: Buffer }),
        text: f.text,
      }),
    })),
  ];
}

describe('POST /accounts/import/mafiles: a maFiles folder', () => {
  it('imports a folder in clear (manifest with null salt and IV), twice without duplicates', async () => {
    const user = await createUser(t.app, admin);
    const files = [
      {
        name: 'manifest.json',
        content: sdaManifest({
          encrypted: false,
          entries: [
            { filename: `${ID_OLD}.maFile`, steamId: ID_OLD },
            { filename: `${ID_CLI}.maFile`, steamId: ID_CLI },
          ],
        }),
      },
      {
        name: `${ID_OLD}.maFile`,
        content: sdaOldText({ steamId: ID_OLD, name: 'f_old', serial: '7' }),
      },
      {
        name: `${ID_CLI}.maFile`,
        content: steamguardCliText({ steamId: ID_CLI, name: 'f_cli', serial: '8' }),
      },
      { name: 'backup.json', content: steamV2Text({ steamId: ID_V2, name: 'f_v2', serial: '9' }) },
    ];
    const dry = await call(user, 'POST', '/accounts/import/mafiles?dry_run=true', { files });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toEqual({
      dry_run: true,
      total: 3,
      created: 3,
      updated: 0,
      decrypted: 0,
      failed: 0,
      errors: [],
      errors_total: 0,
      errors_truncated: false,
    });
    expect((await call(user, 'GET', '/accounts')).json().total).toBe(0);
    const first = await call(user, 'POST', '/accounts/import/mafiles', { files });
    expect(first.json()).toMatchObject({ dry_run: false, created: 3, updated: 0 });
    const second = await call(user, 'POST', '/accounts/import/mafiles', { files });
    expect(second.json()).toMatchObject({ created: 0, updated: 3 });
    const all = (await call(user, 'GET', '/accounts?sort=username')).json();
    expect(all.items.map((a: { external_id: string }) => a.external_id)).toEqual([
      ID_CLI,
      ID_OLD,
      ID_V2,
    ]);
  });

  it('decrypts SDA files with the passkey (salt and IV per manifest entry)', async () => {
    const user = await createUser(t.app, admin);
    const files = encryptedFolder();
    const res = await call(user, 'POST', '/accounts/import/mafiles', { files, passkey: PASSKEY });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ created: 2, decrypted: 2, failed: 0 });
    const [old] = await accountBy(user, ID_OLD);
    expect(old).toMatchObject({ username: 'enc_old', has_steam_guard: true });
    const secrets = (await call(user, 'GET', `/accounts/${old?.id}/secrets`)).json();
    expect(secrets).toMatchObject({ shared_secret: SHARED, revocation_code: 'R12345' });
    expect(secrets.steam_guard).toMatchObject({
      serial_number: SERIAL,
      Session: { SteamID: ID_OLD },
    });
    const [fresh] = await accountBy(user, ID_NEW);
    const freshSecrets = (await call(user, 'GET', `/accounts/${fresh?.id}/secrets`)).json();
    expect(freshSecrets.steam_guard.Session).toEqual({
      SteamID: ID_NEW,
      AccessToken: 'eyJhY2Nlc3MifQ.a.b',
      RefreshToken: 'eyJyZWZyZXNoIn0.c.d',
      SessionID: 'sess-new',
    });
    // The passkey is in no answer and no audit entry.
    const audit = await allAuditText(t.database);
    expect(audit).toContain('mafile');
    expect(audit).not.toContain(PASSKEY);
  });

  it("opens steamguard-cli's SDA-compatible fixture (made by other code) with its passkey", async () => {
    const user = await createUser(t.app, admin);
    const res = await call(user, 'POST', '/accounts/import/mafiles?dry_run=true', {
      files: [
        { name: '1234.maFile', content: STEAMGUARD_CLI_ENCRYPTED.file },
        { name: 'manifest.json', content: STEAMGUARD_CLI_ENCRYPTED.manifest },
      ],
      passkey: STEAMGUARD_CLI_ENCRYPTED.passkey,
    });
    expect(res.statusCode, res.body).toBe(200);
    // Decrypted and read: its dummy 8-byte identity_secret is the one thing refused.
    expect(res.json()).toMatchObject({ decrypted: 1, total: 1, created: 0, failed: 1 });
    expect(res.json().errors).toEqual([
      {
        row: 1,
        file: '1234.maFile',
        message: expect.stringMatching(/^identity_secret is 8 bytes; a Steam secret is 20/),
      },
    ]);
  });

  it('a missing or wrong passkey, or a missing manifest, is a 400 naming the file', async () => {
    const files = encryptedFolder();
    const fileName = `maFiles/${ID_OLD}.maFile`;
    const missing = await call(alice, 'POST', '/accounts/import/mafiles', { files });
    expectProblem(missing, 400, 'passkey_required');
    expect(missing.json().detail).toBe(`The file ${fileName} is encrypted: give the SDA passkey.`);
    const wrong = await call(alice, 'POST', '/accounts/import/mafiles', {
      files,
      passkey: 'correct hore battery',
    });
    expectProblem(wrong, 400, 'passkey_wrong');
    expect(wrong.json().detail).toContain(fileName);
    const alone = await call(alice, 'POST', '/accounts/import/mafiles', {
      files: files.slice(1),
      passkey: PASSKEY,
    });
    expectProblem(alone, 400, 'manifest_required');
    expect(alone.json().detail).toContain(fileName);
    for (const res of [missing, wrong, alone]) expect(res.body).not.toContain(PASSKEY);
    expect((await call(alice, 'GET', `/accounts?external_id=${ID_OLD}`)).json().total).toBe(0);
  });

  it('all or nothing: one bad file and nothing is written (422 naming each file)', async () => {
    const user = await createUser(t.app, admin);
    const files = [
      ...encryptedFolder(),
      { name: 'maFiles/broken.maFile', content: '{"account_name": "x", ' },
      { name: 'maFiles/other.json', content: '{"hello": "world"}' },
      {
        name: 'maFiles/dup.maFile',
        content: sdaOldText({ steamId: ID_OLD, name: 'dup', serial: '1' }),
      },
    ];
    const res = await call(user, 'POST', '/accounts/import/mafiles', { files, passkey: PASSKEY });
    expectProblem(res, 422, 'mafiles_refused');
    expect(res.json().errors).toEqual([
      { path: '/body/files/3', message: 'maFiles/broken.maFile: is not valid JSON' },
      {
        path: '/body/files/4',
        message:
          'maFiles/other.json: is not a Steam Guard file (it needs account_name and shared_secret)',
      },
      {
        path: '/body/files/5',
        message: `maFiles/dup.maFile: Session.SteamID ${ID_OLD} is also in maFiles/${ID_OLD}.maFile`,
      },
    ]);
    expect((await call(user, 'GET', '/accounts')).json().total).toBe(0);
  });

  it('stays within its limits: files, file size, unknown fields, a manifest that is not one', async () => {
    const one = {
      name: 'a.maFile',
      content: sdaOldText({ steamId: ID_OLD, name: 'l', serial: '1' }),
    };
    const many = await call(alice, 'POST', '/accounts/import/mafiles', {
      files: Array.from({ length: 501 }, () => one),
    });
    expect(many.statusCode).toBe(400);
    expect(many.body).toContain('/body/files');
    const big = await call(alice, 'POST', '/accounts/import/mafiles', {
      files: [{ name: 'big.maFile', content: 'x'.repeat(64 * 1024 + 1) }],
    });
    expect(big.statusCode).toBe(400);
    expectProblem(
      await call(alice, 'POST', '/accounts/import/mafiles', { files: [one], extra: 1 }),
      400,
      'validation_error',
    );
    const notManifest = await call(alice, 'POST', '/accounts/import/mafiles', {
      files: [one, { name: 'manifest.json', content: '[1,2]' }],
    });
    expectProblem(notManifest, 400, 'manifest_invalid');
    const deep = await call(alice, 'POST', '/accounts/import/mafiles', {
      files: [{ name: 'deep.maFile', content: `${'['.repeat(100)}${']'.repeat(100)}` }],
    });
    expectProblem(deep, 400, 'json_too_deep');
    expect(deep.json().detail).toContain('deep.maFile');
  });

  it('each user imports into their own accounts; the same SteamID stays apart', async () => {
    const file = {
      name: 'x.maFile',
      content: sdaNewText({ steamId: ID_NEW, name: 'shared_id', serial: '1' }),
    };
    for (const user of [alice, bob]) {
      const res = await call(user, 'POST', '/accounts/import/mafiles', { files: [file] });
      expect(res.json(), res.body).toMatchObject({ created: 1, updated: 0 });
    }
    const [a] = await accountBy(alice, ID_NEW);
    const [b] = await accountBy(bob, ID_NEW);
    expect(a?.owner_id).toBe(alice.id);
    expect(b?.owner_id).toBe(bob.id);
    // An admin imports for a user with owner_id; the user's account is updated.
    const forBob = await call(admin, 'POST', `/accounts/import/mafiles?owner_id=${bob.id}`, {
      files: [file],
    });
    expect(forBob.json()).toMatchObject({ created: 0, updated: 1 });
    // A user's owner_id is refused, not obeyed.
    const sneaky = await call(alice, 'POST', `/accounts/import/mafiles?owner_id=${bob.id}`, {
      files: [file],
    });
    expectProblem(sneaky, 403, 'admin_only');
  });
});
