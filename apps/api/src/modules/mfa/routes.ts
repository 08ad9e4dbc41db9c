import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, eq, isNull } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { loginChallenges, users } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { auditContext } from '../../http/auth-hooks.js';
import { BadRequestError, ConflictError, NotFoundError } from '../../http/errors.js';
import { emptyBodyIfNone } from '../../http/optional-body.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { Uuid } from '../users/schemas.js';
import { toUserDto } from '../users/user-dto.js';
import {
  confirmTotp,
  type MfaStatus,
  mfaStatus,
  removeFactors,
  removeTotp,
  startTotpEnrolment,
  verifySecondFactor,
} from './factors.js';
import { mfaRequired } from './login-challenge.js';
import { checkFreshFactor, registerPasskeyRoutes } from './passkey-routes.js';
import { replaceRecoveryCodes } from './recovery-codes.js';
import {
  CodeBody,
  FreshFactorBody,
  MfaResetResponse,
  MfaStatusResponse,
  RecoveryCodesResponse,
  TotpEnrolmentResponse,
} from './schemas.js';

/**
 * The signed-in user's second factors (Settings → Security) and an admin's reset of another
 * user's. Session only: a personal access token cannot see or change them. Every change that
 * weakens the login (disable, new recovery codes) needs a fresh second factor in the request.
 */

const wrongCode = () =>
  new BadRequestError('The code is wrong or was used already.', 'invalid_second_factor', [
    { path: '/body/code', message: 'is wrong or was used already' },
  ]);

