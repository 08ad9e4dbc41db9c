'use client';

import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import type { SessionStore } from '../api/session';
import { session } from './api';

/**
 * Live updates: one GET /api/v1/events stream per tab (server-sent events, read with fetch so
 * that the in-memory access token goes in the Authorization header). An event invalidates the
 * TanStack Query caches it concerns, so lists, details and the dashboard refetch at once.
 * While the stream is down the pages poll (usePollInterval) and the stream is opened again
 * with backoff (1 s doubling to 60 s, with jitter).
 */

export type LiveState = 'connecting' | 'on' | 'off';

export interface LiveEvent {
  owner_id: string;
  type: 'vm' | 'node';
  id: string | null;
  status: string | null;
  count?: number;
}

type Listener = () => void;

/** The live state of this tab, for the indicator and the polling fallback. */
export class LiveStore {
  state: LiveState = 'connecting';
  private readonly listeners = new Set<Listener>();
  set(state: LiveState) {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.listeners) l();
  }
  subscribe = (l: Listener) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getSnapshot = () => this.state;
}

export const liveStore = new LiveStore();

export function useLiveState(): LiveState {
  return useSyncExternalStore(liveStore.subscribe, liveStore.getSnapshot, () => 'connecting');
}

/**
 * A query's refetch interval: `ms` while live updates are off (the fallback), else
 * `whileLive` (none by default; a slow poll for what changes with the clock alone, such as a
 * node turning stale, which no event announces).
 */
export function usePollInterval(ms: number, whileLive: number | false = false): number | false {
  return useLiveState() === 'on' ? whileLive : ms;
}

/** The caches an event makes stale. */
export function staleKeys(event: LiveEvent | 'resync'): ReadonlyArray<readonly unknown[]> {
  if (event === 'resync') return [['vms'], ['nodes'], ['dashboard']];
  if (event.type === 'vm') return [['vms'], ['dashboard']];
  return [['nodes'], ['dashboard']];
}

/** Splits a growing SSE text into complete events; returns what is left over. */
export function parseSse(text: string, onEvent: (name: string, data: string) => void): string {
  let rest = text.replace(/\r\n?/g, '\n');
  let cut = rest.indexOf('\n\n');
  while (cut >= 0) {
    const block = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) onEvent(name, data.join('\n'));
    cut = rest.indexOf('\n\n');
  }
  return rest;
}

/** An answer larger than this with no event boundary is not an event stream. */
const MAX_PENDING = 64 * 1024;

/**
 * Keeps the stream open while `signal` is not aborted; calls `onEvent` for each event. Exported
 * for tests (the hook below is its only user in the app).
 */
export async function runLiveStream(options: {
  queryClient: QueryClient;
  session: SessionStore;
  signal: AbortSignal;
  store?: LiveStore;
  fetchImpl?: typeof fetch;
  random?: () => number;
  /** An admin's "All users" scope: every user's events (scope=all), else one's own. */
  allUsers?: boolean;
}): Promise<void> {
  const { queryClient, signal } = options;
  const store = options.store ?? liveStore;
  const fetchImpl = options.fetchImpl ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const random = options.random ?? Math.random;
  let failures = 0;
  let renewed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const pending = new Set<string>();
  const flush = () => {
    timer = null;
    for (const key of pending) {
      queryClient.invalidateQueries({ queryKey: JSON.parse(key) as unknown[] });
    }
    pending.clear();
  };
  // Many events in a moment (a sync that changed 50 VMs) make one refetch.
  const invalidate = (event: LiveEvent | 'resync') => {
    for (const key of staleKeys(event)) pending.add(JSON.stringify(key));
    timer ??= setTimeout(flush, 150);
  };

  while (!signal.aborted) {
    let opened = false;
    let openedAt = 0;
    try {
      const token = await options.session.accessToken();
      const res = await fetchImpl(
        options.allUsers ? '/api/v1/events?scope=all' : '/api/v1/events',
        {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          credentials: 'same-origin',
          signal,
        },
      );
      if (res.status === 401 && token && !renewed) {
        // The token ran out: renew it and try again at once (once).
        renewed = true;
        if (await options.session.refresh()) continue;
      }
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      opened = true;
      openedAt = Date.now();
      failures = 0;
      renewed = false;
      store.set('on');
      // Whatever changed while the stream was down is refetched now.
      invalidate('resync');
      const decoder = new TextDecoder();
      let rest = '';
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest = parseSse(rest + decoder.decode(value, { stream: true }), (name, data) => {
          if (name === 'resync') invalidate('resync');
          else if (name === 'vm' || name === 'node') {
            try {
              invalidate(JSON.parse(data) as LiveEvent);
            } catch {
              invalidate('resync');
            }
          }
        });
        if (rest.length > MAX_PENDING) throw new Error('events: not an event stream');
      }
    } catch {
      // Network trouble, a refused stream or an aborted one: handled below.
    }
    if (signal.aborted) break;
    // The API ends a stream every few minutes (the caller is authenticated again): a stream
    // that lived a while comes back at once, without falling back to polling.
    if (opened && Date.now() - openedAt > 30_000) continue;
    store.set('off');
    if (!opened) failures++;
    const delay = Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)) * (0.5 + random() / 2);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
  if (timer) clearTimeout(timer);
}

/** Opens this tab's live update stream while the signed-in app shell is shown. */
export function useLiveUpdates(enabled: boolean, allUsers = false): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const aborted = new AbortController();
    liveStore.set('connecting');
    void runLiveStream({ queryClient, session, signal: aborted.signal, allUsers });
    return () => {
      aborted.abort();
      liveStore.set('connecting');
    };
  }, [enabled, allUsers, queryClient]);
}
