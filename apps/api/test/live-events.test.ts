import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, randomName, type TestUser } from './helpers/factories.js';
import { ownerQuery } from './helpers/support.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

// GET /api/v1/events over a real socket (inject waits for the end of an answer, and a stream
// has none), on the database the run uses: PostgreSQL's LISTEN/NOTIFY or PGlite's in-process one.

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let call: ApiCall;
let base: string;

beforeAll(async () => {
  ({ t, admin, alice, bob, call } = await twoUsers({
    events: { heartbeatMs: 300, streamsPerUser: 3 },
  }));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1`;
});
afterAll(async () => t?.close());

interface Received {
  event: string;
  data: Record<string, unknown>;
}

/** An open event stream: what it has received so far, in order. */
class Stream {
  readonly events: Received[] = [];
  text = '';
  ended = false;
  private readonly abort = new AbortController();

  static async open(user: TestUser, query = ''): Promise<Stream> {
    const s = new Stream();
    const res = await fetch(`${base}/events${query}`, {
      headers: bearer(user.accessToken),
      signal: s.abort.signal,
    });
    expect(res.status, await (res.status === 200 ? '' : res.text())).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    s.read(res.body as ReadableStream<Uint8Array>);
    await s.until(() => s.text.includes(': live'));
    return s;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of body) {
        const text = decoder.decode(chunk, { stream: true });
        this.text += text;
        pending += text;
        let cut = pending.indexOf('\n\n');
        while (cut >= 0) {
          const block = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) this.events.push({ event, data: JSON.parse(data) });
          cut = pending.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by the test
    }
    this.ended = true;
  }

  async until(done: () => boolean, ms = 2000): Promise<void> {
    const start = Date.now();
    while (!done()) {
      if (Date.now() - start > ms) throw new Error(`not within ${ms} ms; got ${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close() {
    this.abort.abort();
  }
}

async function makeNode(user: TestUser) {
  const res = await call(user, 'POST', '/proxmox-nodes', { name: randomName('pve') });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; api_key: string };
}

let clock = Date.parse('2026-11-24T10:00:00Z');
async function sync(key: string, vms: Array<{ vmid: number; status: string }>) {
  clock += 60_000;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/sync',
    headers: bearer(key),
    payload: {
      cycle_id: randomName('cycle'),
      observed_at: new Date(clock).toISOString(),
      agent_version: '0.1.0',
      complete: true,
      vms: vms.map((v) => ({ type: 'qemu', name: `vm-${v.vmid}`, template: false, ...v })),
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const vmEvents = (s: Stream) => s.events.filter((e) => e.event === 'vm');

describe('GET /events', () => {
  it("delivers a VM's status change within 2 s of the sync, to its owner (and admins with scope=all) only", async () => {
    const node = await makeNode(alice);
    const [mine, bobs, admins, adminForBob, adminOwn] = await Promise.all([
      Stream.open(alice),
      Stream.open(bob),
      Stream.open(admin, '?scope=all'),
      Stream.open(admin, `?owner_id=${bob.id}`),
      Stream.open(admin),
    ]);
    try {
      await sync(node.api_key, [{ vmid: 101, status: 'running' }]);
      const started = Date.now();
      await mine.until(() => vmEvents(mine).length === 1);
      expect(Date.now() - started).toBeLessThan(2000);
      const [created] = vmEvents(mine);
      const vmId = created?.data.id as string;
      expect(created?.data).toEqual({
        owner_id: alice.id,
        type: 'vm',
        id: vmId,
        status: 'running',
      });
      const vm = await call(alice, 'GET', `/vms/${vmId}`);
      expect(vm.json().vmid).toBe(101);
      // The node's sync is an event too (its status and last sync changed).
      await mine.until(() =>
        mine.events.some(
          (e) => e.event === 'node' && e.data.id === node.id && e.data.status === 'online',
        ),
      );
      await admins.until(() => vmEvents(admins).length === 1);

      // A sync that changes nothing sends no VM event; a status change sends one.
      await sync(node.api_key, [{ vmid: 101, status: 'running' }]);
      await sync(node.api_key, [{ vmid: 101, status: 'stopped' }]);
      await mine.until(() => vmEvents(mine).length === 2);
      expect(vmEvents(mine)[1]?.data).toEqual({
        owner_id: alice.id,
        type: 'vm',
        id: vmId,
        status: 'stopped',
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(vmEvents(mine)).toHaveLength(2);

      // Bob, an admin's stream narrowed to Bob, and an admin's own scope (the default) never
      // see Alice's events.
      expect(bobs.events).toEqual([]);
      expect(adminForBob.events).toEqual([]);
      expect(adminOwn.events).toEqual([]);
      expect(bobs.text).not.toContain(alice.id);
      expect(bobs.text).not.toContain(vmId);
    } finally {
      for (const s of [mine, bobs, admins, adminForBob, adminOwn]) s.close();
    }
  });

  it('sends one event for an owner when a sync changes more than 100 VMs', async () => {
    const node = await makeNode(bob);
    const s = await Stream.open(bob);
    try {
      await sync(
        node.api_key,
        Array.from({ length: 150 }, (_, i) => ({ vmid: 1000 + i, status: 'running' })),
      );
      await s.until(() => vmEvents(s).length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(vmEvents(s).map((e) => e.data)).toEqual([
        { owner_id: bob.id, type: 'vm', id: null, status: null, count: 150 },
      ]);
    } finally {
      s.close();
    }
  });

  it('sends heartbeats while nothing happens', async () => {
    const s = await Stream.open(bob);
    try {
      await s.until(() => (s.text.match(/^: heartbeat$/gm) ?? []).length >= 2, 2000);
    } finally {
      s.close();
    }
  });

  it('limits open streams per user (429 too_many_streams) and frees the slot on close', async () => {
    const open = await Promise.all([Stream.open(alice), Stream.open(alice), Stream.open(alice)]);
    const refused = await fetch(`${base}/events`, { headers: bearer(alice.accessToken) });
    expect(refused.status).toBe(429);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('too_many_streams');
    expect(problem.detail).toContain('At most 3 live update streams');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    // Bob's streams are counted apart.
    const bobs = await Stream.open(bob);
    bobs.close();
    open[0]?.close();
    let again: Stream | null = null;
    const start = Date.now();
    while (!again) {
      try {
        again = await Stream.open(alice);
      } catch (err) {
        if (Date.now() - start > 2000) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    again.close();
    for (const s of open) s.close();
  });

  it('refuses owner_id and scope=all to a user who is not an admin, and anyone without a token', async () => {
    for (const query of [`owner_id=${alice.id}`, 'scope=all']) {
      const res = await fetch(`${base}/events?${query}`, { headers: bearer(bob.accessToken) });
      expect(res.status, query).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('admin_only');
    }
    expect((await fetch(`${base}/events`)).status).toBe(401);
  });

  it('is described in the OpenAPI document as text/event-stream', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/v1/events'].get;
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/event-stream']);
    expect(op.responses['429']).toBeDefined();
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'survives a lost LISTEN connection: the stream is told to resync, then events flow again',
    async () => {
      const node = await makeNode(bob);
      const s = await Stream.open(bob);
      try {
        const [listener] = await ownerQuery<{ usename: string }>(
          t.database,
          "SELECT usename FROM pg_stat_activity WHERE application_name = 'accountdb-events' AND datname = current_database()",
        );
        // One listening connection, as the request login, never the schema owner.
        expect(listener?.usename).not.toBe('postgres');
        // This test file's database only: every API process now holds one from its start, and
        // other test files run beside this one.
        await ownerQuery(
          t.database,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'accountdb-events' AND datname = current_database()",
        );
        await s.until(() => s.events.some((e) => e.event === 'resync'), 5000);
        // Listening again (after 1 s): a change arrives.
        await s.until(() => s.events.filter((e) => e.event === 'resync').length >= 2, 5000);
        await sync(node.api_key, [{ vmid: 7, status: 'running' }]);
        await s.until(() => vmEvents(s).length === 1);
      } finally {
        s.close();
      }
    },
  );

  // Last: it closes the app.
  it('ends open streams when the app closes', async () => {
    const s = await Stream.open(alice);
    const closing = t.app.close();
    await s.until(() => s.ended, 5000);
    // Sockets this file's fetch client keeps without a request in flight are not the app's
    // concern; they would hold up the close until the keep-alive timeout.
    t.app.server.closeAllConnections();
    await closing;
  });
});
