import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { me, ownerQuery } from './helpers/auth-helpers.js';
import { bearer, login, randomName, randomPassword } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * First-admin setup: GET /auth/setup and POST /auth/setup (DESIGN §5 "Auth"). Two apps, each
 * over its own empty database: one for the ordinary sequence, one for racing setups.
 */
let t: TestApp;
let race: TestApp;

beforeAll(async () => {
  [t, race] = await Promise.all([createTestApp(), createTestApp()]);
});

afterAll(async () => {
  await Promise.all([t?.close(), race?.close()]);
});

const status = (app: TestApp) => app.app.inject({ method: 'GET', url: '/api/v1/auth/setup' });

const newAdmin = () => {
  const username = randomName('admin');
  return { username, email: `${username}@example.com`, password: randomPassword() };
};

const setup = (app: TestApp, body: Record<string, unknown>) =>
  app.app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: body });

const userCount = async (app: TestApp) =>
  (await ownerQuery<{ n: number }>(app.database, 'SELECT count(*)::int AS n FROM users'))[0]?.n;

/**
 * Runs `go` so that its `waiters` setups really overlap. On PostgreSQL, a separate connection
 * holds an exclusive lock on users until every setup is waiting for it, then lets them all go
 * at once: without the setup function's own table lock each would then see no user and insert
 * an admin of its own. PGlite runs one statement at a time, so there `go` simply runs.
 */
async function released<T>(app: TestApp, waiters: number, go: () => Promise<T>): Promise<T> {
  if (!app.database.url) return go();
  const holder = new pg.Client({ connectionString: app.database.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const running = go();
    for (let i = 0; ; i++) {
      // Inside a transaction pg_stat_activity is a snapshot taken at first use: clear it.
      await holder.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if ((rows[0]?.n ?? 0) >= waiters) break;
      if (i > 400) throw new Error('the racing setups never reached the users table');
      await new Promise((r) => setTimeout(r, 25));
    }
    await holder.query('COMMIT');
    return await running;
  } finally {
    await holder.end();
  }
}

describe('first-admin setup', () => {
  it('reports setup as needed on an empty database', async () => {
    const res = await status(t);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ needed: true, registration_open: false });
  });

  it('refuses a body that breaks the rules, and creates nobody', async () => {
    const short = await setup(t, { ...newAdmin(), password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().code).toBe('validation_error');
    expect(short.json().errors).toContainEqual(expect.objectContaining({ path: '/body/password' }));

    const extra = await setup(t, { ...newAdmin(), role: 'user' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors).toContainEqual(expect.objectContaining({ path: '/body/role' }));

    expect(await userCount(t)).toBe(0);
    expect((await status(t)).json().needed).toBe(true);
  });

  it('creates the first admin and logs them in (201)', async () => {
    const body = newAdmin();
    const res = await setup(t, body);
    expect(res.statusCode, res.body).toBe(201);
    const json = res.json();
    expect(json).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^adb_rt_/),
      access_token: expect.any(String),
      user: { username: body.username, email: body.email, role: 'admin', is_active: true },
    });
    expect(json.user).not.toHaveProperty('password_hash');
    // Setup is the admin's first login: "last login" is now, not "never".
    const sinceLogin = Date.now() - Date.parse(json.user.last_login_at);
    expect(sinceLogin).toBeGreaterThanOrEqual(-5_000);
    expect(sinceLogin).toBeLessThan(60_000);

    // The tokens are real: the access token reaches an admin-only route.
    const meRes = await me(t.app, json.access_token);
    expect(meRes.statusCode).toBe(200);
    expect(meRes.json().user).toMatchObject({ id: json.user.id, role: 'admin' });
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: bearer(json.access_token),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBe(1);

    // And the password works for a normal login.
    expect((await login(t.app, body)).statusCode).toBe(200);
    const [row] = await ownerQuery<{ role: string; password_hash: string }>(
      t.database,
      'SELECT role, password_hash FROM users WHERE id = $1',
      [json.user.id],
    );
    expect(row?.role).toBe('admin');
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    expect(row?.password_hash).not.toContain(body.password);
  });

  it('reports setup as done afterwards', async () => {
    const res = await status(t);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ needed: false, registration_open: false });
  });

  it('refuses a second setup with 409 setup_done and creates nobody', async () => {
    const res = await setup(t, newAdmin());
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 409, code: 'setup_done' });
    expect(res.json()).not.toHaveProperty('access_token');
    expect(await userCount(t)).toBe(1);
  });

  it('creates exactly one admin when several setups race on an empty database', async () => {
    expect((await status(race)).json().needed).toBe(true);
    const bodies = Array.from({ length: 4 }, newAdmin);
    const answers = await released(race, bodies.length, () =>
      Promise.all(bodies.map((b) => setup(race, b))),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    for (const a of answers.filter((x) => x.statusCode === 409)) {
      expect(a.json().code).toBe('setup_done');
    }
    const rows = await ownerQuery<{ username: string; role: string }>(
      race.database,
      'SELECT username, role FROM users',
    );
    const winner = answers.find((a) => a.statusCode === 201)?.json();
    expect(rows).toEqual([{ username: winner.user.username, role: 'admin' }]);
    expect((await status(race)).json().needed).toBe(false);
  });
});
