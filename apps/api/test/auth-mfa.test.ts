import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetMfa } from '../src/cli/reset-mfa.js';
import { withTenant } from '../src/db/tenant.js';
import { codeAtStep, TOTP_PERIOD_S, timeStep } from '../src/modules/mfa/totp-core.js';
import { outcome, sleep } from './helpers/auth-helpers.js';
import { bearer, createUser, login, type TestUser } from './helpers/factories.js';
import { allAuditText, ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * A second factor for AccountDB's own login (issue 16 part 1), on both databases: TOTP
 * enrolment and confirmation, the two-step login (±1 step, replay refused, recovery codes
 * once), the lockout counting second-step failures, disabling and new recovery codes only with
 * a fresh code, an admin's reset (audited on the user), the required-for-everyone setting,
 * `accountdb reset-mfa`, and no secret or code in logs, audit entries or errors.
 */
let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
const logLines: string[] = [];
/** Every secret and code handed out: none may show up in logs, audit entries or errors. */
const secrets = new Set<string>();
const errorBodies: string[] = [];

beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  ({ t, admin, alice, bob } = await twoUsers({ logStream, config: { logLevel: 'debug' } }));
});
afterAll(async () => t?.close());

let ipCounter = 0;
const nextIp = () => `10.77.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function api(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  options: { token?: string; payload?: object } = {},
): Promise<LightMyRequestResponse> {
  const res = await t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: options.token ? bearer(options.token) : {},
    remoteAddress: nextIp(),
    ...(options.payload ? { payload: options.payload } : {}),
  });
  if (res.statusCode >= 400) errorBodies.push(res.body);
  return res;
}

/** Waits while the current 30-second step is about to end, so a test's steps stay put (each
 * test that depends on the step does its code work within 8 seconds of this).
 */
async function awayFromStepEdge(): Promise<void> {
  const intoStep = (Date.now() / 1000) % TOTP_PERIOD_S;
  if (intoStep > TOTP_PERIOD_S - 8) await sleep((TOTP_PERIOD_S - intoStep + 0.2) * 1000);
}

const codeAt = (secret: Buffer, offset = 0) => codeAtStep(secret, timeStep(Date.now()) + offset);

interface Enrolled {
  secret: Buffer;
  recoveryCodes: string[];
}

/** Sets up an authenticator app for the user, confirmed with the code of the previous step. */
async function enrol(user: TestUser): Promise<Enrolled> {
  await awayFromStepEdge();
  const started = await api('POST', '/auth/mfa/totp', { token: user.accessToken });
  expect(started.statusCode, started.body).toBe(200);
  const body = started.json();
  expect(body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
  expect(body.qr_code).toMatch(/^data:image\/svg\+xml;base64,/);
  const secret = Buffer.from(Secret.fromBase32(body.secret).bytes);
  expect(secret.length).toBe(20);
  secrets.add(body.secret);
  secrets.add(secret.toString('hex'));
  const confirmed = await api('POST', '/auth/mfa/totp/confirm', {
    token: user.accessToken,
    payload: { code: codeAt(secret, -1) },
  });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  const recoveryCodes = confirmed.json().recovery_codes as string[];
  for (const c of recoveryCodes) secrets.add(c);
  return { secret, recoveryCodes };
}

async function passwordStep(user: TestUser) {
  const res = await login(t.app, user, nextIp());
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    mfa_required?: true;
    purpose?: 'mfa' | 'enroll';
    challenge?: string;
    methods?: string[];
    access_token?: string;
  };
}

const secondStep = (challenge: string, code: string) =>
  api('POST', '/auth/login/mfa', { payload: { challenge, code } });

async function auditActions(userId: string): Promise<Array<{ action: string; details: unknown }>> {
  return ownerQuery(
    t.database,
    'SELECT action, details FROM audit_log WHERE owner_id = $1 ORDER BY at, id',
    [userId],
  );
}

describe('enrolling an authenticator app', () => {
  it('needs a current code to confirm; a wrong one is refused and audited', async () => {
    const user = await createUser(t.app, admin);
    const started = await api('POST', '/auth/mfa/totp', { token: user.accessToken });
    expect(started.statusCode).toBe(200);
    expect(started.headers['cache-control']).toBe('no-store');
    secrets.add(started.json().secret);
    const status = (await api('GET', '/auth/mfa', { token: user.accessToken })).json();
    expect(status).toMatchObject({ totp: { enabled: false, pending: true }, methods: [] });
    // Not enabled yet: the login stays one step.
    expect((await passwordStep(user)).access_token).toBeTruthy();

    const wrong = await api('POST', '/auth/mfa/totp/confirm', {
      token: user.accessToken,
      payload: { code: '000000' },
    });
    expect(outcome(wrong)).toBe('400 invalid_second_factor');
    expect((await auditActions(user.id)).map((e) => e.action)).toContain('auth.mfa_failed');

    const secret = Buffer.from(Secret.fromBase32(started.json().secret).bytes);
    await awayFromStepEdge();
    const ok = await api('POST', '/auth/mfa/totp/confirm', {
      token: user.accessToken,
      payload: { code: codeAt(secret) },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const codes = ok.json().recovery_codes as string[];
    for (const c of codes) secrets.add(c);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(codes[0]).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect((await api('GET', '/auth/mfa', { token: user.accessToken })).json()).toMatchObject({
      totp: { enabled: true, pending: false },
      recovery_codes_left: 10,
      methods: ['totp', 'recovery_code'],
    });
    // A second enrolment waits until this one is disabled.
    expect(outcome(await api('POST', '/auth/mfa/totp', { token: user.accessToken }))).toBe(
      '409 mfa_already_enabled',
    );
    const actions = (await auditActions(user.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.mfa_enroll', 'auth.mfa_enabled']));
  });

  it('stores the seed encrypted and bound to its row, the recovery codes hashed', async () => {
    const [row] = await ownerQuery<{ secret_enc: string }>(
      t.database,
      "SELECT secret_enc FROM mfa_factors WHERE kind = 'totp' LIMIT 1",
    );
    expect(row?.secret_enc).toMatch(/^v1:[0-9a-f-]{36}:/);
    const text = JSON.stringify(
      await ownerQuery(t.database, 'SELECT * FROM mfa_factors, mfa_recovery_codes'),
    );
    for (const s of secrets) expect(text).not.toContain(s);
  });

  it('is not for personal access tokens', async () => {
    const pat = await api('POST', '/tokens', {
      token: alice.accessToken,
      payload: { name: 'script', scopes: ['read', 'write'] },
    });
    expect(pat.statusCode, pat.body).toBe(201);
    const res = await api('POST', '/auth/mfa/totp', { token: pat.json().token });
    expect(outcome(res)).toBe('403 session_required');
  });
});

describe('logging in with a second factor', () => {
  let user: TestUser;
  let enrolled: Enrolled;

  beforeAll(async () => {
    user = await createUser(t.app, admin);
    enrolled = await enrol(user);
  });

  it('answers a challenge after the password, then the session for a current code', async () => {
    await awayFromStepEdge();
    const first = await passwordStep(user);
    expect(first).toMatchObject({
      mfa_required: true,
      purpose: 'mfa',
      methods: ['totp', 'recovery_code'],
    });
    expect(first.access_token).toBeUndefined();
    const challenge = first.challenge ?? '';
    // The challenge is no access token, and an access token is no challenge.
    expect((await api('GET', '/auth/me', { token: challenge })).statusCode).toBe(401);
    expect(outcome(await secondStep(user.accessToken, codeAt(enrolled.secret)))).toBe(
      '401 mfa_challenge_invalid',
    );
    // Two steps away is outside the window.
    expect(outcome(await secondStep(challenge, codeAt(enrolled.secret, 2)))).toBe(
      '401 invalid_second_factor',
    );
    const done = await secondStep(challenge, codeAt(enrolled.secret));
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().access_token).toBeTruthy();
    expect(done.json().recovery_codes).toBeUndefined();
    expect(String(done.headers['set-cookie'])).toMatch(/refresh/i);
    const me = await api('GET', '/auth/me', { token: done.json().access_token });
    expect(me.json().user.id).toBe(user.id);
    // The challenge is used up.
    expect(outcome(await secondStep(challenge, codeAt(enrolled.secret, 1)))).toBe(
      '401 mfa_challenge_invalid',
    );
    const entry = (await auditActions(user.id)).filter((e) => e.action === 'auth.login').at(-1);
    expect(entry?.details).toMatchObject({ second_factor: 'totp' });

    // The code of this step was used: refused (replay); the next step's code (+1) passes.
    const replay = await passwordStep(user);
    expect(outcome(await secondStep(replay.challenge ?? '', codeAt(enrolled.secret)))).toBe(
      '401 invalid_second_factor',
    );
    const next = await secondStep(replay.challenge ?? '', codeAt(enrolled.secret, 1));
    expect(next.statusCode, next.body).toBe(200);
  });

  it('takes each recovery code once', async () => {
    const code = enrolled.recoveryCodes[0] ?? '';
    const first = await passwordStep(user);
    const ok = await secondStep(first.challenge ?? '', code.toUpperCase());
    expect(ok.statusCode, ok.body).toBe(200);
    const again = await passwordStep(user);
    expect(outcome(await secondStep(again.challenge ?? '', code))).toBe(
      '401 invalid_second_factor',
    );
    const status = (await api('GET', '/auth/mfa', { token: ok.json().access_token })).json();
    expect(status.recovery_codes_left).toBe(9);
    const actions = await auditActions(user.id);
    expect(actions.find((e) => e.action === 'auth.mfa_recovery_code_used')?.details).toMatchObject({
      left: 9,
    });
    const failed = actions.filter((e) => e.action === 'auth.login_failed').at(-1);
    expect(failed?.details).toMatchObject({ reason: 'wrong_second_factor' });
  });

  it('counts wrong codes on the lockout like wrong passwords', async () => {
    const victim = await createUser(t.app, admin);
    const mine = await enrol(victim);
    const first = await passwordStep(victim); // attempt 1
    const results: string[] = [];
    for (let i = 0; i < 5; i++)
      results.push(outcome(await secondStep(first.challenge ?? '', '000000')));
    // Attempts 2-5 are checked (the 5th locks the name), the 6th is refused unchecked.
    expect(results).toEqual([
      '401 invalid_second_factor',
      '401 invalid_second_factor',
      '401 invalid_second_factor',
      '401 invalid_second_factor',
      '429 login_locked',
    ]);
    // A right code now is refused too, and so is the password.
    expect(outcome(await secondStep(first.challenge ?? '', codeAt(mine.secret, 1)))).toBe(
      '429 login_locked',
    );
    expect(outcome(await login(t.app, victim, nextIp()))).toBe('429 login_locked');
  });

  it('a passed second step clears the count: a user who mistypes is not locked', async () => {
    const other = await createUser(t.app, admin);
    const mine = await enrol(other);
    for (let round = 0; round < 3; round++) {
      await awayFromStepEdge();
      const first = await passwordStep(other);
      expect(outcome(await secondStep(first.challenge ?? '', '111111'))).toBe(
        '401 invalid_second_factor',
      );
      const code = mine.recoveryCodes[round] ?? '';
      expect(outcome(await secondStep(first.challenge ?? '', code))).toBe('200');
    }
  });
});

describe('turning the second factor off and new recovery codes', () => {
  it('needs a fresh code in the same request', async () => {
    const user = await createUser(t.app, admin);
    const mine = await enrol(user);
    const token = user.accessToken;
    expect(
      outcome(await api('POST', '/auth/mfa/disable', { token, payload: { code: '123456' } })),
    ).toBe('400 invalid_second_factor');
    // The code that confirmed the app (step now-1) is used: refused.
    expect(
      outcome(
        await api('POST', '/auth/mfa/disable', {
          token,
          payload: { code: codeAt(mine.secret, -1) },
        }),
      ),
    ).toBe('400 invalid_second_factor');

    const fresh = await api('POST', '/auth/mfa/recovery-codes', {
      token,
      payload: { code: mine.recoveryCodes[0] ?? '' },
    });
    expect(fresh.statusCode, fresh.body).toBe(200);
    const newCodes = fresh.json().recovery_codes as string[];
    for (const c of newCodes) secrets.add(c);
    // The earlier codes stopped working.
    expect(
      outcome(
        await api('POST', '/auth/mfa/disable', {
          token,
          payload: { code: mine.recoveryCodes[1] ?? '' },
        }),
      ),
    ).toBe('400 invalid_second_factor');

    const off = await api('POST', '/auth/mfa/disable', {
      token,
      payload: { code: newCodes[0] ?? '' },
    });
    expect(off.statusCode, off.body).toBe(204);
    expect((await passwordStep(user)).access_token).toBeTruthy();
    const actions = (await auditActions(user.id)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.mfa_recovery_codes_regenerated',
        'auth.mfa_disabled',
        'auth.mfa_failed',
      ]),
    );
    expect(
      await ownerQuery(t.database, 'SELECT 1 FROM mfa_recovery_codes WHERE owner_id = $1', [
        user.id,
      ]),
    ).toEqual([]);
  });
});

describe("an admin's reset", () => {
  it('removes the factors, is audited on the user, and is for admins only', async () => {
    await enrol(alice);
    expect(outcome(await api('DELETE', `/users/${alice.id}/mfa`, { token: bob.accessToken }))).toBe(
      '403 admin_only',
    );
    const status = await api('GET', `/users/${alice.id}/mfa`, { token: admin.accessToken });
    expect(status.json().totp.enabled).toBe(true);
    const pending = await passwordStep(alice);
    const reset = await api('DELETE', `/users/${alice.id}/mfa`, { token: admin.accessToken });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ user: { id: alice.id }, removed_factors: 1 });
    // A challenge handed out before the reset is over.
    expect(outcome(await secondStep(pending.challenge ?? '', '000000'))).toBe(
      '401 mfa_challenge_invalid',
    );
    expect((await passwordStep(alice)).access_token).toBeTruthy();
    // Alice sees it in her own audit log; Bob does not.
    const mine = (
      await api('GET', '/audit?action=auth.mfa_reset', { token: alice.accessToken })
    ).json();
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({ action: 'auth.mfa_reset', details: { via: 'admin' } });
    const bobs = (
      await api('GET', '/audit?action=auth.mfa_reset', { token: bob.accessToken })
    ).json();
    expect(bobs.items).toEqual([]);
    expect(
      outcome(
        await api('DELETE', '/users/0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f/mfa', {
          token: admin.accessToken,
        }),
      ),
    ).toBe('404 not_found');
  });
});

describe('a second factor required for everyone', () => {
  it('lets a user without one only enrol, then log in', async () => {
    expect(
      outcome(
        await api('PATCH', '/settings', {
          token: bob.accessToken,
          payload: { mfa_required: true },
        }),
      ),
    ).toBe('403 admin_only');
    const set = await api('PATCH', '/settings', {
      token: admin.accessToken,
      payload: { mfa_required: true },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().mfa_required).toBe(true);
    try {
      const first = await passwordStep(bob);
      expect(first).toMatchObject({ mfa_required: true, purpose: 'enroll', methods: [] });
      const challenge = first.challenge ?? '';
      // An enroll challenge has no code to check yet, and gives no session.
      expect(outcome(await secondStep(challenge, '000000'))).toBe('401 invalid_second_factor');
      const started = await api('POST', '/auth/login/mfa/enroll', { payload: { challenge } });
      expect(started.statusCode, started.body).toBe(200);
      secrets.add(started.json().secret);
      const secret = Buffer.from(Secret.fromBase32(started.json().secret).bytes);
      await awayFromStepEdge();
      const done = await secondStep(challenge, codeAt(secret));
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json().access_token).toBeTruthy();
      expect(done.json().recovery_codes).toHaveLength(10);
      for (const c of done.json().recovery_codes as string[]) secrets.add(c);
      // The enroll challenge is used up; the next login asks for a code.
      expect(outcome(await api('POST', '/auth/login/mfa/enroll', { payload: { challenge } }))).toBe(
        '401 mfa_challenge_invalid',
      );
      expect(await passwordStep(bob)).toMatchObject({ purpose: 'mfa' });
      // An mfa challenge does not open an enrolment.
      const again = await passwordStep(bob);
      expect(
        outcome(
          await api('POST', '/auth/login/mfa/enroll', { payload: { challenge: again.challenge } }),
        ),
      ).toBe('401 mfa_challenge_invalid');
      const status = (await api('GET', '/auth/mfa', { token: done.json().access_token })).json();
      expect(status).toMatchObject({ required: true, totp: { enabled: true } });
      expect(
        (await api('GET', '/settings', { token: admin.accessToken })).json().mfa_required,
      ).toBe(true);
    } finally {
      const off = await api('PATCH', '/settings', {
        token: admin.accessToken,
        payload: { mfa_required: false },
      });
      expect(off.statusCode).toBe(200);
    }
    expect((await auditActions(admin.id)).map((e) => e.action)).toContain('settings.update');
  });
});

describe('accountdb reset-mfa', () => {
  it('removes the factors of a locked-out user, clears the lockout and audits it', async () => {
    const user = await createUser(t.app, admin);
    await enrol(user);
    const first = await passwordStep(user);
    for (let i = 0; i < 5; i++) await secondStep(first.challenge ?? '', '000000');
    expect(outcome(await login(t.app, user, nextIp()))).toBe('429 login_locked');

    const done = await resetMfa(t.database.ownerDb, user.email.toUpperCase());
    expect(done).toEqual({ userId: user.id, factors: 1 });
    expect((await passwordStep(user)).access_token).toBeTruthy();
    const entry = (await auditActions(user.id)).filter((e) => e.action === 'auth.mfa_reset').at(-1);
    expect(entry?.details).toMatchObject({ via: 'cli', factors: 1 });
    expect(await resetMfa(t.database.ownerDb, 'nobody-at-all')).toBeNull();
  });

  it('cannot be called from a request (the request role has no EXECUTE on it)', async () => {
    const refused = await withTenant(t.database, { kind: 'anonymous' }, (tx) =>
      tx.execute(sql`SELECT * FROM auth_reset_mfa(${bob.username})`),
    ).then(
      () => null,
      (err: { cause?: { code?: string; message?: string } }) => err.cause,
    );
    expect(refused?.code).toBe('42501');
    expect(refused?.message).toMatch(/permission denied for function auth_reset_mfa/);
  });
});

describe('no secret or code leaks', () => {
  it('keeps seeds and recovery codes out of logs, audit entries and error answers', async () => {
    expect(secrets.size).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(10);
    const log = logLines.join('');
    const audit = await allAuditText(t.database);
    const errors = errorBodies.join('\n');
    for (const s of secrets) {
      expect(log).not.toContain(s);
      expect(audit).not.toContain(s);
      expect(errors).not.toContain(s);
    }
    // Nor the codes typed at the second step or the challenges.
    expect(log).not.toMatch(/"code":"\d{6}"/);
    expect(log).not.toContain('"challenge"');
  });
});