const statusDto = (s: MfaStatus, required: boolean) => ({
  totp: {
    enabled: s.totp.enabled,
    pending: s.totp.pending,
    confirmed_at: s.totp.confirmedAt?.toISOString() ?? null,
    last_used_at: s.totp.lastUsedAt?.toISOString() ?? null,
  },
  passkeys: s.passkeys,
  recovery_codes_left: s.recoveryCodesLeft,
  methods: s.methods,
  required,
});

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { keys } = app.deps;
  const self = { sessionOnly: true };
  // Code checks are limited per user, like a password change: a stolen session cannot try
  // the million 6-digit codes.
  const perUser = app.rateLimit({
    max: 10,
    timeWindow: 60_000,
    groupId: 'auth-mfa',
    keyGenerator: (req) => `mfa:${req.actor.kind === 'user' ? req.actor.userId : req.ip}`,
  });
  const userIdOf = (request: FastifyRequest) => {
    if (request.actor.kind !== 'user') throw new NotFoundError('user');
    return request.actor.userId;
  };

  /** A failed code check is audited (in its own committed transaction) and answered 400. */
  const failed = async (tx: Tx, request: FastifyRequest, during: string) => {
    await writeAudit(tx, auditContext(request), {
      action: 'auth.mfa_failed',
      entityType: 'user',
      entityId: userIdOf(request),
      details: { during },
    });
    return null;
  };

  app.get(
    '/auth/mfa',
    {
      config: self,
      schema: {
        tags: ['auth'],
        summary: 'Your second factors',
        description:
          'Whether an authenticator app is set up (or waiting for its confirming code), how many recovery ' +
          'codes are left, and whether an admin requires a second factor. Never a secret.',
        response: { 200: MfaStatusResponse, ...problemResponses(401, 403) },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) =>
        statusDto(await mfaStatus(tx, userIdOf(request)), await mfaRequired(tx)),
      ),
  );

  app.post(
    '/auth/mfa/totp',
    {
      config: self,
      onRequest: perUser,
      preValidation: emptyBodyIfNone,
      schema: {
        tags: ['auth'],
        summary: 'Start setting up an authenticator app',
        description:
          'A new TOTP secret (SHA-1, 6 digits, 30 s) as base32, otpauth:// URI and QR code. It counts only once ' +
          'confirmed with a current code (POST /auth/mfa/totp/confirm); calling this again replaces an ' +
          'unconfirmed one. 409 mfa_already_enabled while one is confirmed. A user who has passkeys sends a ' +
          'fresh second factor with it (`passkey`, an assertion for POST /auth/mfa/passkeys/verify-options, or ' +
          '`code`, a recovery code): 400 second_factor_required / invalid_second_factor otherwise. No body ' +
          'otherwise.',
        body: FreshFactorBody,
        response: { 200: TotpEnrolmentResponse, ...problemResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const enrolment = await app.tenant(request, async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, ownerId));
        if (!user) throw new NotFoundError('user');
        // With passkeys the user has a second factor already: adding another needs it.
        if ((await mfaStatus(tx, ownerId)).passkeys > 0) {
          const proof = await checkFreshFactor(tx, {
            request,
            keys,
            config: app.deps.config.webauthn,
            ownerId,
            proof: request.body ?? {},
          });
          if (proof === 'missing') return 'missing' as const;
          if (proof === 'wrong') return failed(tx, request, 'totp_enroll');
        }
        const started = await startTotpEnrolment(tx, { keys, ownerId, account: user.username });
        await writeAudit(tx, auditContext(request), {
          action: 'auth.mfa_enroll',
          entityType: 'user',
          entityId: ownerId,
          details: { method: 'totp' },
        });
        return started;
      });
      if (enrolment === 'missing') {
        throw new BadRequestError(
          'Setting up an app when you have passkeys needs a fresh second factor: a passkey or a recovery code.',
          'second_factor_required',
          [{ path: '/body/passkey', message: 'is required (or code)' }],
        );
      }
      if (!enrolment) throw wrongCode();
      reply.header('cache-control', 'no-store');
      return {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauthUri,
        qr_code: enrolment.qrSvgDataUrl,
      };
    },
  );

  app.post(
    '/auth/mfa/totp/confirm',
    {
      config: self,
      onRequest: perUser,
      schema: {
        tags: ['auth'],
        summary: 'Confirm the authenticator app',
        description:
          'A current code of the app being set up turns it on and answers ten one-time recovery codes, shown ' +
          'once (earlier ones stop working). From the next login on, a code is asked after the password. ' +
          '400 invalid_second_factor for a wrong code; 409 mfa_not_pending when no setup waits.',
        body: CodeBody,
        response: { 200: RecoveryCodesResponse, ...problemResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const codes = await app.tenant(request, async (tx) => {
        const status = await mfaStatus(tx, ownerId);
        if (!status.totp.pending) return 'not_pending' as const;
        if (!(await confirmTotp(tx, { keys, ownerId, code: request.body.code.trim() })))
          return failed(tx, request, 'confirm');
        const recovery = await replaceRecoveryCodes(tx, ownerId);
        await writeAudit(tx, auditContext(request), {
          action: 'auth.mfa_enabled',
          entityType: 'user',
          entityId: ownerId,
          details: { method: 'totp', recovery_codes: recovery.length },
        });
        return recovery;
      });
      if (codes === 'not_pending') {
        throw new ConflictError(
          'No authenticator app is waiting for confirmation; start with POST /auth/mfa/totp.',
          'mfa_not_pending',
        );
      }
      if (!codes) throw wrongCode();
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes };
    },
  );

  app.post(
    '/auth/mfa/disable',
    {
      config: self,
      onRequest: perUser,
      schema: {
        tags: ['auth'],
        summary: 'Turn the authenticator app off',
        description:
          'Needs a fresh second factor in the same request: a current code of the app or an unused recovery ' +
          'code. Removes the app, and the recovery codes when no passkey is left (passkeys are removed one by ' +
          'one: POST /auth/mfa/passkeys/{id}/remove). Where an admin requires a second factor and none is ' +
          'left, the next login asks to set one up again. 400 invalid_second_factor for a wrong code.',
        body: CodeBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const done = await app.tenant(request, async (tx) => {
        const method = await verifySecondFactor(tx, { keys, ownerId, code: request.body.code });
        if (!method) return failed(tx, request, 'disable');
        const removed = await removeTotp(tx, ownerId);
        await writeAudit(tx, auditContext(request), {
          action: 'auth.mfa_disabled',
          entityType: 'user',
          entityId: ownerId,
          details: { proved_with: method, factors: removed },
        });
        return true;
      });
      if (!done) throw wrongCode();
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/mfa/recovery-codes',
    {
      config: self,
      onRequest: perUser,
      schema: {
        tags: ['auth'],
        summary: 'New recovery codes',
        description:
          'Needs a fresh second factor in the same request (a current code or an unused recovery code). ' +
          'Answers ten new one-time codes, shown once; the earlier ones stop working. ' +
          '400 invalid_second_factor for a wrong code.',
        body: CodeBody,
        response: { 200: RecoveryCodesResponse, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const ownerId = userIdOf(request);
      const codes = await app.tenant(request, async (tx) => {
        const method = await verifySecondFactor(tx, { keys, ownerId, code: request.body.code });
        if (!method) return failed(tx, request, 'recovery_codes');
        const fresh = await replaceRecoveryCodes(tx, ownerId);
        await writeAudit(tx, auditContext(request), {
          action: 'auth.mfa_recovery_codes_regenerated',
          entityType: 'user',
          entityId: ownerId,
          details: { proved_with: method, recovery_codes: fresh.length },
        });
        return fresh;
      });
      if (!codes) throw wrongCode();
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes };
    },
  );

  registerPasskeyRoutes(fastify);

  const admin = { auth: 'admin' as const };
  const IdParams = Type.Object({ id: Uuid });

  app.get(
    '/users/:id/mfa',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: "A user's second factors",
        description:
          'Whether the user has an authenticator app, how many passkeys and recovery codes. Admins only.',
        params: IdParams,
        response: { 200: MfaStatusResponse, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, request.params.id));
        if (!user) throw new NotFoundError('user');
        return statusDto(await mfaStatus(tx, user.id), await mfaRequired(tx));
      }),
  );

  app.delete(
    '/users/:id/mfa',
    {
      config: admin,
      schema: {
        tags: ['users'],
        summary: "Reset a user's second factors",
        description:
          'Removes the authenticator app, passkeys and recovery codes of a user who lost them, and ends their pending ' +
          'login challenges; they log in with the password alone (or set up a factor at login where one is ' +
          'required). Audited on the user, who sees it in their audit log. Admins only.',
        params: IdParams,
        response: { 200: MfaResetResponse, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      app.tenant(request, async (tx) => {
        const [user] = await tx.select().from(users).where(eq(users.id, request.params.id));
        if (!user) throw new NotFoundError('user');
        const removed = await removeFactors(tx, user.id);
        await tx
          .update(loginChallenges)
          .set({ usedAt: new Date() })
          .where(and(eq(loginChallenges.ownerId, user.id), isNull(loginChallenges.usedAt)));
        await writeAudit(tx, auditContext(request), {
          action: 'auth.mfa_reset',
          entityType: 'user',
          entityId: user.id,
          ownerId: user.id,
          details: { via: 'admin', factors: removed },
        });
        return { user: toUserDto(user), removed_factors: removed };
      }),
  );
};

export default routes;
