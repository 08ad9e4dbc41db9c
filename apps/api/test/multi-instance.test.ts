import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  baseEnv,
  freePort,
  killServers,
  type Server,
  start,
  stop,
  waitHealthy,
} from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * Several API processes on one PostgreSQL: with REDIS_URL they share the rate limits (a
 * client cannot multiply its login attempts by spreading them over instances), and any
 * instance gives the same answer for the same request. Without REDIS_URL each counts alone,
 * which the last test shows, so the first one cannot pass by accident. Needs real PostgreSQL
 * (the embedded database belongs to one process) and Redis on 127.0.0.1:6379, as in CI.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LOGIN_PER_IP = 20; // DEFAULT_AUTH_LIMITS.loginPerIp

afterEach(killServers);

describe.skipIf(!inject('pgTemplate'))('several API instances on one database', () => {
  let database: TestDatabase;
  const keys = {
    ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
    ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  async function instances(count: number, redis: boolean): Promise<Server[]> {
    const servers: Server[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      servers.push(
        start(
          {
            ...baseEnv(),
            ...keys,
            NODE_ENV: 'test',
            LOG_LEVEL: 'warn',
            DATABASE_URL: database.url ?? '',
            API_HOST: '127.0.0.1',
            API_PORT: String(port),
            // The test stands in for a load balancer: it tells each instance the client address.
            TRUST_PROXY: 'loopback',
            ...(redis ? { REDIS_URL } : {}),
          },
          port,
        ),
      );
    }
    await Promise.all(servers.map(waitHealthy));
    return servers;
  }

  /** A failed login from `ip` against `server`: 401 until the per-address limit, then 429. */
  async function failedLogin(server: Server, ip: string): Promise<number> {
    const res = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      // A new unknown name each time: only the per-address limit applies.
      body: JSON.stringify({ username: `nobody-${randomBytes(6).toString('hex')}`, password: 'x' }),
    });
    return res.status;
  }

  const randomIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0] ?? 0).join('.')}`;

  it('share login rate limits through Redis and answer alike', async () => {
    const [a, b] = (await instances(2, true)) as [Server, Server];
    try {
      // Setup on one instance, its token works on the other (same keys, same database).
      const setup = await fetch(`${a.url}/api/v1/auth/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'admin',
          email: 'admin@example.com',
          password: 'correct horse battery',
        }),
      });
      expect(setup.status).toBe(201);
      const { access_token: token } = (await setup.json()) as { access_token: string };
      const auth = { authorization: `Bearer ${token}` };
      const created = await fetch(`${a.url}/api/v1/accounts`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'shared-1', service: 'steam', password: 'p4ss' }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      for (const path of [`/accounts/${id}`, '/accounts?limit=10', '/dashboard']) {
        const [fromA, fromB] = await Promise.all(
          [a, b].map((s) => fetch(`${s.url}/api/v1${path}`, { headers: auth })),
        );
        expect(fromA?.status, path).toBe(200);
        expect(fromB?.status, path).toBe(200);
        if (path.startsWith('/accounts/')) {
          expect(fromB?.headers.get('etag')).toBe(fromA?.headers.get('etag'));
        }
        const [bodyA, bodyB] = await Promise.all([fromA?.json(), fromB?.json()]);
        if (path === '/dashboard') {
          // Recent activity and counts, not the clock-dependent parts.
          expect((bodyB as { accounts: unknown }).accounts).toEqual(
            (bodyA as { accounts: unknown }).accounts,
          );
        } else {
          expect(bodyB, path).toEqual(bodyA);
        }
      }

      // Attempts from one address, alternating between the instances: the limit is one.
      const ip = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i < LOGIN_PER_IP; i++) statuses.push(await failedLogin(i % 2 ? b : a, ip));
      expect(
        statuses.every((s) => s === 401),
        statuses.join(','),
      ).toBe(true);
      expect(await failedLogin(a, ip)).toBe(429);
      expect(await failedLogin(b, ip)).toBe(429);
      // Another address is not affected.
      expect(await failedLogin(b, randomIp())).toBe(401);
    } finally {
      await Promise.all([stop(a), stop(b)]);
    }
  }, 120_000);

  it('count alone without Redis (the control: here spreading attempts doubles them)', async () => {
    const [a, b] = (await instances(2, false)) as [Server, Server];
    try {
      const ip = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i < LOGIN_PER_IP + 2; i++) {
        statuses.push(await failedLogin(i % 2 ? b : a, ip));
      }
      expect(
        statuses.every((s) => s === 401),
        statuses.join(','),
      ).toBe(true);
    } finally {
      await Promise.all([stop(a), stop(b)]);
    }
  }, 120_000);
});
