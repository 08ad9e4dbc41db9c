import { generateKeyPairSync } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetMfa } from '../src/cli/reset-mfa.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { codeAtStep, timeStep } from '../src/modules/mfa/totp-core.js';
import { bearer, createUser, login, type TestUser } from './helpers/factories.js';
import { SoftAuthenticator } from './helpers/soft-authenticator.js';
import { ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * WebAuthn passkeys for AccountDB's own login (issue 16 part 1), on both databases, driven by
 * a software authenticator (helpers/soft-authenticator.ts: ES256 bytes built by hand as the
 * spec lays them out): registering several named passkeys (a fresh second factor for every
 * one after the first), list, rename, removal with a fresh factor, the second login step by
 * passkey, passwordless login on the password login's lockout, single-use challenges (wrong,
 * replayed), the signature counter (a regression refused and audited), another user's
 * credential, hostile JSON, tenancy (404) and an admin's or the CLI's reset.
 */

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  ({ t, admin, alice, bob } = await twoUsers());
});
afterAll(async () => t?.close());

let ipCounter = 0;
const nextIp = () => `10.88.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function api(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  options: { token?: string; payload?: unknown; ip?: string } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: options.token ? bearer(options.token) : {},
    remoteAddress: options.ip ?? nextIp(),
    ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
  });
}

const rp = () => ({ id: t.config.webauthn.rpId, origin: t.config.webauthn.origins[0] ?? '' });

interface Options {
  challenge_id: string;
  options: { challenge: string; user?: { id: string }; allowCredentials?: { id: string }[] };
}

async function registrationOptions(user: TestUser): Promise<Options> {
  const res = await api('POST', '/auth/mfa/passkeys/options', {
    token: user.accessToken,
    payload: {},
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function verifyOptions(user: TestUser): Promise<Options> {
  const res = await api('POST', '/auth/mfa/passkeys/verify-options', {
    token: user.accessToken,
    payload: {},
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** A fresh passkey proof of `auth` for a change of `user`. */
async function proof(user: TestUser, auth: SoftAuthenticator) {
  const o = await verifyOptions(user);
  return { challenge_id: o.challenge_id, credential: auth.assert(o.options) };
}

/** Registers a new passkey for the user; `extra` carries the fresh factor when one is needed. */
async function addPasskey(
  user: TestUser,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ auth: SoftAuthenticator; res: LightMyRequestResponse }> {
  const auth = new SoftAuthenticator(rp());
  const o = await registrationOptions(user);
  const res = await api('POST', '/auth/mfa/passkeys', {
    token: user.accessToken,
    payload: {
      name,
      challenge_id: o.challenge_id,
      credential: auth.register(o.options),
      ...extra,
    },
  });
  return { auth, res };
}

async function passkeyRows(userId: string) {
  return ownerQuery<{ id: string; name: string; sign_count: string; credential_id: string }>(
    t.database,
    'SELECT id, name, sign_count, credential_id FROM mfa_passkeys WHERE owner_id = $1 ORDER BY created_at',
    [userId],
  );
}

async function auditActions(userId: string) {
  return ownerQuery<{ action: string; details: Record<string, unknown> }>(
    t.database,
    'SELECT action, details FROM audit_log WHERE owner_id = $1 ORDER BY at, id',
    [userId],
  );
}

async function passwordStep(user: TestUser) {
  const res = await login(t.app, user, nextIp());
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { mfa_required?: true; challenge?: string; methods?: string[] };
}

async function loginStepOptions(challenge: string) {
  return api('POST', '/auth/login/mfa/passkey/options', { payload: { challenge } });
}

async function passwordlessOptions(): Promise<Options> {
  const res = await api('POST', '/auth/login/passkey/options', { payload: {} });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('registering passkeys', () => {
  it('adds a first passkey with the session alone and answers ten recovery codes', async () => {
    const user = await createUser(t.app, admin);
    const { res } = await addPasskey(user, 'Laptop');
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.passkey).toMatchObject({
      name: 'Laptop',
      device_type: 'singleDevice',
      backed_up: false,
      transports: ['internal'],
      last_used_at: null,
    });
    expect(body.recovery_codes).toHaveLength(10);
    const rows = await passkeyRows(user.id);
    expect(rows.map((r) => r.name)).toEqual(['Laptop']);
    const status = (await api('GET', '/auth/mfa', { token: user.accessToken })).json();
    expect(status).toMatchObject({ passkeys: 1, recovery_codes_left: 10 });
    expect(status.methods).toEqual(['webauthn', 'recovery_code']);
    expect((await auditActions(user.id)).map((a) => a.action)).toContain('mfa.passkey.add');
  });

  it('needs a fresh second factor for every further passkey (passkey or code)', async () => {
    const user = await createUser(t.app, admin);
    const first = await addPasskey(user, 'Phone');
    expect(first.res.statusCode).toBe(201);
    const codes = first.res.json().recovery_codes as string[];

    const without = await addPasskey(user, 'Key');
    expect(without.res.statusCode, without.res.body).toBe(400);
    expect(without.res.json().code).toBe('second_factor_required');

    const wrong = await addPasskey(user, 'Key', { code: 'aaaa-bbbb-cccc-dddd' });
    expect(wrong.res.statusCode, wrong.res.body).toBe(400);
    expect(wrong.res.json().code).toBe('invalid_second_factor');
    expect((await passkeyRows(user.id)).length).toBe(1);

    const byPasskey = await addPasskey(user, 'Key', { passkey: await proof(user, first.auth) });
    expect(byPasskey.res.statusCode, byPasskey.res.body).toBe(201);
    expect(byPasskey.res.json().recovery_codes).toBeUndefined();

    const byCode = await addPasskey(user, 'Tablet', { code: codes[0] });
    expect(byCode.res.statusCode, byCode.res.body).toBe(201);

    const list = await api('GET', '/auth/mfa/passkeys', { token: user.accessToken });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((p: { name: string }) => p.name)).toEqual([
      'Phone',
      'Key',
      'Tablet',
    ]);
    // The list shows no credential id or key.
    for (const row of await passkeyRows(user.id))
      expect(list.body).not.toContain(row.credential_id);
    const adds = (await auditActions(user.id)).filter((a) => a.action === 'mfa.passkey.add');
    expect(adds.map((a) => a.details.proved_with ?? 'first')).toEqual([
      'first',
      'webauthn',
      'recovery_code',
    ]);
  });

  it('refuses a wrong challenge, a replayed challenge, a wrong origin or RP ID, and no UV', async () => {
    const user = await createUser(t.app, admin);
    const auth = new SoftAuthenticator(rp());
    const send = (challengeId: string, credential: unknown) =>
      api('POST', '/auth/mfa/passkeys', {
        token: user.accessToken,
        payload: { name: 'X', challenge_id: challengeId, credential },
      });
    const cases: Array<Parameters<SoftAuthenticator['register']>[1]> = [
      { challenge: Buffer.alloc(32, 7).toString('base64url') },
      { origin: 'https://evil.example' },
      { rpId: 'evil.example' },
      { flags: 0x01 | 0x40 },
      { type: 'webauthn.get' },
    ];
    // (Each add counts on the per-user limit of 10 factor checks a minute: 9 calls here.)
    for (const [i, overrides] of cases.entries()) {
      const o = await registrationOptions(user);
      const res = await send(o.challenge_id, auth.register(o.options, overrides));
      expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
      expect(res.json().code).toBe('passkey_invalid');
      if (i === 0) {
        // The challenge was used by the refused answer: the right answer now fails too.
        const again = await send(o.challenge_id, auth.register(o.options));
        expect(again.statusCode).toBe(400);
      }
    }
    expect(await passkeyRows(user.id)).toEqual([]);

    const o = await registrationOptions(user);
    expect((await send(o.challenge_id, auth.register(o.options))).statusCode).toBe(201);
    const replay = await api('POST', '/auth/mfa/passkeys', {
      token: user.accessToken,
      payload: {
        name: 'X',
        challenge_id: o.challenge_id,
        credential: auth.register(o.options),
        passkey: await proof(user, auth),
      },
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().code).toBe('passkey_invalid');
    // Another user's challenge id is unknown to this user.
    const bobs = await registrationOptions(bob);
    const stolen = await api('POST', '/auth/mfa/passkeys', {
      token: user.accessToken,
      payload: {
        name: 'Y',
        challenge_id: bobs.challenge_id,
        credential: new SoftAuthenticator(rp()).register(bobs.options),
        passkey: await proof(user, auth),
      },
    });
    expect(stolen.statusCode, stolen.body).toBe(400);
    expect((await passkeyRows(user.id)).length).toBe(1);
  });

  it('answers hostile JSON with a clear 4xx and writes nothing', async () => {
    const user = await createUser(t.app, admin);
    const auth = new SoftAuthenticator(rp());
    const o = await registrationOptions(user);
    const good = auth.register(o.options);
    const bodies: Array<[unknown, number]> = [
      [{ name: 'X', challenge_id: o.challenge_id }, 400],
      [{ name: '', challenge_id: o.challenge_id, credential: good }, 400],
      [{ name: 'x'.repeat(101), challenge_id: o.challenge_id, credential: good }, 400],
      [{ name: 'X', challenge_id: 'nope', credential: good }, 400],
      [{ name: 'X', challenge_id: o.challenge_id, credential: { ...good, extra: 1 } }, 400],
      [{ name: 'X', challenge_id: o.challenge_id, credential: { ...good, type: 'password' } }, 400],
      [
        {
          name: 'X',
          challenge_id: o.challenge_id,
          credential: { ...good, response: { ...good.response, clientDataJSON: 'not base64!' } },
        },
        400,
      ],
      [
        {
          name: 'X',
          challenge_id: o.challenge_id,
          credential: {
            ...good,
            response: { ...good.response, attestationObject: 'x'.repeat(20_000) },
          },
        },
        400,
      ],
      [{ name: 'X', challenge_id: o.challenge_id, credential: good, pad: 'x'.repeat(70_000) }, 413],
    ];
    for (const [payload, status] of bodies) {
      const res = await api('POST', '/auth/mfa/passkeys', { token: user.accessToken, payload });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    // Malformed CBOR within the limits: the library refuses it; 400, not 500.
    const garbage = await api('POST', '/auth/mfa/passkeys', {
      token: user.accessToken,
      payload: {
        name: 'X',
        challenge_id: o.challenge_id,
        credential: {
          ...good,
          response: { ...good.response, attestationObject: 'oWNmbXRkbm9uZQ' },
        },
      },
    });
    expect(garbage.statusCode, garbage.body).toBe(400);
    expect(garbage.json().code).toBe('passkey_invalid');
    expect(await passkeyRows(user.id)).toEqual([]);
  });

  it('refuses a credential id registered already (409) without naming a constraint', async () => {
    const user = await createUser(t.app, admin);
    const { auth, res } = await addPasskey(user, 'One');
    expect(res.statusCode).toBe(201);
    const o = await registrationOptions(user);
    const again = await api('POST', '/auth/mfa/passkeys', {
      token: user.accessToken,
      payload: {
        name: 'Two',
        challenge_id: o.challenge_id,
        credential: auth.register(o.options),
        passkey: await proof(user, auth),
      },
    });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().code).toBe('passkey_exists');
    expect(again.body).not.toMatch(/mfa_passkeys|credential_key|23505/);
  });
});

describe('renaming and removing', () => {
  it('renames a passkey, and removes one only with a fresh second factor', async () => {
    const user = await createUser(t.app, admin);
    const first = await addPasskey(user, 'Old name');
    const id = first.res.json().passkey.id as string;
    const renamed = await api('PATCH', `/auth/mfa/passkeys/${id}`, {
      token: user.accessToken,
      payload: { name: 'New name' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().name).toBe('New name');
    expect((await passkeyRows(user.id))[0]?.name).toBe('New name');
    const blank = await api('PATCH', `/auth/mfa/passkeys/${id}`, {
      token: user.accessToken,
      payload: { name: '   ' },
    });
    expect(blank.statusCode).toBe(400);

    const bare = await api('POST', `/auth/mfa/passkeys/${id}/remove`, {
      token: user.accessToken,
      payload: {},
    });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().code).toBe('second_factor_required');
    const wrong = await api('POST', `/auth/mfa/passkeys/${id}/remove`, {
      token: user.accessToken,
      payload: { code: '000000' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('invalid_second_factor');
    expect((await passkeyRows(user.id)).length).toBe(1);

    const removed = await api('POST', `/auth/mfa/passkeys/${id}/remove`, {
      token: user.accessToken,
      payload: { passkey: await proof(user, first.auth) },
    });
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await passkeyRows(user.id)).toEqual([]);
    // The last factor went: so did the recovery codes; the next login needs the password only.
    const status = (await api('GET', '/auth/mfa', { token: user.accessToken })).json();
    expect(status).toMatchObject({ passkeys: 0, recovery_codes_left: 0, methods: [] });
    expect((await passwordStep(user)).mfa_required).toBeUndefined();
    const actions = (await auditActions(user.id)).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['mfa.passkey.rename', 'auth.mfa_failed', 'mfa.passkey.remove']),
    );
  });

  it('keeps users apart: another user’s passkey is 404 and never listed', async () => {
    const bobs = await addPasskey(bob, 'Bob key');
    expect(bobs.res.statusCode).toBe(201);
    const bobId = bobs.res.json().passkey.id as string;
    const alices = await addPasskey(alice, 'Alice key');
    expect(alices.res.statusCode).toBe(201);

    const list = await api('GET', '/auth/mfa/passkeys', { token: alice.accessToken });
    expect(list.json().items.map((p: { name: string }) => p.name)).toEqual(['Alice key']);
    const rename = await api('PATCH', `/auth/mfa/passkeys/${bobId}`, {
      token: alice.accessToken,
      payload: { name: 'mine' },
    });
    expect(rename.statusCode).toBe(404);
    const remove = await api('POST', `/auth/mfa/passkeys/${bobId}/remove`, {
      token: alice.accessToken,
      payload: { passkey: await proof(alice, alices.auth) },
    });
    expect(remove.statusCode).toBe(404);
    // An admin's own settings routes show only the admin's passkeys too.
    const adminList = await api('GET', '/auth/mfa/passkeys', { token: admin.accessToken });
    expect(adminList.json().items).toEqual([]);
    expect((await passkeyRows(bob.id)).map((r) => r.name)).toEqual(['Bob key']);

    // Bob's passkey cannot prove a change of Alice's, nor answer her challenge.
    const o = await verifyOptions(alice);
    const foreign = await api('POST', `/auth/mfa/passkeys/${alices.res.json().passkey.id}/remove`, {
      token: alice.accessToken,
      payload: {
        passkey: { challenge_id: o.challenge_id, credential: bobs.auth.assert(o.options) },
      },
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().code).toBe('invalid_second_factor');
    expect((await passkeyRows(alice.id)).length).toBe(1);
  });
});

describe('the second login step by passkey', () => {
  it('offers webauthn after the password and logs in with an assertion, once', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Laptop');
    const step = await passwordStep(user);
    expect(step.mfa_required).toBe(true);
    expect(step.methods).toEqual(['webauthn', 'recovery_code']);
    const challenge = step.challenge ?? '';

    const optionsRes = await loginStepOptions(challenge);
    expect(optionsRes.statusCode, optionsRes.body).toBe(200);
    const o = optionsRes.json() as Options;
    expect(o.options.allowCredentials?.map((c) => c.id)).toEqual([auth.id]);

    // A wrong challenge signed: refused, and the WebAuthn challenge is used up.
    const wrongChallenge = await api('POST', '/auth/login/mfa/passkey', {
      payload: {
        challenge,
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, {
          challenge: Buffer.alloc(32, 1).toString('base64url'),
        }),
      },
    });
    expect(wrongChallenge.statusCode, wrongChallenge.body).toBe(401);
    expect(wrongChallenge.json().code).toBe('invalid_second_factor');
    const sameId = await api('POST', '/auth/login/mfa/passkey', {
      payload: { challenge, challenge_id: o.challenge_id, credential: auth.assert(o.options) },
    });
    expect(sameId.statusCode).toBe(401);

    const o2 = (await loginStepOptions(challenge)).json() as Options;
    const credential = auth.assert(o2.options);
    const ok = await api('POST', '/auth/login/mfa/passkey', {
      payload: { challenge, challenge_id: o2.challenge_id, credential },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().access_token).toMatch(/^ey/);
    expect(ok.json().user.id).toBe(user.id);
    const rows = await passkeyRows(user.id);
    expect(Number(rows[0]?.sign_count)).toBe(auth.signCount);

    // The replayed assertion: the login challenge and the WebAuthn challenge are both used.
    const replay = await api('POST', '/auth/login/mfa/passkey', {
      payload: { challenge, challenge_id: o2.challenge_id, credential },
    });
    expect(replay.statusCode).toBe(401);
    const logins = (await auditActions(user.id)).filter((a) => a.action === 'auth.login');
    expect(logins.at(-1)?.details).toMatchObject({ second_factor: 'webauthn' });
  });

  it('refuses another user’s passkey and a forged signature at the second step', async () => {
    const user = await createUser(t.app, admin);
    await addPasskey(user, 'Mine');
    const other = await createUser(t.app, admin);
    const theirs = await addPasskey(other, 'Theirs');
    const challenge = (await passwordStep(user)).challenge ?? '';
    const o = (await loginStepOptions(challenge)).json() as Options;
    const foreign = await api('POST', '/auth/login/mfa/passkey', {
      payload: {
        challenge,
        challenge_id: o.challenge_id,
        credential: theirs.auth.assert(o.options),
      },
    });
    expect(foreign.statusCode).toBe(401);
    expect(foreign.json().code).toBe('invalid_second_factor');
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const mine = new SoftAuthenticator(rp());
    const o2 = (await loginStepOptions(challenge)).json() as Options;
    const forged = await api('POST', '/auth/login/mfa/passkey', {
      payload: {
        challenge,
        challenge_id: o2.challenge_id,
        credential: mine.assert(o2.options, { signWith: forger }),
      },
    });
    expect(forged.statusCode).toBe(401);
    const failed = (await auditActions(user.id)).filter((a) => a.action === 'auth.login_failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a counter that did not grow (a cloned authenticator) and audits it', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Cloned');
    const challenge = (await passwordStep(user)).challenge ?? '';
    const o = (await loginStepOptions(challenge)).json() as Options;
    const first = await api('POST', '/auth/login/mfa/passkey', {
      payload: {
        challenge,
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, { counter: 5 }),
      },
    });
    expect(first.statusCode, first.body).toBe(200);

    const challenge2 = (await passwordStep(user)).challenge ?? '';
    const o2 = (await loginStepOptions(challenge2)).json() as Options;
    const clone = await api('POST', '/auth/login/mfa/passkey', {
      payload: {
        challenge: challenge2,
        challenge_id: o2.challenge_id,
        credential: auth.assert(o2.options, { counter: 3 }),
      },
    });
    expect(clone.statusCode).toBe(401);
    expect(Number((await passkeyRows(user.id))[0]?.sign_count)).toBe(5);
    const regression = (await auditActions(user.id)).find(
      (a) => a.action === 'mfa.passkey.counter_regression',
    );
    expect(regression?.details).toMatchObject({ stored_counter: 5, at_login: true });
  });

  it('refuses passkey options for a login challenge that is not an open mfa one', async () => {
    const forged = await loginStepOptions('eyJhbGciOiJIUzI1NiJ9.e30.bm9wZQ');
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('mfa_challenge_invalid');
  });
});

describe('passwordless login', () => {
  it('logs in with a passkey alone, once per challenge', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Phone');
    const o = await passwordlessOptions();
    expect(o.options.allowCredentials).toBeUndefined();
    const credential = auth.assert(o.options);
    expect(credential.response.userHandle).toBeDefined();
    const ok = await api('POST', '/auth/login/passkey', {
      payload: { challenge_id: o.challenge_id, credential },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().user.id).toBe(user.id);
    expect(ok.headers['set-cookie']).toBeDefined();
    const me = await api('GET', '/auth/me', { token: ok.json().access_token });
    expect(me.json().user?.id ?? me.json().id).toBe(user.id);

    const replay = await api('POST', '/auth/login/passkey', {
      payload: { challenge_id: o.challenge_id, credential },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('passkey_challenge_invalid');
    const logins = (await auditActions(user.id)).filter((a) => a.action === 'auth.login');
    expect(logins.at(-1)?.details).toMatchObject({ passwordless: true });
  });

  it('refuses an unknown passkey, a wrong user handle, a wrong challenge and a counter regression', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Phone');
    const stranger = new SoftAuthenticator(rp());
    let o = await passwordlessOptions();
    const unknown = await api('POST', '/auth/login/passkey', {
      payload: { challenge_id: o.challenge_id, credential: stranger.assert(o.options) },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().code).toBe('invalid_passkey');

    o = await passwordlessOptions();
    const handle = await api('POST', '/auth/login/passkey', {
      payload: {
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, {
          userHandle: Buffer.alloc(16, 9).toString('base64url'),
        }),
      },
    });
    expect(handle.statusCode).toBe(401);

    o = await passwordlessOptions();
    const wrongChallenge = await api('POST', '/auth/login/passkey', {
      payload: {
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, {
          challenge: (await passwordlessOptions()).options.challenge,
        }),
      },
    });
    expect(wrongChallenge.statusCode).toBe(401);

    o = await passwordlessOptions();
    const good = await api('POST', '/auth/login/passkey', {
      payload: {
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, { counter: 10 }),
      },
    });
    expect(good.statusCode, good.body).toBe(200);
    o = await passwordlessOptions();
    const clone = await api('POST', '/auth/login/passkey', {
      payload: {
        challenge_id: o.challenge_id,
        credential: auth.assert(o.options, { counter: 10 }),
      },
    });
    expect(clone.statusCode).toBe(401);
    const actions = await auditActions(user.id);
    expect(
      actions.find((a) => a.action === 'mfa.passkey.counter_regression')?.details,
    ).toMatchObject({
      stored_counter: 10,
      passwordless: true,
    });
    expect(
      actions.filter((a) => a.action === 'auth.login_failed').map((a) => a.details.reason),
    ).toEqual(expect.arrayContaining(['wrong_passkey', 'invalid_passkey', 'counter_regression']));
  });

  it('counts failures on the password login’s lockout: locked, then the password waits too', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Phone');
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const o = await passwordlessOptions();
      const res = await api('POST', '/auth/login/passkey', {
        payload: {
          challenge_id: o.challenge_id,
          credential: auth.assert(o.options, { signWith: forger }),
        },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json().code).toBe('login_locked');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // The same lock holds for the password and for a correct passkey.
    const password = await login(t.app, user, nextIp());
    expect(password.statusCode).toBe(429);
    const o = await passwordlessOptions();
    const right = await api('POST', '/auth/login/passkey', {
      payload: { challenge_id: o.challenge_id, credential: auth.assert(o.options) },
    });
    expect(right.statusCode).toBe(429);
  });

  it('answers hostile assertion JSON with 4xx', async () => {
    const o = await passwordlessOptions();
    const stranger = new SoftAuthenticator(rp());
    const good = stranger.assert(o.options);
    const cases: Array<[unknown, number]> = [
      [{}, 400],
      [{ challenge_id: o.challenge_id }, 400],
      [{ challenge_id: o.challenge_id, credential: { ...good, response: {} } }, 400],
      [{ challenge_id: o.challenge_id, credential: { ...good, id: 'a'.repeat(2000) } }, 400],
      [{ challenge_id: o.challenge_id, credential: good, more: 'x'.repeat(70_000) }, 413],
      [
        {
          challenge_id: o.challenge_id,
          credential: { ...good, response: { ...good.response, authenticatorData: 'AAAA' } },
        },
        401,
      ],
    ];
    for (const [payload, status] of cases) {
      const res = await api('POST', '/auth/login/passkey', { payload });
      expect(res.statusCode, res.body).toBe(status);
    }
  });
});

describe('resets', () => {
  it('an admin reset removes passkeys with the other factors, audited', async () => {
    const user = await createUser(t.app, admin);
    const first = await addPasskey(user, 'A');
    await addPasskey(user, 'B', { passkey: await proof(user, first.auth) });
    const res = await api('DELETE', `/users/${user.id}/mfa`, { token: admin.accessToken });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().removed_factors).toBe(2);
    expect(await passkeyRows(user.id)).toEqual([]);
    expect((await passwordStep(user)).mfa_required).toBeUndefined();
    const o = await passwordlessOptions();
    const gone = await api('POST', '/auth/login/passkey', {
      payload: { challenge_id: o.challenge_id, credential: first.auth.assert(o.options) },
    });
    expect(gone.statusCode).toBe(401);
  });

  it('accountdb reset-mfa removes passkeys too', async () => {
    const user = await createUser(t.app, admin);
    await addPasskey(user, 'A');
    const done = await resetMfa(t.database.ownerDb, user.username);
    expect(done?.factors).toBe(1);
    expect(await passkeyRows(user.id)).toEqual([]);
    const audit = (await auditActions(user.id)).find((a) => a.action === 'auth.mfa_reset');
    expect(audit?.details).toMatchObject({ via: 'cli', passkeys: 1 });
  });

  it('setting up an app next to a passkey needs a fresh factor; turning it off keeps passkeys and recovery codes', async () => {
    const user = await createUser(t.app, admin);
    const { auth } = await addPasskey(user, 'Phone');
    // With a passkey the user has a second factor: setting up an app needs it, fresh.
    const bare = await api('POST', '/auth/mfa/totp', { token: user.accessToken });
    expect(bare.statusCode, bare.body).toBe(400);
    expect(bare.json().code).toBe('second_factor_required');
    const o = await verifyOptions(user);
    const forged = await api('POST', '/auth/mfa/totp', {
      token: user.accessToken,
      payload: {
        passkey: {
          challenge_id: o.challenge_id,
          credential: auth.assert(o.options, {
            signWith: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
          }),
        },
      },
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().code).toBe('invalid_second_factor');
    const started = await api('POST', '/auth/mfa/totp', {
      token: user.accessToken,
      payload: { passkey: await proof(user, auth) },
    });
    expect(started.statusCode, started.body).toBe(200);
    const secret = Buffer.from(Secret.fromBase32(started.json().secret).bytes);
    const confirmed = await api('POST', '/auth/mfa/totp/confirm', {
      token: user.accessToken,
      payload: { code: codeAtStep(secret, timeStep(Date.now()) - 1) },
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const codes = confirmed.json().recovery_codes as string[];
    const off = await api('POST', '/auth/mfa/disable', {
      token: user.accessToken,
      payload: { code: codes[0] },
    });
    expect(off.statusCode, off.body).toBe(204);
    const status = (await api('GET', '/auth/mfa', { token: user.accessToken })).json();
    expect(status).toMatchObject({ passkeys: 1, recovery_codes_left: 9 });
    expect(status.methods).toEqual(['webauthn', 'recovery_code']);
  });
});

describe('configuration', () => {
  const base = {
    NODE_ENV: 'test',
    ACCOUNTDB_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
    ACCOUNTDB_JWT_SECRET: Buffer.alloc(32, 2).toString('base64'),
  };
  it('defaults to the web UI on localhost and takes the RP ID from the origin', () => {
    expect(loadConfig({ ...base, WEB_PORT: '3100' }).webauthn).toEqual({
      rpId: 'localhost',
      rpName: 'AccountDB',
      origins: ['http://localhost:3100'],
    });
    expect(
      loadConfig({ ...base, ACCOUNTDB_WEBAUTHN_ORIGIN: 'https://adb.example.com' }).webauthn.rpId,
    ).toBe('adb.example.com');
    expect(
      loadConfig({
        ...base,
        ACCOUNTDB_WEBAUTHN_ORIGIN: 'https://adb.example.com,https://other.example.com:8443',
        ACCOUNTDB_WEBAUTHN_RP_ID: 'example.com',
      }).webauthn,
    ).toMatchObject({
      rpId: 'example.com',
      origins: ['https://adb.example.com', 'https://other.example.com:8443'],
    });
  });
  it.each([
    [{ ACCOUNTDB_WEBAUTHN_ORIGIN: 'https://adb.example.com/path' }, 'ACCOUNTDB_WEBAUTHN_ORIGIN'],
    [{ ACCOUNTDB_WEBAUTHN_ORIGIN: 'http://adb.example.com' }, 'ACCOUNTDB_WEBAUTHN_ORIGIN'],
    [{ ACCOUNTDB_WEBAUTHN_ORIGIN: 'ftp://adb.example.com' }, 'ACCOUNTDB_WEBAUTHN_ORIGIN'],
    [{ ACCOUNTDB_WEBAUTHN_RP_ID: 'other.example' }, 'ACCOUNTDB_WEBAUTHN_RP_ID'],
    [{ ACCOUNTDB_WEBAUTHN_RP_ID: 'https://localhost' }, 'ACCOUNTDB_WEBAUTHN_RP_ID'],
  ])('refuses %o naming %s', (env, variable) => {
    try {
      loadConfig({ ...base, ...env });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
    }
  });
});
