import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, ownerUpdate, problemWithoutRequestId, sleep } from './helpers/auth-helpers.js';
import {
  bearer,
  createUser,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, RELAXED_LIMITS, type TestApp } from './helpers/test-app.js';

/**
 * Lockout with backoff (SECURITY "Authentication and sessions"): 5 consecutive failures lock
 * a name, known or not, and the lock grows with further failures. Rate limits are relaxed so
 * that only the lockout answers here.
 *
 * `t` uses the default policy (5 failures, 30 s doubling to 15 min); `fast` shares its database
 * and JWT key but locks for 1 s doubling to at most 2 s, so a lock can be watched lapsing.
 */
let t: TestApp;
let fast: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await createTestApp({ limits: RELAXED_LIMITS });
  fast = await createTestApp({
    database: t.database,
    config: { jwtSecret: t.config.jwtSecret },
    limits: { ...RELAXED_LIMITS, lockout: { threshold: 5, baseSeconds: 1, maxSeconds: 2 } },
  });
  admin = await setupAdmin(t.app);
});

afterAll(async () => {
  await fast?.close();
  await t?.close();
});

/** n failed logins (wrong password) for a name; returns each answer as "status code". */
async function fail(app: TestApp, username: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(outcome(await login(app.app, { username, password: randomPassword() })));
  }
  return out;
}

const FAILED = '401 invalid_credentials';
const LOCKED = '429 login_locked';

