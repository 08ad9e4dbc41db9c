import type { FastifyInstance } from 'fastify';
import { formatBytes, formatCount, LIMITS } from './limits.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Appends the limits of every route that takes a body to its OpenAPI description, from the
 * route's own byte limit, so the document cannot drift from what the route enforces.
 * Route-specific limits (bulk items, import records, synced VMs) are in the route's own text.
 */
export function describeBodyLimits(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!route.schema || !methods.some((m) => BODY_METHODS.has(m))) return;
    const bytes = formatBytes(route.bodyLimit ?? LIMITS.bodyBytes);
    const { depth, containers } = LIMITS.json;
    const text =
      `Limits: a body of at most ${bytes} (413 payload_too_large); JSON nested at most ${depth} ` +
      `levels (400 json_too_deep) with at most ${formatCount(containers)} objects and arrays ` +
      '(400 json_too_complex).';
    route.schema = {
      ...route.schema,
      description: [route.schema.description, text].filter(Boolean).join(' '),
    };
  });
}
