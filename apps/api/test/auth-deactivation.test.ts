import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { me, outcome, ownerQuery, ownerUpdate, refresh } from './helpers/auth-helpers.js';
import {
  bearer,
  createToken,
  createUser,
  login,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Deactivation and role changes take effect on the very next request (SECURITY
 * "Authentication and sessions"), for access tokens, refresh tokens and personal tokens alike.
 */
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await setupAdmin(t.app);
});

afterAll(async () => {
  await t?.close();
});

const patchUser = (id: string, body: Record<string, unknown>) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${id}`,
    headers: bearer(admin.accessToken),
    payload: body,
  });

const listUsers = (token: string) =>
  t.app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(token) });

describe('deactivation', () => {
  it('refuses the access, refresh and personal tokens of a deactivated user at once', async () => {
    const user = await createUser(t.app, admin);
    const pat = await createToken(t.app, user, { scopes: ['read', 'write'] });
    const second = (await login(t.app, user)).json();
    // All of them work before.
    expect((await me(t.app, user.accessToken)).statusCode).toBe(200);
    expect((await me(t.app, pat.token)).statusCode).toBe(200);

    const off = await patchUser(user.id, { is_active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().is_active).toBe(false);

    expect(outcome(await me(t.app, user.accessToken))).toBe('401 invalid_token');
    expect(outcome(await me(t.app, second.access_token))).toBe('401 invalid_token');
    expect(outcome(await me(t.app, pat.token))).toBe('401 invalid_token');
    expect(outcome(await refresh(t.app, user.refreshToken))).toBe('401 invalid_refresh_token');
    expect(outcome(await refresh(t.app, second.refresh_token))).toBe('401 invalid_refresh_token');
    expect(outcome(await login(t.app, user))).toBe('401 invalid_credentials');

    // Reactivated, the user may log in again, but the sessions that were ended stay ended.
    expect((await patchUser(user.id, { is_active: true })).statusCode).toBe(200);
    expect((await login(t.app, user)).statusCode).toBe(200);
    expect(outcome(await me(t.app, user.accessToken))).toBe('401 invalid_token');
    expect(outcome(await refresh(t.app, second.refresh_token))).toBe('401 invalid_refresh_token');
  });

  it('refuses the tokens of a user deactivated outside the API, with sessions still open', async () => {
    const user = await createUser(t.app, admin);
    // Deactivated directly in the database as the schema owner (as an operator might), so no
    // session is ended: the per-request check of is_active alone must refuse the tokens.
    const changed = await ownerUpdate(
      t.database,
      'UPDATE users SET is_active = false WHERE id = $1',
      [user.id],
    );
    expect(changed).toBe(1);
    const [open] = await ownerQuery<{ n: number }>(
      t.database,
      'SELECT count(*)::int AS n FROM refresh_tokens WHERE owner_id = $1 AND revoked_at IS NULL',
      [user.id],
    );
    expect(open?.n).toBeGreaterThan(0);
    expect(outcome(await me(t.app, user.accessToken))).toBe('401 invalid_token');
    expect(outcome(await refresh(t.app, user.refreshToken))).toBe('401 invalid_refresh_token');
  });

  it('does not let a user deactivate themselves or anyone else', async () => {
    const user = await createUser(t.app, admin);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(user.accessToken),
      payload: { is_active: false },
    });
    expect(outcome(res)).toBe('403 admin_only');
    expect((await me(t.app, user.accessToken)).statusCode).toBe(200);
  });
});

describe('role changes', () => {
  it('demotes an admin on their very next request, session and personal token alike', async () => {
    const second = await createUser(t.app, admin, { role: 'admin' });
    const pat = await createToken(t.app, second, { scopes: ['read'] });
    expect((await listUsers(second.accessToken)).statusCode).toBe(200);
    expect((await listUsers(pat.token)).statusCode).toBe(200);

    const res = await patchUser(second.id, { role: 'user' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().role).toBe('user');

    expect(outcome(await listUsers(second.accessToken))).toBe('403 admin_only');
    expect(outcome(await listUsers(pat.token))).toBe('403 admin_only');
    const meRes = await me(t.app, second.accessToken);
    expect(meRes.statusCode).toBe(200);
    expect(meRes.json().user.role).toBe('user');
    // The other admin routes are closed to them too.
    const other = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${admin.id}`,
      headers: bearer(second.accessToken),
    });
    expect(outcome(other)).toBe('403 admin_only');
  });

  it('promotes a user on their very next request', async () => {
    const user = await createUser(t.app, admin);
    expect(outcome(await listUsers(user.accessToken))).toBe('403 admin_only');
    expect((await patchUser(user.id, { role: 'admin' })).statusCode).toBe(200);
    expect((await listUsers(user.accessToken)).statusCode).toBe(200);
    // Demote again so the admin count stays as the other tests expect.
    expect((await patchUser(user.id, { role: 'user' })).statusCode).toBe(200);
    expect(outcome(await listUsers(user.accessToken))).toBe('403 admin_only');
  });
});
