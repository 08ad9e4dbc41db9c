import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TooManyRequestsError } from './errors.js';
import { LIMITS } from './limits.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * An import, bulk create, bulk delete, export or agent sync: counted against its user's
     * (or node owner's) heavy requests running at once.
     */
    heavy?: boolean;
  }
}

export type HeavyLimits = typeof LIMITS.heavy;

/** Whose heavy requests one counts against, and how many of them may run at once. */
function slotOf(
  request: FastifyRequest,
  limits: HeavyLimits,
): { key: string; max: number; what: string } | null {
  const actor = request.actor;
  if (actor.kind === 'user') {
    return {
      key: `user:${actor.userId}`,
      max: limits.perUser,
      what: 'imports, bulk changes and exports',
    };
  }
  if (actor.kind === 'node') {
    return {
      key: `sync:${actor.ownerId}`,
      max: limits.syncsPerOwner,
      what: "syncs of this node's owner",
    };
  }
  return null;
}

/**
 * At most `perUser` heavy requests of one user (a personal token counts as its owner), and
 * `syncsPerOwner` agent syncs of one node owner, run at once in this process; one more answers
 * 429 too_many_concurrent_requests with Retry-After before its body is read. A slot is taken
 * once the caller is known (preParsing, after authentication) and given back when the answer's
 * connection closes, however the request ends: answered, failed, or left by its client mid-way
 * (an export whose client went away). The count is per API process: with several instances
 * behind a balancer, a user may run this many on each.
 */
export function registerHeavyRequestLimit(
  app: FastifyInstance,
  limits: HeavyLimits = LIMITS.heavy,
): void {
  const running = new Map<string, number>();
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!request.routeOptions.config?.heavy) return payload;
    const slot = slotOf(request, limits);
    if (!slot) return payload;
    const now = running.get(slot.key) ?? 0;
    if (now >= slot.max) {
      throw new TooManyRequestsError(
        `At most ${slot.max} ${slot.what} may run at once; retry when one has finished.`,
        limits.retryAfterSeconds,
        'too_many_concurrent_requests',
      );
    }
    running.set(slot.key, now + 1);
    let held = true;
    reply.raw.once('close', () => {
      if (!held) return;
      held = false;
      const left = (running.get(slot.key) ?? 1) - 1;
      if (left > 0) running.set(slot.key, left);
      else running.delete(slot.key);
    });
    return payload;
  });
}
