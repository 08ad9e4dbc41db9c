import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { AppError, ForbiddenError, TooManyRequestsError } from '../../http/errors.js';
import { formatBytes } from '../../http/limits.js';
import { problemResponses } from '../../http/problem.js';
import { OwnerIdParam, ScopeParam, scopeOwner } from '../../http/scope.js';
import { EventHub, type LiveEvent } from './event-hub.js';
import { LiveFeed } from './live-feed.js';
import { SseStream } from './sse-stream.js';

const EventsQuery = Type.Object(
  {
    scope: ScopeParam,
    owner_id: OwnerIdParam,
  },
  { additionalProperties: false },
);

/** One server-sent event. */
function frame(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const limits = app.deps.events;
  const feed = new LiveFeed({
    database: app.deps.database,
    log: app.log.child({ module: 'events' }),
    hub: new EventHub(limits),
  });
  // Open streams end before the server waits for its connections to close.
  app.addHook('preClose', async () => feed.hub.closeAll());
  app.addHook('onClose', async () => feed.stop());

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Live updates (server-sent events)',
        description:
          'A text/event-stream of status changes of your VMs and Proxmox nodes, within moments of the sync that made ' +
          'them. `event: vm` and `event: node` carry JSON data `{owner_id, type, id, status}`; when one sync changed ' +
          'more than 100 VMs of an owner, one `vm` event with `id: null` and `count` stands for them all. ' +
          '`event: resync` means events may have been missed (the API lost its database connection for a while): ' +
          'refetch what you show. Lines starting with `:` are heartbeats every ' +
          `${limits.heartbeatMs / 1000} s. You get your own events only; an admin too, unless scope=all (every user's) ` +
          "or owner_id (one user's), as lists do. At most " +
          `${limits.streamsPerUser} open streams per user (429 too_many_streams); a client that does not read ` +
          `(${formatBytes(limits.backlogBytes)} unread) is disconnected and should reconnect and refetch. ` +
          `A stream ends after ${limits.maxStreamMs / 60_000} minutes (reconnect: the caller is authenticated again, so ` +
          'a logout or deactivation reaches open streams). Events say what changed, not the new data: fetch the ' +
          'objects through their endpoints.',
        querystring: EventsQuery,
        produces: ['text/event-stream'],
        response: {
          200: {
            description:
              'The event stream (text/event-stream), open until the client or the server closes it',
            content: {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  examples: [
                    'retry: 5000\n: live\n\nevent: vm\ndata: {"owner_id":"0194c3a2-0000-7000-8000-000000000001","type":"vm","id":"0194c3a2-0000-7000-8000-0000000000b1","status":"stopped"}\n\n: heartbeat\n\n',
                  ],
                },
              },
            },
          },
          ...problemResponses(401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const actor = request.actor;
      if (actor.kind !== 'user') throw new ForbiddenError();
      const ownerId = scopeOwner(actor, request.query);

      try {
        await feed.start();
      } catch (err) {
        request.log.error({ err }, 'live events: could not LISTEN');
        throw new AppError(
          503,
          'events_unavailable',
          'Live updates are not available right now; poll instead and try again later.',
          { headers: { 'retry-after': '30' } },
        );
      }

      const raw = reply.raw;
      const stream = new SseStream(raw, limits);
      const subscribed = feed.hub.subscribe({
        userId: actor.userId,
        ownerId,
        send: (event) => stream.write(frame(event)),
        resync: () => stream.write('event: resync\ndata: {}\n\n'),
        close: () => stream.end(),
      });
      if (!subscribed.ok) {
        throw new TooManyRequestsError(
          subscribed.limit === 'user'
            ? `At most ${limits.streamsPerUser} live update streams may be open per user; close one first.`
            : `This server has ${limits.streams} live update streams open; try again later.`,
          limits.heartbeatMs / 1000,
          'too_many_streams',
        );
      }
      stream.ended(subscribed.unsubscribe);
      raw.on('close', () => stream.end());

      reply.hijack();
      // The connection ends with the stream: a kept-alive socket left behind would hold up
      // the server's close until its keep-alive timeout.
      raw.shouldKeepAlive = false;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.flushHeaders();
      // The reconnect delay for EventSource clients, and a first line so the client knows it is on.
      raw.write('retry: 5000\n: live\n\n');
      stream.start();
    },
  );
};

export default routes;
