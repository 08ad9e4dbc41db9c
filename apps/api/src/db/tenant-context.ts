import { createHmac } from 'node:crypto';

/** The roles a tenant context can carry (migration 0007's app_context_seal accepts these). */
export type ContextRole = 'user' | 'admin' | 'node' | 'anonymous' | 'login';

export interface ContextClaims {
  /** The user the transaction acts for ('' for none). */
  userId: string;
  role: ContextRole;
  /** The node an agent request acts for ('' for none). */
  nodeId: string;
}

export interface SignedContext {
  /** 'v1|<user id>|<role>|<node id>|<issued at, ms>' */
  claims: string;
  /** HMAC-SHA256('enter|' + claims) under the database's context key. */
  signature: Buffer;
}

const UUID_OR_EMPTY = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$/;

/**
 * Signs the claims a request transaction is opened with. The database's
 * app_context_seal() checks the signature with the same key (which only its definer
 * functions can read) and binds the claims to the transaction, so a statement that sets
 * app.ctx (or any app.* setting) by hand makes itself a stranger: it sees no row.
 */
export function signContext(
  key: Buffer,
  claims: ContextClaims,
  now: number = Date.now(),
): SignedContext {
  for (const id of [claims.userId, claims.nodeId]) {
    // Ids come from verified tokens and database rows; a separator in one would shift fields.
    if (!UUID_OR_EMPTY.test(id)) throw new Error('tenant context: an id is not a UUID');
  }
  const text = `v1|${claims.userId}|${claims.role}|${claims.nodeId}|${Math.floor(now)}`;
  return { claims: text, signature: createHmac('sha256', key).update(`enter|${text}`).digest() };
}
