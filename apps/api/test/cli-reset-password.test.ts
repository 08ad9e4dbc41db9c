import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetPassword } from '../src/cli/reset-password.js';
import { hashPassword } from '../src/crypto/passwords.js';
import { withTenant } from '../src/db/tenant.js';
import { outcome, refresh } from './helpers/auth-helpers.js';
import { login, randomPassword, type TestUser } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * `accountdb reset-password` (migration 0004's owner-only function), on both databases: the
 * new password works, the old one and every session of the user end, a lockout is cleared,
 * the audit log has the reset, another user is untouched, and no API request can call it.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  ({ t, alice, bob } = await twoUsers());
});
afterAll(async () => t?.close());

describe('accountdb reset-password', () => {
  it('sets the password, ends the sessions, clears the lockout and audits it', async () => {
    // Alice has a session and is locked out after wrong passwords.
    for (let i = 0; i < 6; i++) {
      await login(t.app, { username: alice.username, password: 'wrong wrong wrong' }, '10.9.0.1');
    }
    expect(outcome(await login(t.app, alice, '10.9.0.2'))).toBe('429 login_locked');

    const newPassword = randomPassword();
    const id = await resetPassword(t.database.ownerDb, {
      login: alice.email.toUpperCase(),
      passwordHash: await hashPassword(newPassword),
    });
    expect(id).toBe(alice.id);

    expect(outcome(await refresh(t.app, alice.refreshToken))).toMatch(/^401/);
    expect(outcome(await login(t.app, alice, '10.9.0.3'))).toBe('401 invalid_credentials');
    expect(
      outcome(await login(t.app, { username: alice.username, password: newPassword }, '10.9.0.4')),
    ).toBe('200');
    // Bob is untouched.
    expect(outcome(await refresh(t.app, bob.refreshToken))).toBe('200');

    const [entry] = await ownerQuery<{ actor_type: string; details: Record<string, unknown> }>(
      t.database,
      `SELECT actor_type, details FROM audit_log WHERE action = 'user.update' AND entity_id = '${alice.id}' ORDER BY at DESC LIMIT 1`,
    );
    expect(entry?.actor_type).toBe('system');
    expect(entry?.details).toMatchObject({ password_reset: true, via: 'cli' });
    expect(JSON.stringify(entry)).not.toContain(newPassword);
  });

  it('answers null for an unknown user', async () => {
    expect(
      await resetPassword(t.database.ownerDb, { login: 'nobody-at-all', passwordHash: 'x' }),
    ).toBeNull();
  });

  it('cannot be called from a request (the request role has no EXECUTE on it)', async () => {
    const refused = await withTenant(t.database, { kind: 'anonymous' }, (tx) =>
      tx.execute(sql`SELECT auth_reset_password(${bob.username}, 'x')`),
    ).then(
      () => null,
      (err: { cause?: { code?: string; message?: string } }) => err.cause,
    );
    expect(refused?.code).toBe('42501');
    expect(refused?.message).toMatch(/permission denied for function auth_reset_password/);
    expect(outcome(await login(t.app, bob, '10.9.0.5'))).toBe('200');
  });
});
