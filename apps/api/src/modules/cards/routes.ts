import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, arrayContains, eq, type SQL, sql } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { leaseOne } from '../../db/lease-one.js';
import { cards } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { auditContext } from '../../http/auth-hooks.js';
import { ConflictError, NotFoundError } from '../../http/errors.js';
import { emptyBodyIfNone } from '../../http/optional-body.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { writeProblem } from '../../http/resource/errors.js';
import { Tags } from '../../http/resource/fields.js';
import { registerResourceRoutes } from '../../http/resource/routes.js';
import {
  ReasonParam,
  revealReason,
  scopeOwner,
  showsOthers,
  withOwners,
} from '../../http/scope.js';
import { writeAudit } from '../audit/write-audit.js';
import { importRoute } from './import-route.js';
import { CardLookupBody, lookupCards, refuseCodeInUrl } from './lookup.js';
import {
  cardSpec,
  effectiveCardStatus,
  effectiveCardStatusSql,
  revealCard,
  toCardDto,
} from './resource.js';

type Row = typeof cards.$inferSelect;
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const CardRef = Type.Ref('Card');

async function lockCard(tx: Tx, id: string): Promise<Row> {
  const [row] = await tx.select().from(cards).where(eq(cards.id, id)).for('update');
  if (!row) throw new NotFoundError('card');
  return row;
}

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const keys = app.deps.keys;

  // GET /cards?code= was the lookup before POST /cards/lookup: say where it went (before the
  // import route's plugin is registered, so that it inherits the hook too).
  app.addHook('onRequest', async (request) => refuseCodeInUrl(request));
  await app.register(importRoute);

  /** One state change of a card, audited, answering the card. */
  async function transition(
    request: FastifyRequest,
    id: string,
    action: string,
    change: (row: Row) => Record<string, unknown>,
    details: Record<string, unknown> = {},
  ) {
    return app
      .tenant(request, async (tx) => {
        const row = await lockCard(tx, id);
        const [updated] = await tx
          .update(cards)
          .set(change(row))
          .where(eq(cards.id, id))
          .returning();
        if (!updated) throw new NotFoundError('card');
        await writeAudit(tx, auditContext(request), {
          action: `card.${action}`,
          entityType: 'card',
          entityId: id,
          ownerId: row.ownerId,
          details: { from: effectiveCardStatus(row), ...details },
        });
        return toCardDto(updated);
      })
      .catch((err) => {
        throw writeProblem(cardSpec, err) ?? err;
      });
  }

  app.post(
    '/cards/lookup',
    {
      schema: {
        tags: ['cards'],
        summary: 'Find cards by code',
        description:
          'The cards whose code1 or code2 is the code in the body (exact, ignoring case, spaces and dashes), ' +
          'found through a keyed hash of the code (blind index); the code is never compared or stored in clear. ' +
          'The code travels in the body, never in a URL, so it reaches no access log or browser history. ' +
          'Answers the cards as lists show them (codes masked, not audited: GET /cards/{id} reveals and audits), ' +
          "oldest first; total counts every match. Everyone searches their own cards; an admin every user's with " +
          "scope=all, or one user's with owner_id (each card then carries its owner).",
        body: CardLookupBody,
        response: {
          200: Type.Object(
            {
              items: Type.Array(CardRef),
              total: Type.Integer({ description: 'Cards matching the code' }),
            },
            { examples: [{ items: [], total: 0 }] },
          ),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => {
        const { rows, total } = await lookupCards({
          tx,
          keys,
          actor: request.actor,
          body: request.body,
        });
        const items = rows.map(toCardDto);
        const others = showsOthers(request.actor, scopeOwner(request.actor, request.body));
        return { items: others ? await withOwners(tx, items) : items, total };
      }),
  );

  app.post(
    '/cards/claim',
    {
      schema: {
        tags: ['cards'],
        summary: 'Claim a card',
        description:
          'Leases one available card (optionally of a currency, a minimum value or with tags) to the caller for ' +
          'lease_seconds and answers it with its codes (audited). Concurrent claimers never get the same card; ' +
          'unexpired cards expiring soonest go first. A lapsed lease makes the card available again. ' +
          "404 nothing_to_claim when none is free. An admin claiming one of another user's cards (owner_id) gives a " +
          'reason (400 reason_required before anything is leased), written to the audit entry that user reads.',
        body: Type.Object(
          {
            lease_seconds: Type.Integer({ minimum: 10, maximum: 7 * 86_400, default: 600 }),
            claimed_by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            filter: Type.Optional(
              Type.Object(
                {
                  currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$' })),
                  min_value: Type.Optional(Type.Number({ minimum: 0 })),
                  tags: Type.Optional(Tags),
                },
                { additionalProperties: false },
              ),
            ),
            owner_id: Type.Optional(
              Type.String({
                format: 'uuid',
                description: "Admins: claim one of this user's cards",
              }),
            ),
            reason: ReasonParam,
          },
          {
            additionalProperties: false,
            examples: [
              {
                lease_seconds: 300,
                claimed_by: 'redeemer-1',
                filter: { currency: 'EUR', min_value: 20 },
              },
            ],
          },
        ),
        response: { 200: CardRef, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const body = request.body;
      const ownerId = ownerFor(request.actor, body.owner_id);
      const actor = request.actor;
      const claimedBy = body.claimed_by ?? (actor.kind === 'user' ? actor.username : 'unknown');
      // The answer carries the codes: another user's need a reason, asked before the lease.
      const reason = revealReason(actor, ownerId, body.reason, 'body');
      return app.tenant(request, async (tx) => {
        const conditions: Array<SQL | undefined> = [
          eq(cards.ownerId, ownerId),
          sql`${effectiveCardStatusSql} = 'available'`,
          sql`(${cards.expiresAt} IS NULL OR ${cards.expiresAt} > now())`,
        ];
        if (body.filter?.currency)
          conditions.push(eq(cards.currency, body.filter.currency.toUpperCase()));
        if (body.filter?.min_value !== undefined)
          conditions.push(sql`${cards.value} >= ${body.filter.min_value}`);
        if (body.filter?.tags?.length) conditions.push(arrayContains(cards.tags, body.filter.tags));
        const row = await leaseOne<Row>(tx, {
          table: cards,
          where: and(...conditions) as SQL,
          orderBy: [
            sql`${cards.expiresAt} ASC NULLS LAST`,
            sql`${cards.createdAt}`,
            sql`${cards.id}`,
          ],
          set: {
            status: 'claimed',
            claimedBy,
            claimedAt: sql`now()`,
            claimedUntil: sql`now() + make_interval(secs => ${body.lease_seconds})`,
          },
        });
        app.metrics.claims.inc({ kind: 'card', result: row ? 'claimed' : 'empty' });
        if (!row) throw new NotFoundError('available card matching the filter', 'nothing_to_claim');
        await writeAudit(tx, auditContext(request), {
          action: 'card.claim',
          entityType: 'card',
          entityId: row.id,
          ownerId: row.ownerId,
          details: {
            claimed_by: claimedBy,
            lease_seconds: body.lease_seconds,
            ...(reason ? { reason } : {}),
          },
        });
        return revealCard(row, { tx, request, keys });
      });
    },
  );

  app.post(
    '/cards/:id/redeem',
    {
      preValidation: emptyBodyIfNone,
      schema: {
        tags: ['cards'],
        summary: 'Mark a card redeemed',
        description:
          'From available or claimed: the card is redeemed now, optionally onto one of your accounts. 409 when it is redeemed, failed or disabled.',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { account_id: Type.Optional(Type.String({ format: 'uuid' })) },
            {
              additionalProperties: false,
              examples: [{ account_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f' }],
            },
          ),
        ),
        response: { 200: CardRef, ...problemResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request) =>
      transition(
        request,
        request.params.id,
        'redeem',
        (row) => {
          const status = effectiveCardStatus(row);
          if (status !== 'available' && status !== 'claimed') {
            throw new ConflictError(
              `The card is ${status}; only an available or claimed card can be redeemed.`,
              'invalid_transition',
            );
          }
          return {
            status: 'redeemed',
            redeemedAt: sql`now()`,
            accountId: request.body?.account_id ?? row.accountId,
            claimedBy: null,
            claimedAt: null,
            claimedUntil: null,
          };
        },
        { account_id: request.body?.account_id ?? null },
      ),
  );

  app.post(
    '/cards/:id/fail',
    {
      schema: {
        tags: ['cards'],
        summary: 'Mark a card failed',
        description: 'From available or claimed: the card did not redeem; the reason is kept.',
        params: IdParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false, examples: [{ reason: 'Code already used' }] },
        ),
        response: { 200: CardRef, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) =>
      transition(request, request.params.id, 'fail', (row) => {
        const status = effectiveCardStatus(row);
        if (status !== 'available' && status !== 'claimed') {
          throw new ConflictError(
            `The card is ${status}; only an available or claimed card can fail.`,
            'invalid_transition',
          );
        }
        return {
          status: 'failed',
          failureReason: request.body.reason,
          claimedBy: null,
          claimedAt: null,
          claimedUntil: null,
        };
      }),
  );

  app.post(
    '/cards/:id/release',
    {
      schema: {
        tags: ['cards'],
        summary: 'Release a claimed card',
        description: 'Ends the lease: the card is available again. 409 when it is not claimed.',
        params: IdParams,
        response: { 200: CardRef, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) =>
      transition(request, request.params.id, 'release', (row) => {
        if (effectiveCardStatus(row) !== 'claimed') {
          throw new ConflictError('The card is not claimed.', 'invalid_transition');
        }
        return { status: 'available', claimedBy: null, claimedAt: null, claimedUntil: null };
      }),
  );

  registerResourceRoutes(app, cardSpec);
};

export default routes;
