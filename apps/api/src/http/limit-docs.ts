import type { FastifyInstance, RouteOptions } from 'fastify';
import { formatBytes, formatCount, LIMITS } from './limits.js';
import { problemResponses } from './problem.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function bodyLimits(route: RouteOptions): string {
  const bytes = formatBytes(route.bodyLimit ?? LIMITS.bodyBytes);
  const { depth, containers } = LIMITS.json;
  return (
    `Limits: a body of at most ${bytes} (413 payload_too_large); JSON nested at most ${depth} ` +
    `levels (400 json_too_deep) with at most ${formatCount(containers)} objects and arrays ` +
    '(400 json_too_complex).'
  );
}

function heavyLimit(route: RouteOptions): string {
  const { perUser, syncsPerOwner } = LIMITS.heavy;
  const who =
    route.config?.auth === 'node'
      ? `${syncsPerOwner} syncs of one node owner`
      : `${perUser} imports, bulk creates, bulk deletes and exports of one user`;
  return (
    `At most ${who} run at once; one more answers 429 too_many_concurrent_requests with ` +
    'Retry-After (counted per API process).'
  );
}

/**
 * Appends the limits of every route to its OpenAPI description, from the route's own
 * options (byte limit, heavy), so the document cannot drift from what the route enforces;
 * heavy routes also list their 429 answer. Route-specific limits (bulk items, import records,
 * synced VMs) are in the route's own text.
 */
export function describeLimits(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.schema) return;
    const methods = [route.method].flat();
    const heavy = route.config?.heavy === true;
    const texts = [
      ...(methods.some((m) => BODY_METHODS.has(m)) ? [bodyLimits(route)] : []),
      ...(heavy ? [heavyLimit(route)] : []),
    ];
    if (texts.length === 0) return;
    route.schema = {
      ...route.schema,
      description: [route.schema.description, ...texts].filter(Boolean).join(' '),
      ...(heavy
        ? { response: { ...(route.schema.response as object), ...problemResponses(429) } }
        : {}),
    };
  });
}
