import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/http/limits.js';
import { randomName, type TestUser } from './helpers/factories.js';
import { operations } from './helpers/openapi-operations.js';
import type { TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * Heavy requests (imports, bulk creates and deletes, exports, agent syncs) run at most two at
 * a time per user, and two syncs per node owner (docs/api.md#limits): one more answers 429
 * with Retry-After, others are unaffected, and a slot comes back however its request ends —
 * answered, refused, or left by its client in the middle of an upload or an export. Real
 * sockets: the app listens on a free port.
 */

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let base = '';

beforeAll(async () => {
  ({ t, alice, bob } = await twoUsers());
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1`;
});
afterAll(async () => t?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  retryAfter: string | null;
  contentType: string;
  body: string;
}

async function send(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

/** A cheap heavy request: deletes one id that does not exist. */
const probe = (token: string) =>
  send(token, 'POST', '/hardware/bulk-delete', { ids: [randomUUID()] });

/** Asks until the answer has the status (held requests reach the server in their time). */
async function until(status: number, ask: () => Promise<Answer>): Promise<Answer> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await ask();
    if (answer.status === status || Date.now() > deadline) return answer;
    await sleep(50);
  }
}

type Held = ReturnType<typeof held>;

/**
 * Starts requests held open and waits until they hold their slots: until a probe is refused
 * while none of them was. A probe in flight at the moment a held request arrives takes a
 * slot too and the held one is refused instead: then they are dropped and started again.
 */
async function holdSlots(options: { ask: () => Promise<Answer>; start: () => Held[] }) {
  for (let attempt = 1; ; attempt++) {
    const holds = options.start();
    await sleep(200);
    const third = await until(429, options.ask);
    await sleep(200);
    if (third.status === 429 && holds.every((h) => h.answered() === null)) return holds;
    if (attempt === 3) {
      throw new Error(
        `could not hold the slots: a third request answered ${third.status}, the held ones ` +
          JSON.stringify(holds.map((h) => h.answered()?.status ?? 'pending')),
      );
    }
    for (const h of holds) h.abort();
    await sleep(300);
  }
}

/** A heavy request held open: its headers and the start of its body sent, the rest not yet. */
function held(token: string, path: string, contentType = 'application/json') {
  const length = 1000;
  const req = http.request(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': contentType,
      'content-length': String(length),
    },
  });
  let answered: Answer | null = null;
  const done = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        answered = {
          status: res.statusCode ?? 0,
          retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
          contentType: res.headers['content-type'] ?? '',
          body,
        };
        resolve(answered);
      });
    });
    req.on('error', () => resolve({ status: 0, retryAfter: null, contentType: '', body: '' }));
  });
  const start = contentType === 'text/plain' ? 'CODE-' : '[';
  req.write(start);
  return {
    done,
    answered: () => answered,
    /** Sends the rest of a valid body. */
    finish: () => {
      const rest = contentType === 'text/plain' ? `${randomName('c')}\n` : '{"username":"held"}]';
      req.end(rest + ' '.repeat(length - start.length - rest.length));
      return done;
    },
    abort: () => req.destroy(),
  };
}

describe('heavy requests per user', () => {
  it('answers 429 to a third one, leaves other users and light requests alone, and frees slots of finished, refused and abandoned requests', async () => {
    // Refused heavy requests give their slot back: after several, two can still be held.
    expect(
      (await send(alice.accessToken, 'POST', '/hardware/bulk', { items: [{ x: 1 }] })).status,
    ).toBe(422);
    expect(
      (await send(alice.accessToken, 'POST', '/hardware/bulk-delete', { ids: ['x'] })).status,
    ).toBe(400);
    expect(
      (await send(alice.accessToken, 'POST', '/accounts/import?format=csv', 'a,b')).status,
    ).toBe(200);
    expect((await send(alice.accessToken, 'GET', '/hardware/export?sort=nope')).status).toBe(400);

    const [one, two] = (await holdSlots({
      ask: () => probe(alice.accessToken),
      start: () => [
        held(alice.accessToken, '/accounts/import'),
        held(alice.accessToken, '/cards/import', 'text/plain'),
      ],
    })) as [Held, Held];
    const third = await probe(alice.accessToken);
    expect(third.status, third.body).toBe(429);
    expect(third.retryAfter).toBe(String(LIMITS.heavy.retryAfterSeconds));
    expect(third.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(third.body)).toMatchObject({
      code: 'too_many_concurrent_requests',
      detail:
        'At most 2 imports, bulk changes and exports may run at once; retry when one has finished.',
    });
    // Every kind of heavy request counts; light ones and other users do not.
    expect((await send(alice.accessToken, 'GET', '/hardware/export')).status).toBe(429);
    expect(
      (await send(alice.accessToken, 'POST', '/hardware/bulk', { items: [{ pcname: 'a' }] }))
        .status,
    ).toBe(429);
    expect((await send(alice.accessToken, 'GET', '/hardware')).status).toBe(200);
    expect((await probe(bob.accessToken)).status).toBe(200);
    const [bobOne, bobTwo] = (await holdSlots({
      ask: () => probe(bob.accessToken),
      start: () => [
        held(bob.accessToken, '/accounts/import'),
        held(bob.accessToken, '/accounts/import'),
      ],
    })) as [Held, Held];

    // A finished request and one whose client left mid-upload give their slots back.
    expect((await one.finish()).status).toBe(200);
    expect((await until(200, () => probe(alice.accessToken))).status).toBe(200);
    two.abort();
    await two.done;
    // Two can be held again: nothing of the four before is still counted.
    const [three, four] = (await holdSlots({
      ask: () => probe(alice.accessToken),
      start: () => [
        held(alice.accessToken, '/accounts/import'),
        held(alice.accessToken, '/accounts/import'),
      ],
    })) as [Held, Held];
    for (const h of [three, four, bobOne, bobTwo]) expect((await h.finish()).status).toBe(200);
  }, 60_000);

  it('gives the slot of an export back when its client goes away mid-answer', async () => {
    // About 20 MB of export: far more than the sockets buffer while the client does not read.
    const notes = 'n'.repeat(19_000);
    for (let batch = 0; batch < 2; batch++) {
      const items = Array.from({ length: 500 }, (_, i) => ({ pcname: `pc-${batch}-${i}`, notes }));
      const res = await send(alice.accessToken, 'POST', '/hardware/bulk', { items });
      expect(res.status, res.body.slice(0, 300)).toBe(200);
    }
    const exportRequest = http.get(`${base}/hardware/export`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    const response = await new Promise<http.IncomingMessage>((resolve) =>
      exportRequest.on('response', resolve),
    );
    expect(response.statusCode).toBe(200);
    response.pause();
    exportRequest.on('error', () => {});
    const [upload] = (await holdSlots({
      ask: () => probe(alice.accessToken),
      start: () => [held(alice.accessToken, '/accounts/import')],
    })) as [Held];
    expect(response.complete, 'the export is still being sent').toBe(false);
    exportRequest.destroy();
    // The export's slot is back while the upload still holds its own.
    expect((await until(200, () => probe(alice.accessToken))).status).toBe(200);
    expect(upload.answered()).toBeNull();
    expect((await upload.finish()).status).toBe(200);
  }, 120_000);
});

describe('agent syncs per node owner', () => {
  it('answers 429 to a third sync of one owner, apart from the owner’s own heavy requests', async () => {
    const node = await send(alice.accessToken, 'POST', '/proxmox-nodes', {
      name: randomName('pve'),
    });
    const key = JSON.parse(node.body).api_key as string;
    const sync = () =>
      send(key, 'POST', '/agent/sync', {
        cycle_id: randomName('cycle'),
        observed_at: new Date().toISOString(),
        agent_version: '0.1.0',
        complete: false,
        vms: [],
      });
    expect((await sync()).status).toBe(200);
    const [one, two] = (await holdSlots({
      ask: sync,
      start: () => [held(key, '/agent/sync'), held(key, '/agent/sync')],
    })) as [Held, Held];
    const third = await sync();
    expect(third.status, third.body).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({
      code: 'too_many_concurrent_requests',
      detail: "At most 2 syncs of this node's owner may run at once; retry when one has finished.",
    });
    expect(third.retryAfter).toBe(String(LIMITS.heavy.retryAfterSeconds));
    // The owner's own imports and bulk changes are counted apart.
    expect((await probe(alice.accessToken)).status).toBe(200);
    one.abort();
    two.abort();
    expect((await until(200, sync)).status).toBe(200);
  }, 60_000);
});

it('documents the limit and its 429 on every heavy route, and only there', () => {
  const heavy = /\/(import|import\/mafiles|bulk|bulk-delete|export)$|^\/api\/v1\/agent\/sync$/;
  const ops = operations(t.app).filter((op) => op.path.startsWith('/api/v1/'));
  const documented = ops
    .filter((op) =>
      /run at once; one more answers 429 too_many_concurrent_requests/.test(op.description ?? ''),
    )
    .map((op) => `${op.method} ${op.path}`);
  const expected = ops.filter((op) => heavy.test(op.path)).map((op) => `${op.method} ${op.path}`);
  // bulk, bulk-delete and export of 5 resources; account (files and maFile folders), card and
  // hardware imports; agent sync.
  expect(expected).toHaveLength(5 * 3 + 4 + 1);
  expect(documented.sort()).toEqual(expected.sort());
  for (const op of ops.filter((o) => heavy.test(o.path)))
    expect(Object.keys(op.responses)).toContain('429');
});
