import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, randomName, type TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

let t: TestApp;
let alice: TestUser;
let call: ApiCall;

beforeAll(async () => {
  ({ t, alice, call } = await twoUsers());
});
afterAll(async () => t?.close());

async function scrape(options: { remoteAddress?: string; token?: string } = {}) {
  return t.app.inject({
    method: 'GET',
    url: '/metrics',
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
    headers: options.token ? bearer(options.token) : {},
  });
}

/** The value of one series line, e.g. value(text, 'accountdb_claims_total{kind="card",result="empty"}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('exposes requests, latency, pool, syncs, claims and login failures after some traffic', async () => {
    // Login failures: a wrong password, and an unknown user.
    for (const username of [alice.username, randomName('nobody')]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'not the password at all' },
      });
      expect(res.statusCode).toBe(401);
    }
    // Claims: one account claimed, one claim with nothing left.
    expect(
      (await call(alice, 'POST', '/accounts', { username: randomName('acc') })).statusCode,
    ).toBe(201);
    expect((await call(alice, 'POST', '/accounts/claim', {})).statusCode).toBe(200);
    expect((await call(alice, 'POST', '/accounts/claim', {})).statusCode).toBe(404);
    expect((await call(alice, 'POST', '/cards/claim', {})).statusCode).toBe(404);
    // A sync of a node with two guests.
    const node = (
      await call(alice, 'POST', '/proxmox-nodes', { name: randomName('pve') })
    ).json() as {
      id: string;
      api_key: string;
    };
    const guest = (vmid: number) => ({
      vmid,
      type: 'qemu',
      name: `vm-${vmid}`,
      status: 'running',
      template: false,
    });
    const sync = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/sync',
      headers: bearer(node.api_key),
      payload: {
        cycle_id: randomName('cycle'),
        observed_at: new Date().toISOString(),
        agent_version: '0.1.0',
        complete: true,
        vms: [guest(101), guest(102)],
      },
    });
    expect(sync.statusCode, sync.body).toBe(200);
    expect((await call(alice, 'GET', '/vms?limit=5')).statusCode).toBe(200);

    const res = await scrape();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(
      value(text, 'accountdb_http_requests_total{method="GET",route="/api/v1/vms",status="200"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'accountdb_http_requests_total{method="POST",route="/api/v1/auth/login",status="401"}',
      ),
    ).toBe(2);
    expect(text).toMatch(
      /^accountdb_http_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/api\/v1\/vms",status="200"\} 1$/m,
    );
    // Route patterns, never raw URLs with ids or queries.
    expect(text).not.toContain('limit=5');
    expect(value(text, 'accountdb_login_failures_total{reason="invalid_credentials"}')).toBe(2);
    expect(value(text, 'accountdb_claims_total{kind="account",result="claimed"}')).toBe(1);
    expect(value(text, 'accountdb_claims_total{kind="account",result="empty"}')).toBe(1);
    expect(value(text, 'accountdb_claims_total{kind="card",result="empty"}')).toBe(1);
    expect(value(text, `accountdb_sync_total{node_id="${node.id}",result="applied"}`)).toBe(1);
    expect(value(text, `accountdb_sync_guests{node_id="${node.id}"}`)).toBe(2);
    expect(value(text, `accountdb_sync_duration_seconds_count{node_id="${node.id}"}`)).toBe(1);
    expect(value(text, 'accountdb_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    // The credential cache answered the repeated requests of this test.
    expect(value(text, 'accountdb_credential_cache{figure="live"}')).toBe(1);
    expect(value(text, 'accountdb_credential_cache{figure="hits"}')).toBeGreaterThan(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    // No names, usernames or secrets in labels.
    expect(text).not.toContain(alice.username);
    expect(text).not.toContain(node.api_key);
  });

  it('answers only this machine when no token is configured', async () => {
    const res = await scrape({ remoteAddress: '10.1.2.3' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('metrics_forbidden');
    // X-Forwarded-For does not make a remote client local.
    const forwarded = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(forwarded.statusCode).toBe(403);
  });
});

describe('GET /metrics with ACCOUNTDB_METRICS_TOKEN', () => {
  it('needs the bearer token, from anywhere', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const other = await twoUsers({ config: { metricsToken: token } });
    try {
      const get = (headers: Record<string, string>) =>
        other.t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3', headers });
      expect((await get({})).statusCode).toBe(401);
      expect((await get(bearer('metrics-token-0123456789abcdeX'))).statusCode).toBe(401);
      expect((await get(bearer(other.alice.accessToken))).statusCode).toBe(401);
      const ok = await get(bearer(token));
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('accountdb_http_requests_total');
    } finally {
      await other.t.close();
    }
  });
});
