import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtClaims, me, outcome, ownerQuery, refresh } from './helpers/auth-helpers.js';
import {
  bearer,
  createToken,
  createUser,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The audit trail of the auth flows (DESIGN §3 audit_log: logins are audited, details never
 * hold a secret). beforeAll runs every flow once, remembering each password and token it used;
 * the tests then read audit_log as the schema owner, and the captured log lines.
 */
let t: TestApp;
let admin: TestUser;
let user: TestUser;
let ghost: string;
let reusedFamily: string;
let logoutSession: string;
const secrets = new Set<string>();
const logLines: string[] = [];

const remember = (...values: Array<string | undefined>) => {
  for (const v of values) if (v) secrets.add(v);
};

const tokensOf = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  remember(body.access_token, body.refresh_token);
  return { access: body.access_token as string, refresh: body.refresh_token as string };
};

beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  t = await createTestApp({ logStream, config: { logLevel: 'debug' } });

  admin = await setupAdmin(t.app); // auth.setup
  remember(admin.password, admin.accessToken, admin.refreshToken);
  user = await createUser(t.app, admin); // user.create, auth.login
  remember(user.password, user.accessToken, user.refreshToken);
  remember((await createToken(t.app, user)).token);

  // auth.login_failed: an unknown name, and a wrong password for a real user.
  ghost = randomName('ghost');
  const ghostPassword = randomPassword();
  const wrongPassword = randomPassword();
  remember(ghostPassword, wrongPassword);
  expect(outcome(await login(t.app, { username: ghost, password: ghostPassword }))).toBe(
    '401 invalid_credentials',
  );
  expect(outcome(await login(t.app, { username: user.username, password: wrongPassword }))).toBe(
    '401 invalid_credentials',
  );

  // auth.refresh_reuse: rotate, then replay the old token after the 10 s grace. The grace is
  // skipped by moving used_at back directly in the database, as the schema owner.
  const first = tokensOf(await login(t.app, user));
  tokensOf(await refresh(t.app, first.refresh));
  reusedFamily = String(jwtClaims(first.access).sid);
  await ownerQuery(
    t.database,
    `UPDATE refresh_tokens SET used_at = used_at - interval '11 seconds'
     WHERE family_id = $1 AND used_at IS NOT NULL`,
    [reusedFamily],
  );
  expect(outcome(await refresh(t.app, first.refresh))).toBe('401 refresh_token_reused');

  // auth.logout
  const session = tokensOf(await login(t.app, user));
  logoutSession = String(jwtClaims(session.access).sid);
  const out = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: bearer(session.access),
    payload: { refresh_token: session.refresh },
  });
  expect(out.statusCode).toBe(204);

  // auth.password_change (after one refused attempt with a wrong current password).
  const current = tokensOf(await login(t.app, user));
  const newPassword = randomPassword();
  const wrongCurrent = randomPassword();
  remember(newPassword, wrongCurrent);
  const change = (current_password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(current.access),
      payload: { current_password, new_password: newPassword },
    });
  expect(outcome(await change(wrongCurrent))).toBe('400 wrong_password');
  expect((await change(user.password)).statusCode).toBe(204);
  expect((await me(t.app, current.access)).statusCode).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

interface AuditRow {
  owner_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

const auditRows = () => ownerQuery<AuditRow>(t.database, 'SELECT * FROM audit_log ORDER BY at, id');

describe('the audit log of the auth flows', () => {
  it('records setup, logins, failures, logout, refresh reuse and password change', async () => {
    const rows = await auditRows();
    const actions = new Set(rows.map((r) => r.action));
    for (const action of [
      'auth.setup',
      'auth.login',
      'auth.login_failed',
      'auth.logout',
      'auth.refresh_reuse',
      'auth.password_change',
    ]) {
      expect({ action, present: actions.has(action) }).toEqual({ action, present: true });
    }
    for (const row of rows) {
      expect(row.request_id).toEqual(expect.any(String));
      expect(row.ip).toBe('127.0.0.1');
    }
  });

  it('attributes each entry to the right user', async () => {
    const rows = await auditRows();
    expect(rows.find((r) => r.action === 'auth.setup')).toMatchObject({
      owner_id: admin.id,
      actor_id: admin.id,
      entity_id: admin.id,
    });
    const logins = rows.filter((r) => r.action === 'auth.login' && r.owner_id === user.id);
    expect(logins.length).toBeGreaterThanOrEqual(4);
    expect(logins.every((r) => r.actor_type === 'user' && r.entity_type === 'session')).toBe(true);

    const failed = rows.filter((r) => r.action === 'auth.login_failed');
    // An unknown name concerns no user: owner NULL, and nothing points at a user.
    expect(failed).toContainEqual(
      expect.objectContaining({
        owner_id: null,
        actor_type: 'anonymous',
        actor_id: null,
        entity_id: null,
        details: expect.objectContaining({ reason: 'unknown_user' }),
      }),
    );
    expect(failed).toContainEqual(
      expect.objectContaining({
        owner_id: user.id,
        entity_id: user.id,
        details: expect.objectContaining({ reason: 'wrong_password' }),
      }),
    );

    expect(rows.find((r) => r.action === 'auth.refresh_reuse')).toMatchObject({
      owner_id: user.id,
      entity_type: 'session',
      entity_id: reusedFamily,
    });
    expect(rows.find((r) => r.action === 'auth.logout')).toMatchObject({
      owner_id: user.id,
      entity_id: logoutSession,
    });
    const changes = rows.filter((r) => r.action === 'auth.password_change');
    // Only the successful change is recorded as one.
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ owner_id: user.id, actor_id: user.id });
  });

  it('never holds a password, token or password hash', async () => {
    expect(secrets.size).toBeGreaterThanOrEqual(15);
    const rows = await auditRows();
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      const text = JSON.stringify(row);
      for (const secret of secrets) {
        expect({ action: row.action, leaks: text.includes(secret) }).toEqual({
          action: row.action,
          leaks: false,
        });
      }
      expect(text).not.toMatch(/\$argon2/);
      expect(text).not.toMatch(/adb_(rt|pat)_/);
    }
  });

  it('keeps every password and token out of the log, too', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const log = logLines.join('');
    for (const secret of secrets) {
      expect(log.includes(secret)).toBe(false);
    }
    expect(log).not.toMatch(/\$argon2/);
  });
});
