import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.js';
import type { CredentialCache } from './credential-cache.js';

/** The channel migration 0014's triggers notify. */
export const AUTH_CHANNEL = 'accountdb_auth';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Drops what one notification of migration 0014 names; anything unexpected empties the cache. */
export function applyAuthNotification(cache: CredentialCache, payload: string): void {
  let parsed: { kind?: unknown; user_id?: unknown; id?: unknown };
  try {
    parsed = JSON.parse(payload) as typeof parsed;
  } catch {
    cache.clear();
    return;
  }
  const { kind, user_id: userId, id } = parsed ?? {};
  if (typeof userId !== 'string' || !UUID.test(userId)) {
    cache.clear();
    return;
  }
  // Every entry of the user: coarse (a revoked token also drops the user's sessions), but
  // a change is rare and the next request refills.
  cache.forget({ userId });
  if (typeof id === 'string' && UUID.test(id)) {
    if (kind === 'node') cache.forget({ nodeId: id });
    if (kind === 'token') cache.forget({ tokenId: id });
  }
}

/**
 * Feeds the credential cache from LISTEN accountdb_auth: live while listening, emptied and
 * not live while the connection is down. The first subscription is retried (1 s, doubling to
 * 30 s) until it works, so an API started before its database gets its cache when the
 * database comes. Returns the stop function.
 */
export function feedCredentialCache(options: {
  database: Database;
  cache: CredentialCache;
  log: FastifyBaseLogger;
}): () => Promise<void> {
  const { database, cache, log } = options;
  let stopped = false;
  let stop: (() => Promise<void>) | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 1000;
  const start = (): void => {
    database
      .listen({
        channel: AUTH_CHANNEL,
        onPayload: (payload) => applyAuthNotification(cache, payload),
        onGap: (lost) => {
          if (lost) log.warn('credential cache: the LISTEN connection was lost; not caching');
          else log.info('credential cache: listening again');
          cache.setLive(!lost);
        },
      })
      .then(
        async (unlisten) => {
          if (stopped) return unlisten();
          stop = unlisten;
          cache.setLive(true);
        },
        () => {
          if (stopped) return;
          retry = setTimeout(start, delay);
          retry.unref();
          delay = Math.min(delay * 2, 30_000);
        },
      );
  };
  start();
  return async () => {
    stopped = true;
    cache.setLive(false);
    if (retry) clearTimeout(retry);
    await stop?.();
  };
}
