import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** Stops a listener: unlistens and closes its connection. */
export type StopListening = () => Promise<void>;

export interface ListenOptions {
  channel: string;
  onPayload: (payload: string) => void;
  /** Told when the connection is lost (true) and when it is back (false). */
  onGap?: (lost: boolean) => void;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
}

/** Subscribes to a channel; the promise resolves once the channel is listened to. */
export type Listen = (options: ListenOptions) => Promise<StopListening>;

/**
 * LISTEN on PostgreSQL on one connection of its own per API process, outside the pools,
 * shared by every subscriber (live events, the credential cache), as the request login:
 * LISTEN needs no privilege, and that login owns nothing and can only become accountdb_app,
 * so the one long-lived connection holds no power beyond the requests'. It opens with the
 * first subscriber and closes with the last. A lost connection is opened again (1 s,
 * doubling to 30 s); notifications sent meanwhile are lost, which onGap reports to every
 * subscriber (true when lost, false when listening again) so that they can refetch or
 * forget what they cached.
 */
export function sharedPostgresListener(config: () => Promise<pg.ClientConfig>): Listen {
  const subscribers = new Set<ListenOptions>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 1000;

  const channels = () => new Set([...subscribers].map((s) => s.channel));
  const connect = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const c = new pg.Client(await config());
      c.on('notification', (msg) => {
        if (msg.payload === undefined) return;
        for (const s of subscribers) if (s.channel === msg.channel) s.onPayload(msg.payload);
      });
      c.on('error', () => lost(c));
      c.on('end', () => lost(c));
      try {
        await c.connect();
        for (const channel of channels()) await c.query(`LISTEN ${channel}`);
      } catch (err) {
        c.end().catch(() => {});
        throw err;
      }
      if (subscribers.size === 0) {
        await c.end().catch(() => {});
        throw new Error('no subscriber left');
      }
      client = c;
      delay = 1000;
      return c;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };
  const lost = (c: pg.Client): void => {
    if (client !== c) return;
    client = null;
    c.end().catch(() => {});
    for (const s of subscribers) s.onGap?.(true);
    schedule();
  };
  const schedule = (): void => {
    if (retry || subscribers.size === 0) return;
    retry = setTimeout(() => {
      retry = null;
      if (subscribers.size === 0 || client) return;
      connect().then(
        () => {
          for (const s of subscribers) s.onGap?.(false);
        },
        () => {
          delay = Math.min(delay * 2, 30_000);
          schedule();
        },
      );
    }, delay);
    retry.unref();
  };
  const close = async (): Promise<void> => {
    if (retry) clearTimeout(retry);
    retry = null;
    const c = client;
    client = null;
    if (c) await c.end().catch(() => {});
  };

  return async (options) => {
    checkChannel(options.channel);
    const isNew = !channels().has(options.channel);
    subscribers.add(options);
    try {
      if (client) {
        if (isNew) await client.query(`LISTEN ${options.channel}`);
      } else {
        // Connecting (with this channel, unless a connection was already on its way: then
        // listen on it once it is up), or a reconnection is scheduled: try at once.
        const pending = connecting !== null;
        const c = await connect();
        if (pending) await c.query(`LISTEN ${options.channel}`);
        if (retry) {
          clearTimeout(retry);
          retry = null;
          for (const s of subscribers) if (s !== options) s.onGap?.(false);
        }
      }
    } catch (err) {
      subscribers.delete(options);
      throw err;
    }
    return async () => {
      if (!subscribers.delete(options)) return;
      if (subscribers.size === 0) return close();
      if (!channels().has(options.channel)) {
        await client?.query(`UNLISTEN ${options.channel}`).catch(() => {});
      }
    };
  };
}

/** LISTEN on the embedded database: PGlite delivers notifications of its one session in-process. */
export async function listenPglite(pglite: PGlite, options: ListenOptions): Promise<StopListening> {
  checkChannel(options.channel);
  const unlisten = await pglite.listen(options.channel, options.onPayload);
  return async () => {
    if (!pglite.closed) await unlisten();
  };
}
