import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { accountStatusEvents, accounts } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../http/errors.js';
import { registerJsonBodyParser } from '../../http/json-body.js';
import { emptyBodyIfNone } from '../../http/optional-body.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { Tags } from '../../http/resource/fields.js';
import { registerResourceRoutes } from '../../http/resource/routes.js';
import { ReasonParam, revealReason } from '../../http/scope.js';
import { writeAudit } from '../audit/write-audit.js';
import { assertSecretsShared, withShares } from '../grants/shares.js';
import { claimAccount, releaseAccount } from './claim-account.js';
import { importRoute } from './import-route.js';
import { maFileImportRoute } from './mafile-import-route.js';
import { accountSpec, toAccountDto } from './resource.js';
import { AccountSecrets, SECRET_FIELDS } from './schemas.js';
import { openSecrets } from './secrets.js';
import { currentCode } from './totp.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const RevealQuery = Type.Object({ reason: ReasonParam }, { additionalProperties: false });

function defaultHolder(request: FastifyRequest): string {
  const actor = request.actor;
  if (actor.kind !== 'user') return 'unknown';
  return actor.tokenId ? `${actor.username} (token ${actor.tokenId.slice(0, 8)})` : actor.username;
}

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const keys = app.deps.keys;
  const steamClock = app.deps.steamClock;

  // Account ids are often 64-bit (SteamID64): JSON bodies keep long integers as strings.
  registerJsonBodyParser(app, { bigIntegers: true, emptyIsNone: true });
  await app.register(importRoute);
  await app.register(maFileImportRoute);

  app.post(
    '/accounts/claim',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Claim an account',
        description:
          'Leases one active, unclaimed account matching the filter to the caller for lease_seconds, atomically: ' +
          'concurrent claimers never get the same account. The least recently claimed account goes first. A lapsed ' +
          'lease makes the account claimable again. 404 nothing_to_claim when none is free. With ' +
          'include_secrets=true the answer carries the decrypted secrets (audited). An admin claiming with secrets ' +
          'for another user (owner_id) gives a reason (400 reason_required before anything is claimed), written to the audit entry that user reads.',
        body: Type.Object(
          {
            lease_seconds: Type.Integer({ minimum: 10, maximum: 7 * 86_400, default: 600 }),
            claimed_by: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description: 'Name of the worker (default: you)',
              }),
            ),
            filter: Type.Optional(
              Type.Object(
                {
                  service: Type.Optional(Type.String({ maxLength: 50 })),
                  tags: Type.Optional(Tags),
                },
                { additionalProperties: false },
              ),
            ),
            include_secrets: Type.Boolean({ default: false }),
            owner_id: Type.Optional(
              Type.String({
                format: 'uuid',
                description: "Admins: claim one of this user's accounts",
              }),
            ),
            reason: ReasonParam,
          },
          {
            additionalProperties: false,
            examples: [
              {
                lease_seconds: 900,
                claimed_by: 'worker-3',
                filter: { service: 'steam', tags: ['prime'] },
                include_secrets: true,
              },
            ],
          },
        ),
        response: {
          200: Type.Object({
            account: Type.Ref('Account'),
            secrets: Type.Optional(AccountSecrets),
          }),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const ownerId = ownerFor(request.actor, body.owner_id);
      const claimedBy = body.claimed_by ?? defaultHolder(request);
      // Another user's secrets need a reason, asked before anything is leased.
      const reason = body.include_secrets
        ? revealReason(request.actor, ownerId, body.reason, 'body')
        : body.reason?.trim() || undefined;
      return app.tenant(request, async (tx) => {
        const row = await claimAccount(tx, {
          ownerId,
          claimedBy,
          leaseSeconds: body.lease_seconds,
          filter: { service: body.filter?.service, tags: body.filter?.tags },
          audit: {
            context: auditContext(request),
            details: {
              claimed_by: claimedBy,
              lease_seconds: body.lease_seconds,
              include_secrets: body.include_secrets,
              ...(reason ? { reason } : {}),
            },
          },
        });
        app.metrics.claims.inc({ kind: 'account', result: row ? 'claimed' : 'empty' });
        if (!row) throw new NotFoundError('free account matching the filter', 'nothing_to_claim');
        if (!body.include_secrets) return { account: toAccountDto(row) };
        const secrets = await openSecrets({ tx, keys, row });
        return {
          account: toAccountDto(row),
          secrets: Object.fromEntries(SECRET_FIELDS.map((f) => [f, secrets[f] ?? null])) as never,
        };
      });
    },
  );

  app.post(
    '/accounts/:id/release',
    {
      preValidation: emptyBodyIfNone,
      schema: {
        tags: ['accounts'],
        summary: 'Release a claimed account',
        description:
          "Ends the lease at once. With claimed_by, only that holder's lease is ended (409 not_lease_holder otherwise).",
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { claimed_by: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
            { additionalProperties: false, examples: [{ claimed_by: 'worker-3' }] },
          ),
        ),
        response: { 200: Type.Ref('Account'), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      return app.tenant(request, async (tx) => {
        const { row, heldBy } = await releaseAccount(tx, {
          id: request.params.id,
          holder: request.body?.claimed_by,
          audit: { context: auditContext(request) },
        });
        if (!row && heldBy)
          throw new ConflictError(`The lease is held by ${heldBy}.`, 'not_lease_holder');
        if (!row) {
          // Visible but not lockable: shared read-only (migration 0020).
          const [seen] = await tx
            .select({ id: accounts.id })
            .from(accounts)
            .where(eq(accounts.id, request.params.id));
          if (seen)
            throw new ForbiddenError(
              'This account is shared with you read-only.',
              'share_read_only',
            );
          throw new NotFoundError('account');
        }
        // A grantee's release is in the owner's log (above) and in their own.
        const actor = request.actor;
        if (actor.kind === 'user' && actor.role !== 'admin' && row.ownerId !== actor.userId) {
          await writeAudit(tx, auditContext(request), {
            action: 'account.release',
            entityType: 'account',
            entityId: row.id,
            details: { shared_owner_id: row.ownerId },
          });
        }
        return (await withShares(tx, request.actor, 'account', [toAccountDto(row)]))[0] as never;
      });
    },
  );

  app.get(
    '/accounts/:id/secrets',
    {
      schema: {
        tags: ['accounts'],
        summary: "Reveal an account's secrets",
        description:
          'The decrypted secrets (null where none is stored). Every reveal is written to the audit log first; if that ' +
          "fails, nothing is revealed. Answers carry Cache-Control: no-store. An admin revealing another user's " +
          "account must give a reason (400 reason_required without one); the entry, with the reason, is in the owner's audit log. " +
          'A grantee of a shared account reads them only when the share includes its secrets (403 secrets_not_shared ' +
          "otherwise); the reveal is then in the owner's log and the grantee's.",
        params: IdParams,
        querystring: RevealQuery,
        response: { 200: AccountSecrets, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      return app.tenant(request, async (tx) => {
        const [row] = await tx.select().from(accounts).where(eq(accounts.id, request.params.id));
        if (!row) throw new NotFoundError('account');
        await assertSecretsShared(tx, request.actor, row);
        const reason = revealReason(request.actor, row.ownerId, request.query.reason);
        await writeAudit(tx, auditContext(request), {
          action: 'account.reveal_secrets',
          entityType: 'account',
          entityId: row.id,
          ownerId: row.ownerId,
          details: { fields: row.secretFields, ...(reason !== undefined ? { reason } : {}) },
        });
        const secrets = await openSecrets({ tx, keys, row, actor: request.actor });
        return Object.fromEntries(SECRET_FIELDS.map((f) => [f, secrets[f] ?? null])) as never;
      });
    },
  );

  app.get(
    '/accounts/:id/totp',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Current 2FA code',
        description:
          "The current code from the account's Steam shared_secret (kind steam: 5 characters) or else its TOTP secret " +
          '(kind totp, RFC 6238), with the seconds it stays valid. 409 no_totp_secret when the account has neither. Audited. ' +
          "Steam codes are made at Steam's time (the local clock plus the offset from the Steam time source, see steam_time in GET /api/health); TOTP codes at the local time. " +
          "An admin asking for another user's code must give a reason (400 reason_required without one); the entry, with the reason, is in the owner's audit log. " +
          'A grantee of a shared account gets the code only when the share includes its secrets (403 secrets_not_shared otherwise).',
        params: IdParams,
        querystring: RevealQuery,
        response: {
          200: Type.Object(
            {
              code: Type.String(),
              period: Type.Integer(),
              remaining_s: Type.Integer(),
              kind: Type.Union([Type.Literal('totp'), Type.Literal('steam')]),
            },
            { examples: [{ code: 'K7R2D', period: 30, remaining_s: 17, kind: 'steam' }] },
          ),
          ...problemResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      return app.tenant(request, async (tx) => {
        const [row] = await tx.select().from(accounts).where(eq(accounts.id, request.params.id));
        if (!row) throw new NotFoundError('account');
        await assertSecretsShared(tx, request.actor, row);
        const reason = revealReason(request.actor, row.ownerId, request.query.reason);
        const secrets = await openSecrets({ tx, keys, row, actor: request.actor });
        const code = currentCode(secrets, steamClock.codeClock());
        if (!code)
          throw new ConflictError(
            'This account has no TOTP secret and no Steam shared_secret.',
            'no_totp_secret',
          );
        await writeAudit(tx, auditContext(request), {
          action: 'account.totp',
          entityType: 'account',
          entityId: row.id,
          ownerId: row.ownerId,
          details: { kind: code.kind, ...(reason !== undefined ? { reason } : {}) },
        });
        return code;
      });
    },
  );

  app.get(
    '/accounts/:id/events',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Status history of an account',
        description: 'Every status change of the account, newest first.',
        params: IdParams,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              items: Type.Array(
                Type.Object({
                  from_status: Type.Union([Type.String(), Type.Null()]),
                  to_status: Type.String(),
                  reason: Type.Union([Type.String(), Type.Null()]),
                  at: Type.String({ format: 'date-time' }),
                }),
              ),
            },
            {
              examples: [
                {
                  items: [
                    {
                      from_status: 'active',
                      to_status: 'locked',
                      reason: 'Too many login attempts',
                      at: '2026-11-25T09:30:00.000Z',
                    },
                    {
                      from_status: null,
                      to_status: 'active',
                      reason: null,
                      at: '2026-11-24T12:00:00.000Z',
                    },
                  ],
                },
              ],
            },
          ),
          ...problemResponses(400, 401, 404),
        },
      },
    },
    async (request) => {
      return app.tenant(request, async (tx) => {
        const [row] = await tx
          .select({ id: accounts.id })
          .from(accounts)
          .where(eq(accounts.id, request.params.id));
        if (!row) throw new NotFoundError('account');
        const events = await tx
          .select()
          .from(accountStatusEvents)
          .where(eq(accountStatusEvents.accountId, row.id))
          .orderBy(desc(accountStatusEvents.at), desc(accountStatusEvents.id))
          .limit(request.query.limit);
        return {
          items: events.map((e) => ({
            from_status: e.fromStatus,
            to_status: e.toStatus,
            reason: e.reason,
            at: e.at.toISOString(),
          })),
        };
      });
    },
  );

  registerResourceRoutes(app, accountSpec);
};

export default routes;
