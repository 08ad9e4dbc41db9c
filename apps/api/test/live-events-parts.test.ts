import { describe, expect, it } from 'vitest';
import { EventHub, type LiveEvent, parseLiveEvent } from '../src/modules/events/event-hub.js';
import { SseStream, type SseTarget } from '../src/modules/events/sse-stream.js';

// The parts of GET /events that a socket cannot show deterministically: a client that stops
// reading (the kernel's buffers would take megabytes first), the per-process limit, and
// notification payloads that are not events.

/** A response that never drains: what a client that stops reading looks like to the server. */
class StuckResponse implements SseTarget {
  written: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

const A = '0194c3a2-0000-7000-8000-00000000000a';
const B = '0194c3a2-0000-7000-8000-00000000000b';
const event = (owner: string): LiveEvent => ({
  owner_id: owner,
  type: 'vm',
  id: '0194c3a2-0000-7000-8000-0000000000c1',
  status: 'running',
});

describe('SseStream', () => {
  it('drops a client that does not read once the backlog passes the limit, and buffers no more', () => {
    const res = new StuckResponse();
    const stream = new SseStream(res, {
      backlogBytes: 1024,
      heartbeatMs: 60_000,
      maxStreamMs: 60_000,
    });
    let ended = 0;
    stream.ended(() => ended++);
    const chunk = `event: vm\ndata: ${'x'.repeat(200)}\n\n`;
    for (let i = 0; i < 1000; i++) stream.write(chunk);
    expect(res.destroyed).toBe(true);
    expect(res.writableEnded).toBe(true);
    expect(ended).toBe(1);
    // What was written before the drop: just over the limit, not 1000 events.
    expect(res.writableLength).toBeLessThanOrEqual(1024 + Buffer.byteLength(chunk));
    expect(res.written.length).toBeLessThan(10);
  });

  it('sends heartbeats until it ends', async () => {
    const res = new StuckResponse();
    res.write = (chunk: string) => {
      res.written.push(chunk);
      return true;
    };
    const stream = new SseStream(res, { backlogBytes: 1024, heartbeatMs: 20, maxStreamMs: 60_000 });
    stream.start();
    await new Promise((r) => setTimeout(r, 110));
    stream.end();
    const beats = res.written.length;
    expect(beats).toBeGreaterThanOrEqual(2);
    expect(new Set(res.written)).toEqual(new Set([': heartbeat\n\n']));
    await new Promise((r) => setTimeout(r, 60));
    expect(res.written.length).toBe(beats);
  });

  it('ends after maxStreamMs, so that the client comes back and is authenticated again', async () => {
    const res = new StuckResponse();
    const stream = new SseStream(res, { backlogBytes: 1024, heartbeatMs: 60_000, maxStreamMs: 30 });
    let ended = 0;
    stream.ended(() => ended++);
    stream.start();
    await new Promise((r) => setTimeout(r, 80));
    expect(res.writableEnded).toBe(true);
    expect(res.destroyed).toBe(false);
    expect(ended).toBe(1);
  });
});

describe('EventHub', () => {
  it("gives each stream its owner's events, an unfiltered (admin) stream everyone's", () => {
    const hub = new EventHub({ streamsPerUser: 5, streams: 10 });
    const got: Record<string, string[]> = { a: [], b: [], admin: [] };
    const sub = (name: string, ownerId: string | null) =>
      hub.subscribe({
        userId: name,
        ownerId,
        send: (e) => got[name]?.push(e.owner_id),
        resync: () => {},
        close: () => {},
      });
    sub('a', A);
    sub('b', B);
    sub('admin', null);
    hub.publish(event(A));
    hub.publish(event(B));
    expect(got).toEqual({ a: [A], b: [B], admin: [A, B] });
  });

  it('limits streams per user and per process, and frees a slot on unsubscribe', () => {
    const hub = new EventHub({ streamsPerUser: 2, streams: 3 });
    const sub = (userId: string) =>
      hub.subscribe({ userId, ownerId: userId, send: () => {}, resync: () => {}, close: () => {} });
    const first = sub('a');
    expect(sub('a').ok).toBe(true);
    expect(sub('a')).toEqual({ ok: false, limit: 'user' });
    expect(sub('b').ok).toBe(true);
    expect(sub('c')).toEqual({ ok: false, limit: 'process' });
    if (!first.ok) throw new Error('unreachable');
    first.unsubscribe();
    first.unsubscribe(); // twice frees one slot
    expect(hub.size).toBe(2);
    expect(sub('c').ok).toBe(true);
    expect(sub('c')).toEqual({ ok: false, limit: 'process' });
  });
});

describe('parseLiveEvent', () => {
  it('takes the payload of migration 0013 and refuses anything else', () => {
    const ok = { owner_id: A, type: 'node', id: B, status: 'online' };
    expect(parseLiveEvent(JSON.stringify(ok))).toEqual(ok);
    expect(
      parseLiveEvent(
        JSON.stringify({ owner_id: A, type: 'vm', id: null, status: null, count: 150 }),
      ),
    ).toEqual({ owner_id: A, type: 'vm', id: null, status: null, count: 150 });
    for (const bad of [
      'not json',
      'null',
      JSON.stringify({ ...ok, owner_id: 'x' }),
      JSON.stringify({ ...ok, type: 'account' }),
      JSON.stringify({ ...ok, id: 7 }),
      JSON.stringify({ ...ok, status: 'x'.repeat(65) }),
      'x'.repeat(8001),
    ]) {
      expect(parseLiveEvent(bad)).toBeNull();
    }
  });
});
