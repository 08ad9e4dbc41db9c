import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it, vi } from 'vitest';
import type { SessionStore } from '../src/api/session.js';
import { LiveStore, parseSse, runLiveStream, staleKeys } from '../src/lib/live-updates.js';

describe('parseSse', () => {
  it('splits events, skips comments, joins data lines and keeps an unfinished event', () => {
    const got: Array<[string, string]> = [];
    const rest = parseSse(
      'retry: 5000\n: live\n\nevent: vm\ndata: {"a":1}\n\n: heartbeat\n\r\ndata: one\ndata: two\n\nevent: node\ndata: {"b"',
      (name, data) => got.push([name, data]),
    );
    expect(got).toEqual([
      ['vm', '{"a":1}'],
      ['message', 'one\ntwo'],
    ]);
    expect(rest).toBe('event: node\ndata: {"b"');
  });
});

describe('staleKeys', () => {
  it('refreshes VMs and the dashboard for a VM, nodes and the dashboard for a node', () => {
    const vm = { owner_id: 'o', type: 'vm' as const, id: 'v', status: 'stopped' };
    expect(staleKeys(vm)).toEqual([['vms'], ['dashboard']]);
    expect(staleKeys({ ...vm, type: 'node' })).toEqual([['nodes'], ['dashboard']]);
    expect(staleKeys('resync')).toEqual([['vms'], ['nodes'], ['dashboard']]);
  });
});

/** A response whose body the test writes into. */
function streamResponse() {
  let push: (text: string) => void = () => {};
  let end: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (text) => controller.enqueue(new TextEncoder().encode(text));
      end = () => controller.close();
    },
  });
  const response = new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
  });
  return { response, push: (t: string) => push(t), end: () => end() };
}

const fakeSession = (tokens: string[]) => {
  let current = tokens.shift() ?? null;
  return {
    accessToken: async () => current,
    refresh: vi.fn(async () => {
      current = tokens.shift() ?? null;
      return current ? ({ accessToken: current } as never) : null;
    }),
  } as unknown as SessionStore & { refresh: ReturnType<typeof vi.fn> };
};

const until = async (done: () => boolean) => {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 3000) throw new Error('not within 3 s');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('runLiveStream', () => {
  it('invalidates the caches an event names, and polls (state off) once the stream ends until it is back', async () => {
    const queryClient = new QueryClient();
    const liveStore = new LiveStore();
    const invalidate = vi.spyOn(queryClient, 'invalidateQueries');
    const first = streamResponse();
    const second = streamResponse();
    const answers = [first.response, new Response('{}', { status: 503 }), second.response];
    const requests: Array<Record<string, string>> = [];
    const fetchImpl = vi.fn(async (_url: unknown, init?: RequestInit) => {
      requests.push(init?.headers as Record<string, string>);
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next;
    });
    const aborted = new AbortController();
    const running = runLiveStream({
      queryClient,
      session: fakeSession(['tok']),
      signal: aborted.signal,
      store: liveStore,
      fetchImpl: fetchImpl as unknown as typeof fetch,
      random: () => 0,
    });
    await until(() => liveStore.state === 'on');
    expect(requests[0]).toEqual({ authorization: 'Bearer tok' });
    await until(() => invalidate.mock.calls.length >= 3); // the refetch on (re)connecting
    invalidate.mockClear();

    first.push('event: vm\ndata: {"owner_id":"o","type":"vm","id":"v","status":"stopped"}\n\n');
    first.push('event: vm\ndata: {"owner_id":"o","type":"vm","id":"w","status":"running"}\n\n');
    await until(() => invalidate.mock.calls.length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    // Two events in a moment: one refetch of each cache.
    expect(invalidate.mock.calls.map((c) => c[0])).toEqual([
      { queryKey: ['vms'] },
      { queryKey: ['dashboard'] },
    ]);

    first.end();
    await until(() => liveStore.state === 'off');
    // 503, then the stream opens again (backoff 0.5 s, then 1 s with this random source).
    await until(() => liveStore.state === 'on');
    expect(fetchImpl).toHaveBeenCalledTimes(3);
    aborted.abort();
    second.end();
    await running;
  });

  it('renews an expired access token once and opens the stream with the new one', async () => {
    const queryClient = new QueryClient();
    const liveStore = new LiveStore();
    const ok = streamResponse();
    const answers = [new Response('{}', { status: 401 }), ok.response];
    const headers: unknown[] = [];
    const session = fakeSession(['old', 'new']);
    const aborted = new AbortController();
    const running = runLiveStream({
      queryClient,
      session,
      signal: aborted.signal,
      store: liveStore,
      fetchImpl: (async (_url: unknown, init?: RequestInit) => {
        headers.push(init?.headers);
        return answers.shift() as Response;
      }) as typeof fetch,
    });
    await until(() => liveStore.state === 'on');
    expect(headers).toEqual([{ authorization: 'Bearer old' }, { authorization: 'Bearer new' }]);
    expect(session.refresh).toHaveBeenCalledTimes(1);
    aborted.abort();
    ok.end();
    await running;
  });
});
