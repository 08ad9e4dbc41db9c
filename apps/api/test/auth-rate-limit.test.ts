import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, refresh } from './helpers/auth-helpers.js';
import {
  createUser,
  login,
  randomName,
  randomPassword,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Login throttling per client IP and per attempted name (SECURITY "Authentication and
 * sessions": throttle per account and per IP; a 429 carries Retry-After; X-Forwarded-For is
 * trusted only from a configured proxy). Three apps over one database, each with its own
 * in-memory rate-limit counters. The IPs used below are used nowhere else in this file.
 */
let perIp: TestApp;
let perName: TestApp;
let proxied: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

const PROXY = '10.99.0.1';

beforeAll(async () => {
  perIp = await createTestApp({ limits: { loginPerIp: 5, loginPerName: 1000 } });
  const shared = { database: perIp.database, config: { jwtSecret: perIp.config.jwtSecret } };
  perName = await createTestApp({ ...shared, limits: { loginPerIp: 1000, loginPerName: 3 } });
  proxied = await createTestApp({
    database: perIp.database,
    config: { jwtSecret: perIp.config.jwtSecret, trustProxy: [PROXY] },
    limits: { loginPerIp: 5, loginPerName: 1000 },
  });
  // Setup and the users' first logins go through perIp from 127.0.0.1 (2 of its 5).
  admin = await setupAdmin(perIp.app);
  alice = await createUser(perIp.app, admin);
  bob = await createUser(perIp.app, admin);
});

afterAll(async () => {
  await proxied?.close();
  await perName?.close();
  await perIp?.close();
});

const RATE_LIMITED = '429 rate_limited';

function expectRateLimited(res: LightMyRequestResponse): void {
  expect(outcome(res)).toBe(RATE_LIMITED);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const retryAfter = String(res.headers['retry-after']);
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  expect(res.json()).not.toHaveProperty('access_token');
}

describe('login rate limit per IP (5 a minute)', () => {
  it('refuses the 6th login from one IP, even a correct one, while another IP still works', async () => {
    const ip = '10.1.0.1';
    const answers: string[] = [];
    // Successes count as much as failures; names vary so that no per-name rule applies.
    answers.push(outcome(await login(perIp.app, alice, ip)));
    for (let i = 0; i < 3; i++) {
      answers.push(
        outcome(
          await login(perIp.app, { username: randomName('ghost'), password: randomPassword() }, ip),
        ),
      );
    }
    answers.push(outcome(await login(perIp.app, bob, ip)));
    expect(answers).toEqual([
      '200',
      '401 invalid_credentials',
      '401 invalid_credentials',
      '401 invalid_credentials',
      '200',
    ]);

    const sixth = await login(perIp.app, alice, ip);
    expectRateLimited(sixth);
    expectRateLimited(await login(perIp.app, bob, ip));

    expect((await login(perIp.app, alice, '10.1.0.2')).statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For from a client that is not a configured proxy', async () => {
    const ip = '10.1.0.3';
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await perIp.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: alice.username, password: alice.password },
        remoteAddress: ip,
        headers: { 'x-forwarded-for': `192.0.2.${i + 1}` },
      });
      answers.push(outcome(res));
    }
    expect(answers).toEqual(['200', '200', '200', '200', '200', RATE_LIMITED]);
  });

  it('counts the forwarded client address when the request comes from the configured proxy', async () => {
    const viaProxy = (client: string) =>
      proxied.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: alice.username, password: alice.password },
        remoteAddress: PROXY,
        headers: { 'x-forwarded-for': client },
      });
    // Six clients behind the proxy: one login each, none limited.
    for (let i = 1; i <= 6; i++) expect((await viaProxy(`198.51.100.${i}`)).statusCode).toBe(200);
    // One client behind the proxy: its sixth is limited.
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(outcome(await viaProxy('198.51.100.77')));
    expect(answers).toEqual(['200', '200', '200', '200', '200', RATE_LIMITED]);
  });
});

describe('login rate limit per name (3 a minute, from anywhere)', () => {
  it('refuses the 4th attempt on one name from different IPs while another name works', async () => {
    const user = await createUser(perIp.app, admin);
    const answers: string[] = [];
    for (let i = 1; i <= 3; i++) {
      answers.push(
        outcome(
          await login(
            perName.app,
            { username: user.username, password: randomPassword() },
            `10.2.0.${i}`,
          ),
        ),
      );
    }
    expect(answers).toEqual([
      '401 invalid_credentials',
      '401 invalid_credentials',
      '401 invalid_credentials',
    ]);
    // The right password from a fresh IP: still refused, the name has had its three tries.
    expectRateLimited(await login(perName.app, user, '10.2.0.4'));
    // The name is counted whatever its case.
    expectRateLimited(
      await login(
        perName.app,
        { username: user.username.toUpperCase(), password: user.password },
        '10.2.0.5',
      ),
    );

    expect((await login(perName.app, bob, '10.2.0.4')).statusCode).toBe(200);
  });

  it('limits an unknown name the same way', async () => {
    const ghost = randomName('ghost');
    const answers: string[] = [];
    for (let i = 1; i <= 4; i++) {
      answers.push(
        outcome(
          await login(perName.app, { username: ghost, password: randomPassword() }, `10.3.0.${i}`),
        ),
      );
    }
    expect(answers).toEqual([
      '401 invalid_credentials',
      '401 invalid_credentials',
      '401 invalid_credentials',
      RATE_LIMITED,
    ]);
  });
});

describe('refresh rate limit per IP, apart from logins', () => {
  it('lets a user reload pages (a refresh each) without using up the login attempts', async () => {
    const ip = '10.4.0.1';
    const first = await login(perIp.app, alice, ip);
    expect(first.statusCode).toBe(200);
    let token = first.json().refresh_token as string;
    // Twice the login limit of 5 in refreshes from the same address.
    for (let i = 0; i < 10; i++) {
      const res = await refresh(perIp.app, token, ip);
      expect(outcome(res), `refresh ${i + 1}`).toBe('200');
      token = res.json().refresh_token as string;
    }
    // Logins from that address still have their own 4 left.
    expect((await login(perIp.app, bob, ip)).statusCode).toBe(200);
  });

  it('answers 429 rate_limited past its own limit', async () => {
    const limited = await createTestApp({
      database: perIp.database,
      config: { jwtSecret: perIp.config.jwtSecret },
      limits: { loginPerIp: 1000, loginPerName: 1000, refreshPerIp: 3 },
    });
    try {
      const ip = '10.4.0.2';
      let token = (await login(limited.app, alice, ip)).json().refresh_token as string;
      for (let i = 0; i < 3; i++) {
        const res = await refresh(limited.app, token, ip);
        expect(outcome(res)).toBe('200');
        token = res.json().refresh_token as string;
      }
      expectRateLimited(await refresh(limited.app, token, ip));
      expect(outcome(await refresh(limited.app, token, '10.4.0.3'))).toBe('200');
    } finally {
      await limited.close();
    }
  });
});
