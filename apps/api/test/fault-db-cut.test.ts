import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type Answer,
  type ApiUser,
  call,
  newKeys,
  setupUsers,
  startApi,
} from './helpers/api-process.js';
import { hasExited, killServers, type Server, sleep, stop } from './helpers/server-process.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * Fault test: the database connection is cut under load (a TCP proxy between the API process
 * and PostgreSQL drops every connection and refuses new ones for a few seconds; the shared
 * PostgreSQL itself is never touched). While cut, requests fail with 503 problem+json that
 * names nothing of the database; after the cut the same process answers 200 again within a
 * bounded time, and each of two users still sees exactly their own rows.
 */

afterEach(killServers);

const CUT_MS = 3000;
const RECOVERY_LIMIT_MS = 15_000;
/** What a failure answer must not show: driver messages, addresses, SQL. */
const LEAK =
  /ECONN|EPIPE|terminated|not queryable|postgres|pg_|sql|select |insert |5432|127\.0\.0\.1|at .*\.(ts|js)/i;

interface Sample {
  user: ApiUser;
  /** When the request was sent and when its answer (or error) came. */
  at: number;
  end: number;
  answer?: Answer;
  error?: unknown;
}

describe.skipIf(!inject('pgTemplate'))('PostgreSQL cut under load', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: Server;

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 1 });
    if (!database.url) throw new Error('createTestDatabase gave no URL on PostgreSQL');
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterAll(async () => {
    killServers();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 without details while cut, recovers without a restart, and keeps tenants apart', async () => {
    const viaProxy = new URL(database.url ?? '');
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    server = await startApi(viaProxy.toString(), newKeys());
    const [alice, bob] = (await setupUsers(server, 2)).users as [ApiUser, ApiUser];
    const own = new Map<string, Set<string>>();
    for (const user of [alice, bob]) {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const made = await call(server, user.token, 'POST', '/accounts', {
          username: `${user.username}_row${i}`,
          password: `pw of ${user.username} ${i}`,
        });
        expect(made.status, made.text).toBe(201);
        ids.add((made.json() as { id: string }).id);
      }
      own.set(user.id, ids);
    }

    /** One list read; a 200 must hold exactly the user's rows. */
    const samples: Sample[] = [];
    const read = async (user: ApiUser): Promise<Sample> => {
      const sample: Sample = { user, at: Date.now(), end: 0 };
      try {
        sample.answer = await call(server, user.token, 'GET', '/accounts?limit=50', undefined, {
          timeoutMs: 20_000,
        });
      } catch (error) {
        sample.error = error;
      }
      sample.end = Date.now();
      samples.push(sample);
      return sample;
    };
    const rowsOf = (s: Sample) =>
      (s.answer as Answer).json() as { items: Array<{ id: string; owner_id: string }> };

    // Load: two readers per user, back to back, until told to stop.
    let running = true;
    const workers = [alice, bob, alice, bob].map(async (user) => {
      while (running) {
        await read(user);
        await sleep(20);
      }
    });

    await sleep(1000);
    const cutAt = Date.now();
    proxy.cut();
    await sleep(CUT_MS);
    const restoredAt = Date.now();
    proxy.restore();

    // Recovered: every user gets 200 on a fresh read, within the bound, no restart.
    let recoveredAt = 0;
    while (Date.now() - restoredAt < RECOVERY_LIMIT_MS) {
      const fresh = await Promise.all([read(alice), read(bob)]);
      if (fresh.every((s) => s.answer?.status === 200)) {
        recoveredAt = Date.now();
        break;
      }
      await sleep(100);
    }
    await sleep(500);
    running = false;
    await Promise.all(workers);

    expect(
      recoveredAt,
      `the API did not answer 200 again after the cut${hasExited(server) ? ' (its process died)' : ''}\n${server.stderr().slice(-1500)}`,
    ).toBeGreaterThan(0);
    expect(samples.filter((s) => s.error).map((s) => String(s.error))).toEqual([]);
    const failures = samples.filter((s) => s.answer && s.answer.status !== 200);
    // Requests made while the cut was in place failed: the cut was real.
    expect(
      failures.some((s) => s.at >= cutAt && s.at < restoredAt),
      'no request failed during the cut',
    ).toBe(true);
    for (const s of failures) {
      const a = s.answer as Answer;
      expect(a.status, a.text).toBe(503);
      expect(a.contentType).toMatch(/^application\/problem\+json/);
      expect(a.retryAfter, 'a 503 says when to retry').toMatch(/^[1-9][0-9]*$/);
      const problem = a.json() as { status: number; code: string; detail: string };
      expect(problem).toMatchObject({ status: 503, code: 'database_unavailable' });
      // Nothing but the problem fields, and a detail that names nothing of the database.
      expect(Object.keys(problem).sort()).toEqual(
        ['code', 'detail', 'request_id', 'status', 'title', 'type'].sort(),
      );
      expect(problem.detail).not.toMatch(LEAK);
      expect(problem.detail).not.toContain(String(proxy.port));
      // Only requests around the cut may fail.
      expect(s.end).toBeGreaterThanOrEqual(cutAt);
      expect(s.at).toBeLessThan(recoveredAt);
    }
    // Every 200, before, during and after, holds exactly the reader's own rows.
    for (const s of samples.filter((x) => x.answer?.status === 200)) {
      const rows = rowsOf(s).items;
      expect(
        rows.every((r) => r.owner_id === s.user.id),
        "a 200 held another user's rows",
      ).toBe(true);
      expect(new Set(rows.map((r) => r.id))).toEqual(own.get(s.user.id));
    }
    expect(samples.filter((s) => s.at > recoveredAt + 100).length).toBeGreaterThan(0);
    for (const s of samples.filter((x) => x.at > recoveredAt + 100)) {
      expect(s.answer?.status, s.answer?.text).toBe(200);
    }

    // The same process, still healthy; a write after the cut works and stays its owner's.
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    const after = await call(server, bob.token, 'POST', '/accounts', {
      username: `${bob.username}_after`,
    });
    expect(after.status, after.text).toBe(201);
    const aliceView = await call(server, alice.token, 'GET', '/accounts?limit=50');
    expect(
      new Set(rowsOf({ user: alice, at: 0, end: 0, answer: aliceView }).items.map((r) => r.id)),
    ).toEqual(own.get(alice.id));
    expect(await stop(server)).toBe(0);
  }, 60_000);
});
