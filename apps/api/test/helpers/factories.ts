import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/** A random name with a readable prefix: unique per call. */
export function randomName(prefix = 'user'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export const randomPassword = (): string => `pw ${randomBytes(9).toString('base64url')} long`;

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  role: 'admin' | 'user';
  accessToken: string;
  refreshToken: string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Runs first-admin setup; returns the admin, logged in. */
export async function setupAdmin(app: FastifyInstance): Promise<TestUser> {
  const username = randomName('admin');
  const password = randomPassword();
  const email = `${username}@example.com`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/setup',
    payload: { username, email, password },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json();
  return {
    id: body.user.id,
    username,
    email,
    password,
    role: 'admin',
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
  };
}

export async function login(
  app: FastifyInstance,
  credentials: { username: string; password: string },
  remoteAddress = '127.0.0.1',
) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: credentials.username, password: credentials.password },
    remoteAddress,
  });
}

/** An admin creates a user, who then logs in. */
export async function createUser(
  app: FastifyInstance,
  admin: TestUser,
  options: { role?: 'admin' | 'user' } = {},
): Promise<TestUser> {
  const username = randomName(options.role ?? 'user');
  const password = randomPassword();
  const email = `${username}@example.com`;
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: bearer(admin.accessToken),
    payload: { username, email, password, role: options.role ?? 'user' },
  });
  expect(created.statusCode, created.body).toBe(201);
  const res = await login(app, { username, password });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  return {
    id: body.user.id,
    username,
    email,
    password,
    role: options.role ?? 'user',
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
  };
}

/** Creates a personal access token for a logged-in user. */
export async function createToken(
  app: FastifyInstance,
  user: TestUser,
  options: { scopes?: Array<'read' | 'write'>; name?: string; expires_in_days?: number } = {},
): Promise<{ id: string; token: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: bearer(user.accessToken),
    payload: {
      name: options.name ?? randomName('token'),
      scopes: options.scopes ?? ['read', 'write'],
      ...(options.expires_in_days ? { expires_in_days: options.expires_in_days } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id, token: res.json().token };
}
