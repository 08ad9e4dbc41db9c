import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../../http/errors.js';

/** Served at /metrics, beside /api: Prometheus scrapes it, browsers never need it. */
export const routePrefix = '';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * With ACCOUNTDB_METRICS_TOKEN set, a scrape needs `Authorization: Bearer <token>`. Without it,
 * only this machine may scrape: the socket's own address decides, never X-Forwarded-For.
 */
function allowScrape(request: FastifyRequest, token: string | undefined): void {
  if (token) {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!sameToken(given, token)) {
      throw new UnauthorizedError('Send the metrics token as a bearer token.', 'metrics_token');
    }
    return;
  }
  if (!LOOPBACK.test(request.socket.remoteAddress ?? '')) {
    throw new ForbiddenError(
      'Metrics are served to this machine only; set ACCOUNTDB_METRICS_TOKEN to scrape from elsewhere.',
      'metrics_forbidden',
    );
  }
}

const routes: FastifyPluginAsync = async (app) => {
  app.get(
    '/metrics',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          'Request counts and latency by route and status, database pool, agent syncs per node, claims, login ' +
          'failures and process figures, in the Prometheus text format. Needs the bearer ACCOUNTDB_METRICS_TOKEN ' +
          'when it is set; otherwise answers requests from this machine only.',
        security: [],
      },
    },
    async (request, reply) => {
      allowScrape(request, app.deps.config.metricsToken);
      const body = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(body);
    },
  );
};

export default routes;
