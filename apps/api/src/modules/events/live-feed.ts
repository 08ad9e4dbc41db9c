import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import type { StopListening } from '../../db/listener.js';
import { type EventHub, parseLiveEvent } from './event-hub.js';

/** The channel migration 0013's triggers notify. */
export const EVENTS_CHANNEL = 'accountdb_events';

/**
 * One API process's feed of live events: LISTEN accountdb_events on the process's one LISTEN
 * connection (shared with the credential cache), from when the first stream opens until the
 * app closes, fanned out through the hub.
 */
export class LiveFeed {
  readonly hub: EventHub;
  private listening: Promise<StopListening> | null = null;

  constructor(
    private readonly options: { database: Database; log: FastifyBaseLogger; hub: EventHub },
  ) {
    this.hub = options.hub;
  }

  /** Resolves once this process is listening (the first call opens the connection). */
  start(): Promise<void> {
    this.listening ??= this.options.database
      .listen({
        channel: EVENTS_CHANNEL,
        onPayload: (payload) => {
          const event = parseLiveEvent(payload);
          if (event) this.hub.publish(event);
          else
            this.options.log.warn('live events: a notification that is not an event was ignored');
        },
        onGap: (lost) => {
          if (lost)
            this.options.log.warn('live events: the LISTEN connection was lost; reconnecting');
          else this.options.log.info('live events: listening again');
          // Either way events may be missing: every stream refetches.
          this.hub.resyncAll();
        },
      })
      .catch((err: unknown) => {
        this.listening = null;
        throw err;
      });
    return this.listening.then(() => {});
  }

  /** Ends every stream and stops listening. */
  async stop(): Promise<void> {
    this.hub.closeAll();
    const listening = this.listening;
    this.listening = null;
    if (listening) await (await listening.catch(() => async () => {}))();
  }
}
