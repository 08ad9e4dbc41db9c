import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { hashPassword, verifyPassword } from '../../crypto/passwords.js';
import { users } from '../../db/schema.js';
import { withTenant } from '../../db/tenant.js';
import { auditContext } from '../../http/auth-hooks.js';
import {
  AppError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TooManyRequestsError,
} from '../../http/errors.js';
import { emptyBodyIfNone } from '../../http/optional-body.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { verifyChallenge } from '../mfa/challenge-token.js';
import { finishLogin, startLoginEnrolment, startPasskeyLoginStep } from '../mfa/login-step.js';
import { passwordlessLogin, passwordlessOptions } from '../mfa/passwordless.js';
import {
  LoginChallengeResponse,
  LoginEnrollBody,
  LoginMfaBody,
  LoginMfaResponse,
  LoginPasskeyBody,
  LoginPasskeyOptionsBody,
  PasskeyOptionsResponse,
  PasswordlessBody,
  TotpEnrolmentResponse,
} from '../mfa/schemas.js';
import { userConflict } from '../users/user-conflict.js';
import { toUserDto } from '../users/user-dto.js';
import { verifyAccessToken } from './access-token.js';
import { clearRefreshCookie, refreshTokenOf, setRefreshCookie } from './cookies.js';
import {
  createFirstAdmin,
  registerUser,
  setupNeeded,
  writeSystemAudit,
} from './definer-functions.js';
import { login } from './login.js';
import {
  LoginBody,
  LoginResponse,
  MeResponse,
  NewUserBody,
  PasswordChangeBody,
  RefreshBody,
  SetupStatus,
} from './schemas.js';
import {
  endSession,
  endSessionByRefreshToken,
  issueSession,
  revokeSessions,
  rotateRefreshToken,
  tokenResponse,
} from './sessions.js';

/**
 * The name a second login step counts on: the one typed at the password step, read from the
 * verified challenge, so both steps share the per-name limit.
 */
const challengeLogin = new WeakMap<FastifyRequest, string>();

const client = (request: FastifyRequest) => ({
  ip: request.ip,
  userAgent: request.headers['user-agent'] ?? null,
});

/**
 * POST /auth/refresh and /auth/logout take an optional body: a call with only the cookie or
 * only Authorization has none, which is validated as {} instead of failing "must be object".
 */

