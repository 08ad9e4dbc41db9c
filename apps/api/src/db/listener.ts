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

/**
 * LISTEN on PostgreSQL on a connection of its own, outside the pools, as the request login:
 * LISTEN needs no privilege, and that login owns nothing and can only become accountdb_app,
 * so the one long-lived connection per API process holds no power beyond the requests'. A
 * lost connection is opened again (1 s, doubling to 30 s); notifications sent meanwhile are
 * lost, which onGap reports so that subscribers can refetch.
 */
export async function listenPostgres(
  config: () => Promise<pg.ClientConfig>,
  options: ListenOptions,
): Promise<StopListening> {
  checkChannel(options.channel);
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let delay = 1000;

  const connect = async (): Promise<void> => {
    const c = new pg.Client(await config());
    c.on('notification', (msg) => {
      if (msg.channel === options.channel && msg.payload !== undefined) {
        options.onPayload(msg.payload);
      }
    });
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    await c.connect();
    await c.query(`LISTEN ${options.channel}`);
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delay = 1000;
  };
  const lost = (c: pg.Client): void => {
    if (stopped || client !== c) return;
    client = null;
    options.onGap?.(true);
    c.end().catch(() => {});
    schedule();
  };
  const schedule = (): void => {
    retry = setTimeout(() => {
      retry = null;
      connect().then(
        () => options.onGap?.(false),
        () => {
          delay = Math.min(delay * 2, 30_000);
          if (!stopped) schedule();
        },
      );
    }, delay);
    retry.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = null;
    if (c) await c.end().catch(() => {});
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
