import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sameHash, sha256 } from '../crypto/tokens.js';
import { apiTokens } from '../db/schema.js';
import { type Actor, withTenant } from '../db/tenant.js';
import type { AuditContext } from '../modules/audit/write-audit.js';
import { verifyAccessToken } from '../modules/auth/access-token.js';
import {
  type ApiTokenLookup,
  apiTokenLookup,
  nodeKeyLookup,
  sessionState,
} from '../modules/auth/definer-functions.js';
import { NODE_KEY_LOOKUP_LENGTH, NODE_KEY_PREFIX } from '../modules/proxmox-nodes/node-keys.js';
import { ForbiddenError, UnauthorizedError } from './errors.js';

/** What a route requires of its caller; set in the route's `config`. */
export type AuthRequirement = 'public' | 'user' | 'admin' | 'node';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Default 'user' under /api/v1, 'public' elsewhere. 'public' routes take no credentials. */
    auth?: AuthRequirement;
    /** A route only a logged-in person (not a personal access token) may use. */
    sessionOnly?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

export const PAT_PREFIX = 'adb_pat_';
/** Characters of a personal access token stored in clear for lookup. */
export const PAT_LOOKUP_LENGTH = PAT_PREFIX.length + 12;

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const invalidToken = () =>
  new UnauthorizedError('The access token is missing, expired or revoked.', 'invalid_token');

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S{1,4096})$/i.exec(header);
  if (!m?.[1]) throw invalidToken();
  return m[1];
}

async function actorFromAccessToken(app: FastifyInstance, token: string): Promise<Actor> {
  const claims = await verifyAccessToken(app.deps.config.jwtSecret, token);
  if (!claims) throw invalidToken();
  // Role, active flag and session state come from the database, or from the credential
  // cache that every deactivation, role change, password change and logout empties at once
  // (LISTEN accountdb_auth), so each takes effect on the very next request.
  const state = await app.deps.credentials.lookup({
    key: `s:${claims.userId}:${claims.sessionId}`,
    load: () => sessionState(app.deps.database, claims),
    keep: (s) =>
      s?.isActive && s.sessionOpen ? { userId: claims.userId, sessionId: claims.sessionId } : null,
  });
  if (!state?.isActive || !state.sessionOpen) throw invalidToken();
  return {
    kind: 'user',
    userId: claims.userId,
    username: state.username,
    role: state.role,
    via: 'session',
    sessionId: claims.sessionId,
    scopes: ['read', 'write'],
  };
}

async function actorFromPersonalToken(
  app: FastifyInstance,
  token: string,
  request: FastifyRequest,
): Promise<Actor> {
  if (token.length < PAT_LOOKUP_LENGTH + 8) throw invalidToken();
  const { database, credentials } = app.deps;
  const key = `t:${token.slice(0, PAT_LOOKUP_LENGTH)}`;
  const found = await credentials.lookup({
    key,
    load: () => apiTokenLookup(database, token.slice(0, PAT_LOOKUP_LENGTH)),
    keep: (t) => (t?.isActive ? { userId: t.ownerId, tokenId: t.id } : null),
  });
  if (!found || !sameHash(found.tokenHash, sha256(token))) throw invalidToken();
  if (found.expiresAt && found.expiresAt.getTime() <= Date.now()) throw invalidToken();
  if (!found.isActive) throw invalidToken();
  const actor: Actor = {
    kind: 'user',
    userId: found.ownerId,
    username: found.username,
    role: found.role,
    via: 'token',
    tokenId: found.id,
    scopes: found.scopes,
  };
  // last_used_at at most once a minute per token, so a busy script does not write per call.
  if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > 60_000) {
    await withTenant(database, actor, (tx) =>
      tx
        .update(apiTokens)
        .set({ lastUsedAt: sql`now()`, lastUsedIp: request.ip })
        .where(
          and(
            eq(apiTokens.id, found.id),
            or(
              isNull(apiTokens.lastUsedAt),
              lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`),
            ),
          ),
        ),
    );
    const now = new Date();
    credentials.update<ApiTokenLookup | null>(key, (t) => (t ? { ...t, lastUsedAt: now } : t));
  }
  return actor;
}

async function actorFromNodeKey(app: FastifyInstance, token: string): Promise<Actor> {
  if (token.length < NODE_KEY_LOOKUP_LENGTH + 8) throw invalidToken();
  const prefix = token.slice(0, NODE_KEY_LOOKUP_LENGTH);
  const found = await app.deps.credentials.lookup({
    key: `n:${prefix}`,
    load: () => nodeKeyLookup(app.deps.database, prefix),
    keep: (n) => (n?.ownerActive ? { userId: n.ownerId, nodeId: n.nodeId } : null),
  });
  if (!found || !sameHash(found.keyHash, sha256(token)) || !found.ownerActive) throw invalidToken();
  return { kind: 'node', nodeId: found.nodeId, ownerId: found.ownerId };
}

/** Resolves the caller of every request into request.actor and enforces the route's rule. */
export function registerAuthHooks(app: FastifyInstance): void {
  app.decorateRequest('actor', null as never);
  app.addHook('onRequest', async (request) => {
    request.actor = { kind: 'anonymous' };
    const url = request.routeOptions.url;
    if (!url) return; // no route: the not-found handler answers
    // Routes of the versioned API need a user unless they say otherwise; the rest (health,
    // OpenAPI document, docs) are public unless they say otherwise.
    const requirement =
      request.routeOptions.config?.auth ?? (url.startsWith('/api/v1/') ? 'user' : 'public');
    if (requirement === 'public') return;
    const token = bearer(request);
    if (!token) throw new UnauthorizedError();
    if (requirement === 'node') {
      // Agent routes take only a node key; a node key is good for nothing else.
      if (!token.startsWith(NODE_KEY_PREFIX)) {
        throw new UnauthorizedError(
          'Agent routes need the node key (adb_node_…).',
          'invalid_token',
        );
      }
      request.actor = await actorFromNodeKey(app, token);
      return;
    }
    if (token.startsWith(PAT_PREFIX)) {
      request.actor = await actorFromPersonalToken(app, token, request);
    } else if (token.startsWith('adb_')) {
      throw invalidToken();
    } else {
      request.actor = await actorFromAccessToken(app, token);
    }
    const actor = request.actor;
    if (actor.kind !== 'user') throw invalidToken();
    if (actor.via === 'token') {
      if (request.routeOptions.config?.sessionOnly) {
        throw new ForbiddenError(
          'Personal access tokens cannot do this; log in instead.',
          'session_required',
        );
      }
      const needed = READ_METHODS.has(request.method) ? 'read' : 'write';
      const has =
        actor.scopes.includes(needed) || (needed === 'read' && actor.scopes.includes('write'));
      if (!has) {
        throw new ForbiddenError(`This token lacks the "${needed}" scope.`, 'insufficient_scope');
      }
    }
    if (requirement === 'admin' && actor.role !== 'admin') {
      throw new ForbiddenError('Only an admin may do this.', 'admin_only');
    }
  });
}

/** The audit context of a request: its actor, client address and request id. */
export function auditContext(request: FastifyRequest): AuditContext {
  return { actor: request.actor, ip: request.ip, requestId: request.id };
}