const routes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config, database, limits } = app.deps;
  const jwtKey = config.jwtSecret;

  /** Per-IP limit for every unauthenticated auth endpoint. */
  const perIp = app.rateLimit({ max: limits.loginPerIp, timeWindow: 60_000, groupId: 'auth-ip' });
  const refreshPerIp = app.rateLimit({
    max: limits.refreshPerIp,
    timeWindow: 60_000,
    groupId: 'auth-refresh',
  });
  /**
   * Per-name limit for login, whoever asks and from wherever. Not a second app.rateLimit()
   * hook: @fastify/rate-limit runs only the first of its hooks on a request (perIp here), so a
   * second one would never count. createRateLimit() only counts; this hook answers the 429.
   */
  const nameLimit = app.createRateLimit({
    max: limits.loginPerName,
    timeWindow: 60_000,
    keyGenerator: (req) =>
      `name:${String(challengeLogin.get(req) ?? (req.body as { username?: unknown })?.username ?? '').toLowerCase()}`,
  });
  const perName = async (request: FastifyRequest) => {
    const result = await nameLimit(request);
    if (!result.isAllowed && result.isExceeded) {
      throw new TooManyRequestsError(
        `Too many requests; retry in ${result.ttlInSeconds} seconds.`,
        result.ttl / 1000,
        'rate_limited',
      );
    }
  };

  app.get(
    '/auth/setup',
    {
      config: { auth: 'public' },
      // Unauthenticated and reaches the database: limited per IP, apart from the login
      // attempts so that reloading the login page never uses them up.
      onRequest: app.rateLimit({ max: 120, timeWindow: 60_000, groupId: 'auth-setup-status' }),
      schema: {
        tags: ['auth'],
        summary: 'Is first-admin setup needed?',
        description:
          'true while no user exists; the first visitor then creates the admin with POST /auth/setup. ' +
          'Limited to 120 calls a minute per client address (429 rate_limited).',
        security: [],
        response: { 200: SetupStatus, ...problemResponses(429) },
      },
    },
    async () => ({
      needed: await setupNeeded(database),
      registration_open: config.registration === 'open',
    }),
  );

  app.post(
    '/auth/setup',
    {
      config: { auth: 'public' },
      onRequest: perIp,
      schema: {
        tags: ['auth'],
        summary: 'Create the first admin',
        description:
          'Creates the first user, with the admin role, and logs them in. Refused with 409 once any user exists.',
        security: [],
        body: NewUserBody,
        response: { 201: LoginResponse, ...problemResponses(400, 409, 429) },
      },
    },
    async (request, reply) => {
      const { username, email, password } = request.body;
      const passwordHash = await hashPassword(password);
      let userId: string | null;
      try {
        userId = await createFirstAdmin(database, { username, email, passwordHash });
      } catch (err) {
        throw userConflict(err);
      }
      if (!userId) throw new ConflictError('Setup is already done: an admin exists.', 'setup_done');
      const id = userId;
      const session = await withTenant(
        database,
        {
          kind: 'user',
          userId: id,
          username,
          role: 'admin',
          via: 'session',
          scopes: ['read', 'write'],
        },
        async (tx) => {
          // Setup logs the admin in: their first login is now.
          const [user] = await tx
            .update(users)
            .set({ lastLoginAt: sql`now()` })
            .where(eq(users.id, id))
            .returning();
          if (!user) throw new NotFoundError('user');
          const issued = await issueSession(tx, { user, jwtKey, client: client(request) });
          const ctx = {
            ...auditContext(request),
            actor: {
              kind: 'user' as const,
              userId: id,
              username,
              role: 'admin' as const,
              via: 'session' as const,
              scopes: ['read', 'write'] as const,
            },
          };
          await writeAudit(tx, ctx, { action: 'auth.setup', entityType: 'user', entityId: id });
          return issued;
        },
      );
      setRefreshCookie(reply, config, session.refreshToken);
      return reply.code(201).send({ ...tokenResponse(session), user: toUserDto(session.user) });
    },
  );

  app.post(
    '/auth/register',
    {
      config: { auth: 'public' },
      onRequest: perIp,
      schema: {
        tags: ['auth'],
        summary: 'Register (when open)',
        description:
          'Creates a user with the user role. Only when ACCOUNTDB_REGISTRATION=open; 403 registration_closed otherwise.',
        security: [],
        body: NewUserBody,
        response: {
          201: Type.Object({ user: Type.Ref('User') }),
          ...problemResponses(400, 403, 409, 429),
        },
      },
    },
    async (request, reply) => {
      if (config.registration !== 'open') {
        throw new ForbiddenError(
          'Registration is closed; ask an admin for an account.',
          'registration_closed',
        );
      }
      const { username, email, password } = request.body;
      const passwordHash = await hashPassword(password);
      let registered: string | null;
      try {
        registered = await registerUser(database, { username, email, passwordHash });
      } catch (err) {
        throw userConflict(err);
      }
      if (!registered) {
        throw new ConflictError(
          'No admin exists yet: complete first-admin setup before anyone registers.',
          'setup_required',
        );
      }
      const userId = registered;
      await writeSystemAudit(database, {
        ownerId: userId,
        actorType: 'anonymous',
        actorId: null,
        actorName: null,
        action: 'auth.register',
        entityType: 'user',
        entityId: userId,
        ip: request.ip,
        requestId: request.id,
        details: {},
      });
      const user = await withTenant(
        database,
        { kind: 'user', userId, username, role: 'user', via: 'session', scopes: ['read'] },
        async (tx) => (await tx.select().from(users).where(eq(users.id, userId)))[0],
      );
      if (!user) throw new NotFoundError('user');
      return reply.code(201).send({ user: toUserDto(user) });
    },
  );

  app.post(
    '/auth/login',
    {
      config: { auth: 'public' },
      onRequest: perIp,
      preHandler: perName,
      // Refused logins (401, 429 from the limits or the lockout) are counted by their code.
      onError: async (_request, _reply, error) => {
        if (!(error instanceof AppError) || (error.status !== 401 && error.status !== 429)) return;
        app.metrics.loginFailures.inc({ reason: error.code });
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in',
        description:
          'Exchanges a username (or e-mail) and password for a 15-minute access token and a rotating refresh token ' +
          '(also set as an HttpOnly cookie). A user with a second factor (or without one where an admin requires ' +
          'it) gets instead `mfa_required: true` with a 5-minute single-use challenge for POST /auth/login/mfa. ' +
          'Wrong name and wrong password get the same 401. ' +
          'After 5 consecutive failures the name is locked with growing backoff (429 login_locked with Retry-After); ' +
          'attempts are also limited per IP and per name (429 rate_limited).',
        security: [],
        body: LoginBody,
        response: {
          200: Type.Union([LoginResponse, LoginChallengeResponse]),
          ...problemResponses(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      const outcome = await login({
        database,
        jwtKey,
        login: request.body.username,
        password: request.body.password,
        client: client(request),
        requestId: request.id,
        lockout: limits.lockout,
      });
      if (outcome.kind === 'challenge') {
        return {
          mfa_required: true as const,
          purpose: outcome.purpose,
          challenge: outcome.token,
          expires_in: outcome.expiresIn,
          methods: outcome.methods,
        };
      }
      const { session } = outcome;
      setRefreshCookie(reply, config, session.refreshToken);
      return { ...tokenResponse(session), user: toUserDto(session.user) };
    },
  );

  /** Verifies the challenge of a second step and counts the step on the typed name's limit. */
  const perChallengeName = async (request: FastifyRequest) => {
    const token = (request.body as { challenge?: unknown } | undefined)?.challenge;
    const claims = typeof token === 'string' ? await verifyChallenge(jwtKey, token) : null;
    if (!claims) return;
    challengeLogin.set(request, claims.login);
    await perName(request);
  };

  app.post(
    '/auth/login/mfa',
    {
      config: { auth: 'public' },
      onRequest: perIp,
      preHandler: perChallengeName,
      onError: async (_request, _reply, error) => {
        if (!(error instanceof AppError) || (error.status !== 401 && error.status !== 429)) return;
        app.metrics.loginFailures.inc({ reason: error.code });
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in: the second step',
        description:
          'Finishes a login that POST /auth/login answered with a challenge: a current 6-digit code of the ' +
          'authenticator app (a code is accepted once, one 30-second step either side of now) or an unused ' +
          'recovery code. For an enroll challenge the code is the first one of the app being set up (POST ' +
          '/auth/login/mfa/enroll); the answer then also carries the ten recovery codes, shown once. Answers ' +
          'like POST /auth/login (tokens and refresh cookie). A wrong code is a failed login: 401 ' +
          "invalid_second_factor, counted on the name's lockout and limits like a wrong password; 401 " +
          'mfa_challenge_invalid for a used, expired or forged challenge (log in again).',
        security: [],
        body: LoginMfaBody,
        response: { 200: LoginMfaResponse, ...problemResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const result = await finishLogin({
        database,
        jwtKey,
        keys: app.deps.keys,
        challenge: request.body.challenge,
        code: request.body.code,
        client: client(request),
        requestId: request.id,
        lockout: limits.lockout,
      });
      setRefreshCookie(reply, config, result.session.refreshToken);
      return {
        ...tokenResponse(result.session),
        user: toUserDto(result.session.user),
        ...(result.recoveryCodes ? { recovery_codes: result.recoveryCodes } : {}),
      };
    },
  );

  app.post(
    '/auth/login/mfa/enroll',
    {
      config: { auth: 'public' },
      onRequest: perIp,
      schema: {
        tags: ['auth'],
        summary: 'Log in: set up the required second factor',
        description:
          'For a login that POST /auth/login answered with an enroll challenge (an admin requires a second ' +
          'factor and the user has none): a new authenticator-app secret, as base32, otpauth:// URI and QR ' +
          "code. Send the app's first code with the same challenge to POST /auth/login/mfa. Calling it again " +
          'replaces the secret. 401 mfa_challenge_invalid for anything but an open enroll challenge.',
        security: [],
        body: LoginEnrollBody,
        response: { 200: TotpEnrolmentResponse, ...problemResponses(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const enrolment = await startLoginEnrolment({
        database,
        jwtKey,
        keys: app.deps.keys,
        challenge: request.body.challenge,
        client: client(request),
        requestId: request.id,
      });
      reply.header('cache-control', 'no-store');
      return {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauthUri,
        qr_code: enrolment.qrSvgDataUrl,
      };
    },
  );

  /**
   * Passkey options are limited per IP apart from the login attempts (their own group, the
   * same number): a passkey login is two calls, and only its answer is an attempt.
   */
  const optionsPerIp = app.rateLimit({
    max: limits.loginPerIp,
    timeWindow: 60_000,
    groupId: 'auth-passkey-options',
  });
  /** Passkey answers are small: anything over 64 KiB is refused (413) before parsing. */
  const PASSKEY_BODY_BYTES = 64 * 1024;
  const countFailure = async (_request: FastifyRequest, _reply: unknown, error: Error) => {
    if (!(error instanceof AppError) || (error.status !== 401 && error.status !== 429)) return;
    app.metrics.loginFailures.inc({ reason: error.code });
  };

  app.post(
    '/auth/login/mfa/passkey/options',
    {
      config: { auth: 'public' },
      onRequest: optionsPerIp,
      schema: {
        tags: ['auth'],
        summary: 'Log in: passkey options for the second step',
        description:
          'For a login that POST /auth/login answered with an mfa challenge whose methods include webauthn: ' +
          "WebAuthn assertion options for the user's passkeys (for @simplewebauthn/browser startAuthentication()) " +
          'and the challenge_id to send back with the answer to POST /auth/login/mfa/passkey. The WebAuthn ' +
          'challenge is stored server-side, valid 5 minutes, used once. 401 mfa_challenge_invalid for anything ' +
          'but an open mfa challenge of a user with a passkey.',
        security: [],
        body: LoginPasskeyOptionsBody,
        response: { 200: PasskeyOptionsResponse, ...problemResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const started = await startPasskeyLoginStep({
        database,
        jwtKey,
        config: config.webauthn,
        challenge: request.body.challenge,
      });
      reply.header('cache-control', 'no-store');
      return { challenge_id: started.challengeId, options: started.options as object };
    },
  );

  app.post(
    '/auth/login/mfa/passkey',
    {
      config: { auth: 'public' },
      bodyLimit: PASSKEY_BODY_BYTES,
      onRequest: perIp,
      preHandler: perChallengeName,
      onError: countFailure,
      schema: {
        tags: ['auth'],
        summary: 'Log in: the second step by passkey',
        description:
          'Finishes a login with a passkey assertion for the options of POST /auth/login/mfa/passkey/options ' +
          '(challenge origin, RP ID, user verification, signature and signature counter are checked). Answers ' +
          'like POST /auth/login/mfa. A refused assertion is a failed login: 401 invalid_second_factor, counted ' +
          "on the name's lockout and limits like a wrong code; the WebAuthn challenge is used up either way (a " +
          'replayed assertion is refused). A signature counter that did not grow (a cloned authenticator) is ' +
          'refused and audited as mfa.passkey.counter_regression. 401 mfa_challenge_invalid for a used, ' +
          'expired or forged login challenge.',
        security: [],
        body: LoginPasskeyBody,
        response: { 200: LoginMfaResponse, ...problemResponses(400, 401, 413, 429) },
      },
    },
    async (request, reply) => {
      const result = await finishLogin({
        database,
        jwtKey,
        keys: app.deps.keys,
        challenge: request.body.challenge,
        passkey: {
          config: config.webauthn,
          challengeId: request.body.challenge_id,
          response: request.body.credential as never,
        },
        client: client(request),
        requestId: request.id,
        lockout: limits.lockout,
      });
      setRefreshCookie(reply, config, result.session.refreshToken);
      return { ...tokenResponse(result.session), user: toUserDto(result.session.user) };
    },
  );

  app.post(
    '/auth/login/passkey/options',
    {
      config: { auth: 'public' },
      onRequest: optionsPerIp,
      schema: {
        tags: ['auth'],
        summary: 'Passwordless login: options',
        description:
          'Starts a login with a passkey alone (no name typed: the browser offers the passkeys it holds for ' +
          'this site). WebAuthn assertion options with no allowCredentials, and the challenge_id to send back ' +
          'to POST /auth/login/passkey. The challenge is stored server-side, valid 5 minutes, used once. ' +
          'Limited per client address like POST /auth/login.',
        security: [],
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: PasskeyOptionsResponse, ...problemResponses(400, 429) },
      },
    },
    async (_request, reply) => {
      const started = await passwordlessOptions({ database, config: config.webauthn });
      reply.header('cache-control', 'no-store');
      return { challenge_id: started.challengeId, options: started.options as object };
    },
  );

  app.post(
    '/auth/login/passkey',
    {
      config: { auth: 'public' },
      bodyLimit: PASSKEY_BODY_BYTES,
      onRequest: perIp,
      onError: countFailure,
      schema: {
        tags: ['auth'],
        summary: 'Passwordless login',
        description:
          'Logs in with a passkey assertion for the options of POST /auth/login/passkey/options: the passkey ' +
          "names its user; the attempt counts on that user's name like a password attempt (same per-name limit " +
          'and lockout, 429 login_locked with Retry-After), and a pass answers like POST /auth/login (tokens ' +
          'and refresh cookie), with no second step (a passkey with user verification is two factors). 401 ' +
          'invalid_passkey for an unknown passkey, a wrong signature, user or signature counter (a counter ' +
          'that did not grow is audited as mfa.passkey.counter_regression); 401 passkey_challenge_invalid for ' +
          'an unknown, used or expired challenge_id (a replayed assertion).',
        security: [],
        body: PasswordlessBody,
        response: { 200: LoginResponse, ...problemResponses(400, 401, 413, 429) },
      },
    },
    async (request, reply) => {
      const session = await passwordlessLogin({
        database,
        jwtKey,
        config: config.webauthn,
        challengeId: request.body.challenge_id,
        response: request.body.credential as never,
        client: client(request),
        requestId: request.id,
        lockout: limits.lockout,
        onName: async (username) => {
          challengeLogin.set(request, username);
          await perName(request);
        },
      });
      setRefreshCookie(reply, config, session.refreshToken);
      return { ...tokenResponse(session), user: toUserDto(session.user) };
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: { auth: 'public' },
      onRequest: refreshPerIp,
      preValidation: emptyBodyIfNone,
      schema: {
        tags: ['auth'],
        summary: 'Rotate the refresh token',
        description:
          'Returns a new access token and a new refresh token; the one sent is used up. Sending a used refresh token ' +
          'again (after a 10-second grace for lost responses) ends that whole login session: 401 refresh_token_reused.',
        security: [],
        body: Type.Optional(RefreshBody),
        response: { 200: LoginResponse, ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const token = refreshTokenOf(request, config, request.body?.refresh_token);
      if (!token)
        throw new BadRequestError(
          'Send refresh_token in the body or the refresh cookie.',
          'refresh_token_missing',
        );
      try {
        const session = await rotateRefreshToken({
          database,
          jwtKey,
          token,
          client: client(request),
          requestId: request.id,
          credentials: app.deps.credentials,
        });
        setRefreshCookie(reply, config, session.refreshToken);
        return { ...tokenResponse(session), user: toUserDto(session.user) };
      } catch (err) {
        clearRefreshCookie(reply, config);
        throw err;
      }
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { auth: 'public' },
      preValidation: emptyBodyIfNone,
      schema: {
        tags: ['auth'],
        summary: 'Log out',
        description:
          'Ends the login session of the refresh token sent (body or cookie) and/or of the access token in ' +
          'Authorization. Always 204; clears the refresh cookie.',
        body: Type.Optional(RefreshBody),
        response: { 204: Type.Null(), ...problemResponses(400, 403) },
      },
    },
    async (request, reply) => {
      const audit = { ip: request.ip, requestId: request.id };
      const token = refreshTokenOf(request, config, request.body?.refresh_token);
      const { credentials } = app.deps;
      if (token) await endSessionByRefreshToken({ database, token, audit, credentials });
      const header = request.headers.authorization;
      const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (bearer) {
        const claims = await verifyAccessToken(jwtKey, bearer);
        if (claims)
          await endSession({
            database,
            userId: claims.userId,
            sessionId: claims.sessionId,
            audit,
            credentials,
          });
      }
      clearRefreshCookie(reply, config);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The current user',
        description:
          'The authenticated user and how they authenticated (session or personal token, with scopes).',
        response: { 200: MeResponse, ...problemResponses(401) },
      },
    },
    async (request) => {
      const actor = request.actor;
      if (actor.kind !== 'user') throw new NotFoundError('user');
      const [user] = await app.tenant(request, (tx) =>
        tx.select().from(users).where(eq(users.id, actor.userId)),
      );
      if (!user) throw new NotFoundError('user');
      return {
        user: toUserDto(user),
        auth: {
          via: actor.via,
          scopes: [...actor.scopes],
          ...(actor.sessionId ? { session_id: actor.sessionId } : {}),
          ...(actor.tokenId ? { token_id: actor.tokenId } : {}),
        },
      };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { sessionOnly: true },
      onRequest: app.rateLimit({
        max: 10,
        timeWindow: 60_000,
        groupId: 'auth-password',
        keyGenerator: (req) => `pw:${req.actor.kind === 'user' ? req.actor.userId : req.ip}`,
      }),
      schema: {
        tags: ['auth'],
        summary: 'Change your password',
        description:
          'Needs the current password. Ends every other login session of the user; this one stays. ' +
          'Not available to personal access tokens.',
        body: PasswordChangeBody,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const actor = request.actor;
      if (actor.kind !== 'user') throw new NotFoundError('user');
      const newHash = await hashPassword(request.body.new_password);
      await app.tenant(request, async (tx) => {
        const [user] = await tx
          .select()
          .from(users)
          .where(eq(users.id, actor.userId))
          .for('update');
        if (!user) throw new NotFoundError('user');
        if (!(await verifyPassword(user.passwordHash, request.body.current_password))) {
          throw new BadRequestError('The current password is wrong.', 'wrong_password', [
            { path: '/body/current_password', message: 'is wrong' },
          ]);
        }
        await tx
          .update(users)
          .set({ passwordHash: newHash, passwordChangedAt: sql`now()` })
          .where(eq(users.id, actor.userId));
        const ended = await revokeSessions(tx, {
          userId: actor.userId,
          reason: 'password_change',
          ...(actor.sessionId ? { exceptSessionId: actor.sessionId } : {}),
        });
        await writeAudit(tx, auditContext(request), {
          action: 'auth.password_change',
          entityType: 'user',
          entityId: actor.userId,
          details: { ended_sessions: ended },
        });
      });
      // This process's cached sessions of the user go at once; other processes hear of it.
      app.deps.credentials.forget({ userId: actor.userId });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
