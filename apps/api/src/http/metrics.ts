import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RawDriver } from '../db/client.js';

/**
 * The API's Prometheus metrics, one registry per app (tests build many apps in one process).
 * Labels never carry a user's data: routes are route patterns, nodes are ids.
 */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'accountdb_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'accountdb_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly syncs = new Counter({
    name: 'accountdb_sync_total',
    help: 'Agent syncs by node and result (applied, replayed, stale, suspicious_empty)',
    labelNames: ['node_id', 'result'] as const,
    registers: [this.registry],
  });

  readonly syncDuration = new Histogram({
    name: 'accountdb_sync_duration_seconds',
    help: 'Time the API took to apply an agent sync, by node',
    labelNames: ['node_id'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly syncGuests = new Gauge({
    name: 'accountdb_sync_guests',
    help: 'Guests in the last sync of a node',
    labelNames: ['node_id'] as const,
    registers: [this.registry],
  });

  readonly claims = new Counter({
    name: 'accountdb_claims_total',
    help: 'Claims of accounts and cards by result (claimed, empty)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly loginFailures = new Counter({
    name: 'accountdb_login_failures_total',
    help: 'Refused logins by reason (invalid_credentials, locked, rate_limited, inactive)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(raw: RawDriver) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'accountdb_db_pool_connections',
      help: 'Database connections of this process by state (total, idle, waiting clients)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        // The embedded database is one in-process connection.
        const [total, idle, waiting] =
          raw.kind === 'postgres'
            ? [raw.pool.totalCount, raw.pool.idleCount, raw.pool.waitingCount]
            : [1, 0, 0];
        this.set({ state: 'total' }, total);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'waiting' }, waiting);
      },
    });
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

/** Decorates app.metrics and counts every answered request by its route pattern. */
export function registerMetrics(app: FastifyInstance, raw: RawDriver): void {
  const metrics = new ApiMetrics(raw);
  app.decorate('metrics', metrics);
  new Gauge({
    name: 'accountdb_credential_cache',
    help: 'Credential cache of this process: entries, hits and misses since start, live (1 while its LISTEN connection is up)',
    labelNames: ['figure'] as const,
    registers: [metrics.registry],
    collect() {
      const cache = app.deps.credentials;
      this.set({ figure: 'entries' }, cache.size);
      this.set({ figure: 'hits' }, cache.stats.hits);
      this.set({ figure: 'misses' }, cache.stats.misses);
      this.set({ figure: 'live' }, cache.live ? 1 : 0);
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    // The pattern ("/api/v1/vms/:id"), never the raw URL: bounded labels, no ids or queries.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
