import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client.js';
import { CSRF_HEADER, SessionStore } from '../src/api/session.js';

const BASE = 'http://web.test';
const user = {
  id: '0190d5a4-0000-7000-8000-000000000001',
  username: 'alice',
  email: 'alice@example.com',
  role: 'admin',
  is_active: true,
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
  last_login_at: null,
};
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const tokens = (access: string) =>
  json(200, {
    access_token: access,
    token_type: 'Bearer',
    expires_in: 900,
    refresh_token: 'adb_rt_x',
    refresh_expires_at: '2099-01-01T00:00:00.000Z',
    user,
  });
const problem = (status: number, code: string) =>
  json(status, { type: `urn:accountdb:problem:${code}`, title: code, status, detail: code, code });

/** A fake API: the dashboard accepts only the token "fresh"; refresh answers per `refresh`. */
function fakeApi(refresh: () => Response) {
  const calls: Array<{
    url: string;
    method: string;
    auth: string | null;
    csrf: string | null;
    body: string;
  }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = await request.text();
    const path = new URL(request.url).pathname;
    calls.push({
      url: path,
      method: request.method,
      auth: request.headers.get('authorization'),
      csrf: request.headers.get(CSRF_HEADER),
      body,
    });
    if (path === '/api/v1/auth/refresh') return refresh();
    if (request.headers.get('authorization') !== 'Bearer fresh')
      return problem(401, 'invalid_token');
    return json(200, { echo: body || null });
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls };
}

function setup(refresh: () => Response) {
  const { fetchImpl, calls } = fakeApi(refresh);
  const session = new SessionStore(fetchImpl, BASE);
  const onSessionEnd = vi.fn();
  const api = createApiClient({ session, onSessionEnd, baseUrl: BASE, fetch: fetchImpl });
  return { api, session, calls, onSessionEnd };
}

describe('auth client', () => {
  it('on a 401 refreshes once with the cookie and the CSRF header, then sends the request again', async () => {
    const { api, session, calls, onSessionEnd } = setup(() => tokens('fresh'));
    session.set(await tokens('expired').json());

    const res = await api.POST('/api/v1/auth/password', {
      body: { current_password: 'old passphrase!', new_password: 'new passphrase!!' },
    });

    expect(res.response.status).toBe(200);
    expect(calls.map((c) => `${c.method} ${c.url} ${c.auth ?? '-'}`)).toEqual([
      'POST /api/v1/auth/password Bearer expired',
      'POST /api/v1/auth/refresh -',
      'POST /api/v1/auth/password Bearer fresh',
    ]);
    // The refresh relies on the HttpOnly cookie: no token in the body, the CSRF header set.
    expect(calls[1]?.csrf).toBe('1');
    expect(calls[1]?.body).toBe('{}');
    // The retried request carries the same body.
    expect(calls[2]?.body).toBe(calls[0]?.body);
    expect(JSON.parse(calls[2]?.body ?? '')).toMatchObject({ new_password: 'new passphrase!!' });
    expect(session.current?.accessToken).toBe('fresh');
    expect(onSessionEnd).not.toHaveBeenCalled();
  });

  it('without a token in memory (a reload) refreshes before the first request', async () => {
    const { api, calls } = setup(() => tokens('fresh'));
    const res = await api.GET('/api/v1/dashboard');
    expect(res.response.status).toBe(200);
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/refresh', '/api/v1/dashboard']);
  });

  it('concurrent 401s share one refresh (a refresh token is used once)', async () => {
    const { api, session, calls } = setup(() => tokens('fresh'));
    session.set(await tokens('expired').json());
    const answers = await Promise.all([
      api.GET('/api/v1/dashboard'),
      api.GET('/api/v1/auth/me'),
      api.GET('/api/v1/dashboard'),
    ]);
    expect(answers.map((a) => a.response.status)).toEqual([200, 200, 200]);
    expect(calls.filter((c) => c.url === '/api/v1/auth/refresh')).toHaveLength(1);
  });

  it('ends the session when the refresh is refused, without retrying', async () => {
    const { api, session, calls, onSessionEnd } = setup(() =>
      problem(401, 'invalid_refresh_token'),
    );
    session.set(await tokens('expired').json());
    const res = await api.GET('/api/v1/dashboard');
    expect(res.response.status).toBe(401);
    expect(res.error).toMatchObject({ code: 'invalid_token' });
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/dashboard', '/api/v1/auth/refresh']);
    expect(session.current).toBeNull();
    expect(onSessionEnd).toHaveBeenCalledTimes(1);
  });

  it('a 401 from login is an answer: no refresh, the session goes on', async () => {
    const { api, calls, onSessionEnd } = setup(() => tokens('fresh'));
    const res = await api.POST('/api/v1/auth/login', {
      body: { username: 'alice', password: 'wrong' },
    });
    expect(res.response.status).toBe(401);
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/login']);
    expect(onSessionEnd).not.toHaveBeenCalled();
  });

  it('a rate-limited refresh (429) waits as told and tries again instead of ending the session', async () => {
    let answers = 0;
    const { api, calls, onSessionEnd } = setup(() => {
      answers++;
      if (answers === 1) {
        const res = problem(429, 'rate_limited');
        res.headers.set('retry-after', '1');
        return res;
      }
      return tokens('fresh');
    });
    const started = Date.now();
    const res = await api.GET('/api/v1/dashboard');
    expect(res.response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls.map((c) => c.url)).toEqual([
      '/api/v1/auth/refresh',
      '/api/v1/auth/refresh',
      '/api/v1/dashboard',
    ]);
    expect(onSessionEnd).not.toHaveBeenCalled();
  });
});