function retryAfter(res: LightMyRequestResponse): number {
  const value = res.headers['retry-after'];
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

const unlock = (user: TestUser) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${user.id}`,
    headers: bearer(admin.accessToken),
    payload: { unlock: true },
  });

describe('lockout (default policy)', () => {
  it('locks a name after 5 consecutive failures, even against the right password', async () => {
    const user = await createUser(t.app, admin);
    // The first five failures are ordinary failures; the fifth starts the lock.
    expect(await fail(t, user.username, 5)).toEqual([FAILED, FAILED, FAILED, FAILED, FAILED]);

    const sixth = await login(t.app, user);
    expect(outcome(sixth)).toBe(LOCKED);
    expect(sixth.headers['content-type']).toMatch(/^application\/problem\+json/);
    const wait = retryAfter(sixth);
    expect(wait).toBeGreaterThanOrEqual(25);
    expect(wait).toBeLessThanOrEqual(30);
    expect(sixth.json()).not.toHaveProperty('access_token');
    expect(sixth.cookies).toEqual([]);

    // The lock is on the name typed, whatever its case. The e-mail is another name with its
    // own count, exactly as for names that belong to nobody: otherwise failures spread over a
    // name and an e-mail would lock only when the two belong to one user, and tell so.
    expect(
      outcome(await login(t.app, { username: user.username.toUpperCase(), password: 'x' })),
    ).toBe(LOCKED);
    expect((await login(t.app, { username: user.email, password: user.password })).statusCode).toBe(
      200,
    );

    const shown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(shown.json().failed_login_count).toBe(5);
    expect(Date.parse(shown.json().locked_until)).toBeGreaterThan(Date.now() + 20_000);
  });

  it('locks an unknown name exactly like a real one', async () => {
    const user = await createUser(t.app, admin);
    const ghost = randomName('ghost');
    const realFailures = await fail(t, user.username, 5);
    const ghostFailures = await fail(t, ghost, 5);
    expect(ghostFailures).toEqual(realFailures);

    const real = await login(t.app, user);
    const unknown = await login(t.app, { username: ghost, password: randomPassword() });
    expect(outcome(real)).toBe(LOCKED);
    expect(outcome(unknown)).toBe(LOCKED);
    expect(problemWithoutRequestId(unknown)).toEqual(problemWithoutRequestId(real));
    expect(Math.abs(retryAfter(unknown) - retryAfter(real))).toBeLessThanOrEqual(1);
    // The unknown name is locked whatever its case.
    expect(outcome(await login(t.app, { username: ghost.toUpperCase(), password: 'x' }))).toBe(
      LOCKED,
    );
    // And a lock on one name leaves other names alone.
    const other = await createUser(t.app, admin);
    expect((await login(t.app, other)).statusCode).toBe(200);
  });

  it('counts a name and an e-mail apart, for real users and for names nobody has', async () => {
    const user = await createUser(t.app, admin);
    const ghost = randomName('ghost');
    const spread = async (name: string, email: string) => [
      ...(await fail(t, name, 3)),
      ...(await fail(t, email, 2)),
      outcome(await login(t.app, { username: name, password: randomPassword() })),
      outcome(await login(t.app, { username: email, password: randomPassword() })),
    ];
    const real = await spread(user.username, user.email);
    const unknown = await spread(ghost, `${ghost}@example.com`);
    // Neither pair locks: 4 failures on the name, 3 on the e-mail. Before, the real pair was
    // locked on its fifth failure and the unknown pair was not: a (name, e-mail) pair could be
    // confirmed by its lock.
    expect(real).toEqual(Array(7).fill(FAILED));
    expect(unknown).toEqual(real);
  });

  it('checks at most 5 of 10 parallel wrong logins: the check and the count are one step', async () => {
    const user = await createUser(t.app, admin);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        login(t.app, { username: user.username, password: randomPassword() }),
      ),
    );
    const outcomes = answers.map(outcome).sort();
    expect(outcomes).toEqual([...Array(5).fill(FAILED), ...Array(5).fill(LOCKED)]);
    const shown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(shown.json().failed_login_count).toBe(5);
  });

  it('resets the count on a successful login', async () => {
    const user = await createUser(t.app, admin);
    expect(await fail(t, user.username, 4)).toEqual([FAILED, FAILED, FAILED, FAILED]);
    expect((await login(t.app, user)).statusCode).toBe(200);
    // Without the reset, the first of these would be the fifth consecutive failure.
    expect(await fail(t, user.username, 4)).toEqual([FAILED, FAILED, FAILED, FAILED]);
    expect((await login(t.app, user)).statusCode).toBe(200);
  });

  it('is cleared by an admin with PATCH /users/{id} {unlock: true}', async () => {
    const user = await createUser(t.app, admin);
    await fail(t, user.username, 5);
    expect(outcome(await login(t.app, user))).toBe(LOCKED);

    // A user cannot unlock themselves (or anyone).
    const self = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(user.accessToken),
      payload: { unlock: true },
    });
    expect(outcome(self)).toBe('403 admin_only');
    expect(outcome(await login(t.app, user))).toBe(LOCKED);

    const res = await unlock(user);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ failed_login_count: 0, locked_until: null });
    expect((await login(t.app, user)).statusCode).toBe(200);
    // The count starts over: four more failures do not lock.
    expect(await fail(t, user.username, 4)).toEqual([FAILED, FAILED, FAILED, FAILED]);
    expect((await login(t.app, user)).statusCode).toBe(200);
  });
});

describe('lockout backoff (1 s, doubling, at most 2 s)', () => {
  it('lapses after the backoff and grows with further failures, for known and unknown names', async () => {
    const lapsing = await createUser(fast.app, admin);
    const growing = await createUser(fast.app, admin);
    const ghost = randomName('ghost');

    for (const name of [lapsing.username, growing.username, ghost]) {
      expect(await fail(fast, name, 5)).toEqual([FAILED, FAILED, FAILED, FAILED, FAILED]);
      const locked = await login(fast.app, { username: name, password: randomPassword() });
      expect(outcome(locked)).toBe(LOCKED);
      expect(retryAfter(locked)).toBe(1);
      // The right password is refused too while the lock holds (asked at once: the lock is 1 s,
      // and the other names' logins may take longer than that on a busy machine).
      if (name === lapsing.username) expect(outcome(await login(fast.app, lapsing))).toBe(LOCKED);
    }

    await sleep(1_200);

    // The lock has lapsed: the right password logs in (and resets the count).
    expect((await login(fast.app, lapsing)).statusCode).toBe(200);
    expect(await fail(fast, lapsing.username, 1)).toEqual([FAILED]);

    // One more failure after a lapsed lock locks again, for twice as long.
    for (const name of [growing.username, ghost]) {
      expect(await fail(fast, name, 1)).toEqual([FAILED]);
      const again = await login(fast.app, { username: name, password: randomPassword() });
      expect(outcome(again)).toBe(LOCKED);
      expect(retryAfter(again)).toBe(2);
    }

    // The next step would be 4 s; maxSeconds caps it at 2. Instead of waiting 2 s for the
    // lock to lapse, move its end into the past directly as the schema owner.
    const moved = await ownerUpdate(
      t.database,
      `UPDATE login_lockouts SET locked_until = now() - interval '1 second' WHERE login_key = lower($1)`,
      [growing.username],
    );
    expect(moved).toBe(1);
    expect(await fail(fast, growing.username, 1)).toEqual([FAILED]);
    const capped = await login(fast.app, growing);
    expect(outcome(capped)).toBe(LOCKED);
    expect(retryAfter(capped)).toBe(2);
  });
});
