import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { randomName, randomPassword } from './factories.js';
import { baseEnv, freePort, type Server, start, waitHealthy } from './server-process.js';

/**
 * A real API process on a given PostgreSQL URL, with fixed keys so a restarted process reads
 * what the previous one wrote, plus plain HTTP calls against it: for fault tests that kill
 * the process or cut its database.
 */

export interface ApiKeys {
  ACCOUNTDB_SECRET_KEY: string;
  ACCOUNTDB_JWT_SECRET: string;
}

export const newKeys = (): ApiKeys => ({
  ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
  ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
});

export async function startApi(databaseUrl: string, keys: ApiKeys): Promise<Server> {
  const port = await freePort();
  const server = start(
    {
      ...baseEnv(),
      ...keys,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
    },
    port,
  );
  await waitHealthy(server);
  return server;
}

export interface Answer {
  status: number;
  contentType: string;
  retryAfter: string | null;
  text: string;
  json: () => unknown;
}

/** One request to /api/v1 with a bearer token; a network failure rejects. */
export async function call(
  server: Server,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  options: { timeoutMs?: number } = {},
): Promise<Answer> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    text,
    json: () => JSON.parse(text),
  };
}

export interface ApiUser {
  id: string;
  username: string;
  token: string;
}

/** A new user with the role `user`, created by an admin: its name and password. */
export async function createUser(
  server: Server,
  options: { adminToken: string; prefix?: string },
): Promise<{ username: string; password: string }> {
  const username = randomName(options.prefix ?? 'user');
  const password = randomPassword();
  const created = await call(server, options.adminToken, 'POST', '/users', {
    username,
    email: `${username}@example.com`,
    password,
    role: 'user',
  });
  expect(created.status, created.text).toBe(201);
  return { username, password };
}

/** First-admin setup, then `count` users created by the admin, each logged in. */
export async function setupUsers(
  server: Server,
  count: number,
): Promise<{ admin: ApiUser; users: ApiUser[] }> {
  const adminName = randomName('admin');
  const setup = await call(server, null, 'POST', '/auth/setup', {
    username: adminName,
    email: `${adminName}@example.com`,
    password: randomPassword(),
  });
  expect(setup.status, setup.text).toBe(201);
  const s = setup.json() as { access_token: string; user: { id: string } };
  const admin = { id: s.user.id, username: adminName, token: s.access_token };
  const users: ApiUser[] = [];
  for (let i = 0; i < count; i++) {
    const { username, password } = await createUser(server, { adminToken: admin.token });
    const login = await call(server, null, 'POST', '/auth/login', { username, password });
    expect(login.status, login.text).toBe(200);
    const l = login.json() as { access_token: string; user: { id: string } };
    users.push({ id: l.user.id, username, token: l.access_token });
  }
  return { admin, users };
}
