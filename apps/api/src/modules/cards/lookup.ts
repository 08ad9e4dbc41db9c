import { and, asc, count, eq, inArray, or, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import { cards } from '../../db/schema.js';
import type { Actor, Tx } from '../../db/tenant.js';
import { BadRequestError } from '../../http/errors.js';
import { OwnerIdParam, ScopeParam, scopeOwner } from '../../http/scope.js';
import { codeIndexes } from './card-codes.js';

type Row = typeof cards.$inferSelect;

/** Cards a lookup answers when the body does not say. */
const LOOKUP_LIMIT = 50;

/** The body of POST /cards/lookup: a code never travels in a URL (logs, history, proxies). */
export const CardLookupBody = Type.Object(
  {
    code: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'The exact code (code1 or code2); case, spaces and dashes do not matter',
    }),
    scope: ScopeParam,
    owner_id: OwnerIdParam,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 500,
        default: LOOKUP_LIMIT,
        description: 'At most this many cards in items (total counts them all)',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ code: 'AAAA-BBBB-CCCC-DDDD' }] },
);

/**
 * Cards whose code1 or code2 is the code, through the per-owner blind index (the code is
 * never compared in clear), oldest first; total counts every match.
 */
export async function lookupCards(options: {
  tx: Tx;
  keys: DataKeyStore;
  actor: Actor;
  body: Static<typeof CardLookupBody>;
}): Promise<{ rows: Row[]; total: number }> {
  const { tx, body } = options;
  const limit = body.limit ?? LOOKUP_LIMIT;
  if (options.actor.kind !== 'user') return { rows: [], total: 0 };
  // One's own cards; an admin's scope=all every user's, owner_id one user's.
  const owner = scopeOwner(options.actor, body);
  const indexes = await codeIndexes({
    tx,
    keys: options.keys,
    ownerIds: owner === null ? 'visible' : [owner],
    code: body.code,
  });
  if (indexes.length === 0) return { rows: [], total: 0 };
  const conditions: Array<SQL | undefined> = [
    or(inArray(cards.code1Bidx, indexes), inArray(cards.code2Bidx, indexes)),
  ];
  // Row-level security limits a user to their own cards (an admin to none); saying so lets
  // an index serve it.
  if (owner !== null) conditions.push(eq(cards.ownerId, owner));
  const where = and(...conditions);
  const rows = await tx
    .select()
    .from(cards)
    .where(where)
    .orderBy(asc(cards.createdAt), asc(cards.id))
    .limit(limit);
  const total =
    rows.length < limit
      ? rows.length
      : Number((await tx.select({ n: count() }).from(cards).where(where))[0]?.n ?? 0);
  return { rows, total };
}

/**
 * `?code=` on a cards list or export is refused with a pointer to POST /cards/lookup, so a
 * script written for the old filter learns why instead of getting "not a known field".
 */
export function refuseCodeInUrl(request: FastifyRequest): void {
  const query = request.query as Record<string, unknown> | undefined;
  if (request.method !== 'GET' || !query || !Object.hasOwn(query, 'code')) return;
  throw new BadRequestError(
    'Card codes are not accepted in a URL (they end up in logs and browser history): ' +
      'send POST /api/v1/cards/lookup with {"code": "…"} instead.',
    'code_in_url',
    [{ path: '/querystring/code', message: 'is not accepted; use POST /api/v1/cards/lookup' }],
  );
}
