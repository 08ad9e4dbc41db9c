import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery as ownerQueryAs } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;
const logLines: string[] = [];

beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  ({ t, admin, alice, bob, call } = await twoUsers({ logStream, config: { logLevel: 'trace' } }));
});
afterAll(async () => t?.close());

const ownerQuery = <T>(text: string) => ownerQueryAs<T>(t.database, text);

const STEAM_SECRET = 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=';
const secretValues: string[] = [];
function secret(prefix: string): string {
  const value = `${prefix}-${randomName('s')}`;
  secretValues.push(value);
  return value;
}
/** A Steam identity_secret: 20 random bytes, base64 (what the write path accepts). */
function steamSecret(): string {
  const value = randomBytes(20).toString('base64');
  secretValues.push(value);
  return value;
}

describe('accounts: secrets', () => {
  let id: string;
  const password = secret('pw');
  const emailPassword = secret('mailpw');

  it('stores secrets write-only: responses carry has_* flags, never values', async () => {
    const res = await call(alice, 'POST', '/accounts', {
      username: randomName('acc'),
      external_id: '76561198000000001',
      password,
      email: 'a@example.com',
      email_password: emailPassword,
      shared_secret: STEAM_SECRET,
      tags: ['prime'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const acc = res.json();
    id = acc.id;
    expect(acc).toMatchObject({
      has_password: true,
      has_email_password: true,
      has_shared_secret: true,
      has_totp: true,
      has_vault_password: false,
    });
    for (const body of [
      res.body,
      (await call(alice, 'GET', `/accounts/${id}`)).body,
      (await call(alice, 'GET', '/accounts')).body,
    ]) {
      expect(body).not.toContain(password);
      expect(body).not.toContain(emailPassword);
      expect(body).not.toContain(STEAM_SECRET);
    }
  });

  it('keeps no plaintext secret in any column of the database', async () => {
    const rows = await ownerQuery<Record<string, unknown>>(
      `SELECT * FROM accounts WHERE id = '${id}'`,
    );
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(password);
    expect(dump).not.toContain(emailPassword);
    expect(dump).not.toContain(STEAM_SECRET);
    expect(String(rows[0]?.secrets_enc)).toMatch(/^v1:[0-9a-f-]{36}:/);
  });

  it('reveals secrets on request, audited without the values', async () => {
    const res = await call(alice, 'GET', `/accounts/${id}/secrets`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({
      password,
      email_password: emailPassword,
      shared_secret: STEAM_SECRET,
      totp_secret: null,
    });
    const audit = await ownerQuery<{ details: unknown }>(
      `SELECT details FROM audit_log WHERE action = 'account.reveal_secrets' AND entity_id = '${id}'`,
    );
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(password);
  });

  it('merges secret updates: a value sets, null removes, absent keeps', async () => {
    const newPassword = secret('pw2');
    const res = await call(alice, 'PATCH', `/accounts/${id}`, {
      password: newPassword,
      email_password: null,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      has_password: true,
      has_email_password: false,
      has_shared_secret: true,
    });
    const revealed = (await call(alice, 'GET', `/accounts/${id}/secrets`)).json();
    expect(revealed).toMatchObject({
      password: newPassword,
      email_password: null,
      shared_secret: STEAM_SECRET,
    });
  });

  it('binds a ciphertext to its row: copied into another row it does not decrypt', async () => {
    const other = (
      await call(alice, 'POST', '/accounts', { username: randomName('acc'), password: secret('x') })
    ).json();
    await ownerQuery(
      `UPDATE accounts SET secrets_enc = (SELECT secrets_enc FROM accounts WHERE id = '${id}') WHERE id = '${other.id}'`,
    );
    const res = await call(alice, 'GET', `/accounts/${other.id}/secrets`);
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain(password);
  });

  it('makes Steam and TOTP codes, and refuses a 2FA secret that cannot make one', async () => {
    const steam = (await call(alice, 'GET', `/accounts/${id}/totp`)).json();
    expect(steam).toMatchObject({ kind: 'steam', period: 30 });
    expect(steam.code).toMatch(/^[23456789BCDFGHJKMNPQRTVWXY]{5}$/);
    const totpAcc = (
      await call(alice, 'POST', '/accounts', {
        username: randomName('acc'),
        totp_secret: 'JBSWY3DPEHPK3PXP',
      })
    ).json();
    const totp = (await call(alice, 'GET', `/accounts/${totpAcc.id}/totp`)).json();
    expect(totp).toMatchObject({ kind: 'totp' });
    expect(totp.code).toMatch(/^\d{6}$/);
    const bad = await call(alice, 'POST', '/accounts', {
      username: randomName('acc'),
      totp_secret: 'hello world!',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/body/totp_secret');
    const none = (await call(alice, 'POST', '/accounts', { username: randomName('acc') })).json();
    expect((await call(alice, 'GET', `/accounts/${none.id}/totp`)).json().code).toBe(
      'no_totp_secret',
    );
  });

  it("answers 404 for another user's account on every route and leaves it unchanged", async () => {
    for (const [method, url, body] of [
      ['GET', `/accounts/${id}`],
      ['GET', `/accounts/${id}/secrets`],
      ['GET', `/accounts/${id}/totp`],
      ['GET', `/accounts/${id}/events`],
      ['PATCH', `/accounts/${id}`, { notes: 'hijack' }],
      ['POST', `/accounts/${id}/release`, {}],
      ['DELETE', `/accounts/${id}`],
    ] as Array<[string, string, unknown?]>) {
      const res = await call(bob, method, url, body);
      expect({ url, method, status: res.statusCode }).toEqual({ url, method, status: 404 });
      expect(res.body).not.toContain(STEAM_SECRET);
    }
    expect((await call(alice, 'GET', `/accounts/${id}`)).json().notes).toBeNull();
    expect((await call(bob, 'GET', '/accounts?q=76561198000000001')).json().total).toBe(0);
  });

  it('never writes a secret to the log', () => {
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const value of [...secretValues, STEAM_SECRET]) expect(log).not.toContain(value);
  });
});

describe('accounts: fields and status', () => {
  it('keeps external_id unique per owner only', async () => {
    const ext = `ext-${randomName('e')}`;
    expect(
      (await call(alice, 'POST', '/accounts', { username: 'u1', external_id: ext })).statusCode,
    ).toBe(201);
    const dup = await call(alice, 'POST', '/accounts', { username: 'u2', external_id: ext });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].path).toBe('/body/external_id');
    expect(
      (await call(bob, 'POST', '/accounts', { username: 'u1', external_id: ext })).statusCode,
    ).toBe(201);
  });

  it('lets a lock lapse by itself and keeps a status history', async () => {
    const acc = (await call(alice, 'POST', '/accounts', { username: randomName('acc') })).json();
    const past = new Date(Date.now() - 1000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const locked = (
      await call(alice, 'PATCH', `/accounts/${acc.id}`, {
        locked_until: future,
        status_reason: 'cooldown',
      })
    ).json();
    expect(locked).toMatchObject({ status: 'locked', locked_until: future });
    expect(
      (await call(alice, 'GET', `/accounts?status=locked&q=${acc.username}`)).json().total,
    ).toBe(1);
    await call(alice, 'PATCH', `/accounts/${acc.id}`, { locked_until: past });
    const lapsed = (await call(alice, 'GET', `/accounts/${acc.id}`)).json();
    expect(lapsed).toMatchObject({ status: 'active', locked_until: null });
    expect(
      (await call(alice, 'GET', `/accounts?status=active&q=${acc.username}`)).json().total,
    ).toBe(1);
    await call(alice, 'PATCH', `/accounts/${acc.id}`, { status: 'banned' });
    const events = (await call(alice, 'GET', `/accounts/${acc.id}/events`)).json().items;
    // Newest first: created active, locked, lock ended (locked_until set in the past), banned.
    expect(events.map((e: { to_status: string }) => e.to_status)).toEqual([
      'banned',
      'active',
      'locked',
      'active',
    ]);
    expect(events[2]).toMatchObject({ from_status: 'active', reason: 'cooldown' });
  });
});

describe('accounts: import', () => {
  const legacy = {
    id: '__LEGACY_ID__',
    user: { username: 'legacy_user', password: secret('legacypw') },
    email: { address: 'legacy@example.com', password: secret('legacymail') },
    vault: { address: 'vault@example.com', password: secret('vaultpw') },
    metadata: {
      // Unix seconds, as the earlier system stored them.
      createdAt: 1704067200,
      sessionStart: '1706745600',
      tags: ['prime', 'eu'],
      guard: true,
    },
    steamguard: {
      shared_secret: STEAM_SECRET,
      identity_secret: steamSecret(),
      revocation_code: 'R12345',
      deviceId: 'android:1',
      token_gid: 'abc',
    },
  };
  const maFile = {
    shared_secret: STEAM_SECRET,
    serial_number: '123',
    revocation_code: 'R54321',
    uri: `otpauth://totp/Steam:mafile_user?secret=${secret('URI')}&issuer=Steam`,
    account_name: 'mafile_user',
    identity_secret: steamSecret(),
    Session: { SteamID: '__MAFILE_ID__' },
  };

  it('reads the earlier AccountDB format and .maFiles; a dry run writes nothing', async () => {
    const user = await createUser(t.app, admin);
    // SteamID64s as bare JSON numbers (beyond 2^53), as the old exports have them.
    const payload = JSON.stringify([
      legacy,
      maFile,
      { username: 'native_user', password: 'x' },
      { nope: 1 },
    ])
      .replace('"__LEGACY_ID__"', '76561198000000111')
      .replace('"__MAFILE_ID__"', '76561198000000222');
    const dry = await call(user, 'POST', '/accounts/import?dry_run=true', payload, {
      'content-type': 'application/json',
    });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dry_run: true, created: 3, updated: 0, failed: 1 });
    expect(dry.json().errors[0].row).toBe(4);
    expect((await call(user, 'GET', '/accounts')).json().total).toBe(0);

    const real = (
      await call(user, 'POST', '/accounts/import', payload, { 'content-type': 'application/json' })
    ).json();
    expect(real).toMatchObject({ dry_run: false, created: 3, failed: 1 });
    const list = (await call(user, 'GET', '/accounts?sort=username')).json().items;
    const legacyAcc = list.find((a: { username: string }) => a.username === 'legacy_user');
    expect(legacyAcc).toMatchObject({
      external_id: '76561198000000111',
      email: 'legacy@example.com',
      tags: ['prime', 'eu'],
      has_password: true,
      has_vault_password: true,
      has_shared_secret: true,
      has_identity_secret: true,
      has_revocation_code: true,
      has_steam_guard: true,
    });
    expect(legacyAcc.attributes).toMatchObject({
      vault_address: 'vault@example.com',
      guard: true,
      session_start: 1706745600,
    });
    expect(legacyAcc.created_at).toBe('2024-01-01T00:00:00.000Z');
    const secrets = (await call(user, 'GET', `/accounts/${legacyAcc.id}/secrets`)).json();
    expect(secrets).toMatchObject({
      password: legacy.user.password,
      vault_password: legacy.vault.password,
      revocation_code: 'R12345',
    });
    expect(secrets.steam_guard).toEqual({ device_id: 'android:1', token_gid: 'abc' });
    const ma = list.find((a: { username: string }) => a.username === 'mafile_user');
    expect(ma).toMatchObject({ external_id: '76561198000000222', has_shared_secret: true });
  });

  it('updates accounts matched by external_id and reads CSV and JSON lines', async () => {
    const user = await createUser(t.app, admin);
    const csv =
      'username,external_id,password,tags,status\r\ncsv_a,1001,pw-a,a;b,active\r\n"csv, b",1002,,,locked\r\ncsv_c,1003,,,sleeping\r\n';
    const first = (
      await call(user, 'POST', '/accounts/import', csv, { 'content-type': 'text/csv' })
    ).json();
    expect(first).toMatchObject({ format: 'csv', created: 2, updated: 0, failed: 1 });
    expect(first.errors[0]).toMatchObject({ row: 4 });
    expect(first.errors[0].message).toContain('status');
    const lines = `{"username":"renamed_a","external_id":"1001"}\n{not json}\n{"username":"csv_d","external_id":"1004"}\n`;
    const second = (
      await call(user, 'POST', '/accounts/import', lines, {
        'content-type': 'application/x-ndjson',
      })
    ).json();
    expect(second).toMatchObject({ format: 'jsonl', created: 1, updated: 1, failed: 1 });
    expect(second.errors[0]).toMatchObject({ row: 2, message: 'is not valid JSON' });
    const a = (await call(user, 'GET', '/accounts?external_id=1001')).json().items[0];
    expect(a).toMatchObject({ username: 'renamed_a', tags: ['a', 'b'], has_password: true });
    expect((await call(user, 'GET', '/accounts?external_id=1002')).json().items[0].username).toBe(
      'csv, b',
    );
  });
});

describe('accounts: claims', () => {
  it('never hands one account to two of many concurrent claimers', async () => {
    const user = await createUser(t.app, admin);
    const items = Array.from({ length: 15 }, (_, i) => ({
      username: `claim-${i}`,
      tags: ['pool'],
    }));
    expect((await call(user, 'POST', '/accounts/bulk', { items })).statusCode).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        call(user, 'POST', '/accounts/claim', { lease_seconds: 600, claimed_by: `worker-${i}` }),
      ),
    );
    const won = results.filter((r) => r.statusCode === 200).map((r) => r.json().account.id);
    const lost = results.filter((r) => r.statusCode === 404);
    expect(won).toHaveLength(15);
    expect(new Set(won).size).toBe(15);
    expect(lost).toHaveLength(9);
    expect(lost[0]?.json().code).toBe('nothing_to_claim');
  });

  it('makes an account claimable again when its lease lapses, or on release by its holder', async () => {
    const user = await createUser(t.app, admin);
    await call(user, 'POST', '/accounts', { username: 'only-one', tags: ['solo'] });
    const first = (
      await call(user, 'POST', '/accounts/claim', {
        lease_seconds: 60,
        claimed_by: 'w1',
        filter: { tags: ['solo'] },
      })
    ).json();
    expect(first.account).toMatchObject({ claimed_by: 'w1' });
    expect(
      (
        await call(user, 'POST', '/accounts/claim', {
          lease_seconds: 60,
          filter: { tags: ['solo'] },
        })
      ).statusCode,
    ).toBe(404);
    // Let the lease lapse without waiting a minute.
    await ownerQuery(
      `UPDATE accounts SET claimed_until = now() - interval '1 second' WHERE id = '${first.account.id}'`,
    );
    const second = (
      await call(user, 'POST', '/accounts/claim', {
        lease_seconds: 60,
        claimed_by: 'w2',
        include_secrets: true,
      })
    ).json();
    expect(second.account.id).toBe(first.account.id);
    expect(second.secrets).toMatchObject({ password: null });
    const wrong = await call(user, 'POST', `/accounts/${first.account.id}/release`, {
      claimed_by: 'w1',
    });
    expect(wrong.statusCode).toBe(409);
    const released = await call(user, 'POST', `/accounts/${first.account.id}/release`, {
      claimed_by: 'w2',
    });
    expect(released.json()).toMatchObject({ claimed_by: null, claimed_until: null });
  });

  it("never claims another user's account", async () => {
    const user = await createUser(t.app, admin);
    await call(alice, 'POST', '/accounts', { username: 'alice-free', tags: ['theirs'] });
    expect(
      (
        await call(user, 'POST', '/accounts/claim', {
          lease_seconds: 60,
          filter: { tags: ['theirs'] },
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('accounts: export', () => {
  it('exports without secrets unless include_secrets, which is audited', async () => {
    const user = await createUser(t.app, admin);
    const pw = secret('exportpw');
    await call(user, 'POST', '/accounts', { username: 'exp', password: pw });
    const plain = await call(user, 'GET', '/accounts/export?format=json');
    expect(plain.body).not.toContain(pw);
    const withSecrets = await call(user, 'GET', '/accounts/export?format=csv&include_secrets=true');
    expect(withSecrets.body).toContain(pw);
    const audit = await ownerQuery<{ details: { include_secrets?: boolean } }>(
      `SELECT details FROM audit_log WHERE action = 'account.export' AND owner_id = '${user.id}' ORDER BY at`,
    );
    expect(audit.map((a) => a.details.include_secrets ?? false)).toEqual([false, true]);
    // "filters" names the list filters given, not what the export left out or its format.
    const filtered = await call(user, 'GET', '/accounts/export?format=csv&status=active&tag=x');
    expect(filtered.statusCode).toBe(200);
    const [, , last] = await ownerQuery<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = 'account.export' AND owner_id = '${user.id}' ORDER BY at`,
    );
    expect(last?.details).toEqual({ format: 'csv', filters: ['status', 'tag'] });
  });
});

describe('accounts: small things', () => {
  it('names the allowed values of an enum field, and releases without a body', async () => {
    const bad = await call(alice, 'POST', '/accounts', {
      username: 'enum-check',
      status: 'sleeping',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([
      { path: '/body/status', message: 'must be one of "active", "locked", "disabled", "banned"' },
    ]);
    const acc = (await call(alice, 'POST', '/accounts', { username: 'no-body-release' })).json();
    const released = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${acc.id}/release`,
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(released.statusCode, released.body).toBe(200);
  });
});
