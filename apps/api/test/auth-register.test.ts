import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerQuery } from './helpers/auth-helpers.js';
import {
  bearer,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * POST /auth/register: only with ACCOUNTDB_REGISTRATION=open, always a plain user. Two apps
 * over one database: the default (closed) and one configured with registration open.
 */
let closed: TestApp;
let open: TestApp;
let admin: TestUser;

beforeAll(async () => {
  closed = await createTestApp();
  open = await createTestApp({ database: closed.database, config: { registration: 'open' } });
  admin = await setupAdmin(closed.app);
});

afterAll(async () => {
  await open?.close();
  await closed?.close();
});

const newUser = () => {
  const username = randomName('reg');
  return { username, email: `${username}@example.com`, password: randomPassword() };
};

const register = (app: TestApp, body: Record<string, unknown>) =>
  app.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });

const usersNamed = async (username: string) =>
  ownerQuery<{ id: string; role: string }>(
    closed.database,
    'SELECT id, role FROM users WHERE lower(username) = lower($1)',
    [username],
  );

describe('registration', () => {
  it('is closed by default: 403 registration_closed, nobody created', async () => {
    const status = await closed.app.inject({ method: 'GET', url: '/api/v1/auth/setup' });
    expect(status.json()).toEqual({ needed: false, registration_open: false });

    const body = newUser();
    const res = await register(closed, body);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ status: 403, code: 'registration_closed' });
    expect(await usersNamed(body.username)).toEqual([]);
    expect((await login(closed.app, body)).statusCode).toBe(401);
  });

  it('reports registration_open when it is open', async () => {
    const res = await open.app.inject({ method: 'GET', url: '/api/v1/auth/setup' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ needed: false, registration_open: true });
  });

  it('creates a plain user when open, who can then log in but is no admin', async () => {
    const body = newUser();
    const res = await register(open, body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().user).toMatchObject({
      username: body.username,
      email: body.email,
      role: 'user',
      is_active: true,
    });
    expect(res.json().user).not.toHaveProperty('password_hash');
    expect(await usersNamed(body.username)).toEqual([{ id: res.json().user.id, role: 'user' }]);

    const session = await login(open.app, body);
    expect(session.statusCode).toBe(200);
    const list = await open.app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: bearer(session.json().access_token),
    });
    expect(list.statusCode).toBe(403);
    expect(list.json().code).toBe('admin_only');
  });

  it('cannot be used to ask for the admin role', async () => {
    const body = { ...newUser(), role: 'admin' };
    const res = await register(open, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
    expect(res.json().errors).toContainEqual(expect.objectContaining({ path: '/body/role' }));
    expect(await usersNamed(body.username)).toEqual([]);
  });

  it('refuses a taken username, ignoring case, with 409 username_taken', async () => {
    const first = newUser();
    expect((await register(open, first)).statusCode).toBe(201);
    const again = { ...newUser(), username: first.username.toUpperCase() };
    const res = await register(open, again);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'username_taken' });
    expect(res.json().errors).toEqual([{ path: '/body/username', message: expect.any(String) }]);
    // No SQL detail or constraint name in the answer.
    expect(res.body).not.toMatch(/users_|constraint|duplicate key/i);
    expect(await usersNamed(first.username)).toHaveLength(1);

    // An admin's username is just as taken.
    const adminClash = await register(open, { ...newUser(), username: admin.username });
    expect(adminClash.statusCode).toBe(409);
    expect(adminClash.json().code).toBe('username_taken');
  });

  it('refuses a taken e-mail, ignoring case, with 409 email_taken', async () => {
    const first = newUser();
    expect((await register(open, first)).statusCode).toBe(201);
    const res = await register(open, { ...newUser(), email: first.email.toUpperCase() });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'email_taken' });
    expect(res.json().errors).toEqual([{ path: '/body/email', message: expect.any(String) }]);
  });

  it('names the field of a password that is too short', async () => {
    const res = await register(open, { ...newUser(), password: 'elevenchars' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
    expect(res.json().errors).toContainEqual(expect.objectContaining({ path: '/body/password' }));
  });
});

describe('registration before setup', () => {
  it('refuses to register anyone until first-admin setup made the admin', async () => {
    const empty = await createTestApp({ config: { registration: 'open' } });
    try {
      const res = await register(empty, newUser());
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('setup_required');
      const setup = await empty.app.inject({ method: 'GET', url: '/api/v1/auth/setup' });
      expect(setup.json()).toMatchObject({ needed: true, registration_open: true });
    } finally {
      await empty.close();
    }
  });
});
