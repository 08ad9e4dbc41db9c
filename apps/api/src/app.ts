import { existsSync, readdirSync } from 'node:fs';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { CredentialCache, type CredentialCacheOptions } from './auth/credential-cache.js';
import { feedCredentialCache } from './auth/credential-listener.js';
import type { Config } from './config.js';
import { DataKeyStore } from './crypto/data-keys.js';
import { masterKey } from './crypto/envelope.js';
import type { Database } from './db/client.js';
import { type Tx, withTenant } from './db/tenant.js';
import { registerAuthHooks } from './http/auth-hooks.js';
import { validatorCompiler } from './http/body-validator.js';
import { registerErrorHandler } from './http/error-handler.js';
import { TooManyRequestsError } from './http/errors.js';
import { registerHeavyRequestLimit } from './http/heavy-requests.js';
import { registerJsonBodyParser } from './http/json-body.js';
import { describeLimits } from './http/limit-docs.js';
import { LIMITS } from './http/limits.js';
import { lingerAfterEarlyAnswers } from './http/linger.js';
import { registerMetrics } from './http/metrics.js';
import { Problem } from './http/problem.js';
import { loggerOptions } from './logging.js';
import { type AuthLimits, DEFAULT_AUTH_LIMITS } from './modules/auth/limits.js';
import { SteamClock } from './modules/steam-time/steam-clock.js';
import { User } from './modules/users/schemas.js';
import { VERSION } from './version.js';

export interface AppDeps {
  config: Config;
  database: Database;
  /** Where log lines go (default stdout); false silences the log. */
  logStream?: DestinationStream | false;
  /** Overrides of the brute-force limits (tests). */
  limits?: Partial<AuthLimits>;
  /** Steam's clock (tests give one with a fake source); default: from config.steamTimeUrl. */
  steamClock?: SteamClock;
  /** Overrides of the live event stream limits (tests). */
  events?: Partial<EventLimits>;
  /** Size and age limits of the credential cache (tests). */
  credentialCache?: CredentialCacheOptions;
}

/** The limits of GET /events (LIMITS.events unless overridden). */
export type EventLimits = { -readonly [K in keyof typeof LIMITS.events]: number };

export interface ResolvedDeps {
  config: Config;
  database: Database;
  limits: AuthLimits;
  redis: Redis | null;
  /** Owners' data keys for secrets at rest, unwrapped by the master key. */
  keys: DataKeyStore;
  events: EventLimits;
  /** Steam's time offset for Steam Guard codes; server.ts starts it, close stops it. */
  steamClock: SteamClock;
  /** Answers of the per-request credential checks, invalidated by LISTEN (auth/). */
  credentials: CredentialCache;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ResolvedDeps;
    /** Runs fn in the tenant transaction of the request's actor. */
    tenant<T>(request: FastifyRequest, fn: (tx: Tx) => Promise<T>): Promise<T>;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface RouteModule {
  default: FastifyPluginAsync;
  /** URL prefix of the module's routes; default /api/v1. */
  routePrefix?: string;
}

/** Every modules/<feature>/routes.(ts|js), so a new feature needs no central list. */
async function loadRouteModules(): Promise<Array<{ name: string; mod: RouteModule }>> {
  const dir = fileURLToPath(new URL('./modules/', import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const found: Array<{ name: string; mod: RouteModule }> = [];
  for (const name of readdirSync(dir).sort()) {
    const file = `${dir}${name}/routes.${ext}`;
    if (!existsSync(file)) continue;
    found.push({
      name,
      mod: (await import(
        new URL(`./modules/${name}/routes.${ext}`, import.meta.url).href
      )) as RouteModule,
    });
  }
  return found;
}

/** Builds the whole API as a Fastify instance; server.ts only starts it, tests inject into it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const options: FastifyHttpOptions<http.Server> = {
    logger:
      deps.logStream === false
        ? false
        : {
            ...loggerOptions(config.logLevel),
            ...(deps.logStream ? { stream: deps.logStream } : {}),
          },
    trustProxy: config.trustProxy,
    bodyLimit: LIMITS.bodyBytes,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming)
        ? incoming
        : crypto.randomUUID();
    },
    // The request validator (strict bodies; query, params and headers coerced) for every
    // plugin. As a factory, not app.setValidatorCompiler(): Fastify rebuilds the compiler of
    // a plugin that adds a schema from the factory, which would drop a compiler set on the root.
    // (The factory is typed as @fastify/ajv-compiler's; any schema compiler works.)
    schemaController: { compilersFactory: { buildValidator: (() => validatorCompiler) as never } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  };
  const app = Fastify(options);

  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 2,
        enableOfflineQueue: true,
      })
    : null;
  app.decorate('deps', {
    config,
    database: deps.database,
    limits: { ...DEFAULT_AUTH_LIMITS, ...deps.limits },
    events: { ...LIMITS.events, ...deps.events },
    redis,
    keys: new DataKeyStore(
      masterKey(config.secretKey),
      config.previousSecretKey ? masterKey(config.previousSecretKey) : undefined,
    ),
    steamClock:
      deps.steamClock ??
      new SteamClock({
        url: config.steamTimeUrl,
        log: app.log.child({ module: 'steam-time' }),
      }),
    credentials: new CredentialCache(deps.credentialCache),
  } satisfies ResolvedDeps);
  const stopCredentialFeed = feedCredentialCache({
    database: deps.database,
    cache: app.deps.credentials,
    log: app.log.child({ module: 'credential-cache' }),
  });
  app.decorate('tenant', function tenant<T>(request: FastifyRequest, fn: (tx: Tx) => Promise<T>) {
    return withTenant(deps.database, request.actor, fn);
  });
  app.addHook('onClose', async () => {
    app.deps.steamClock.stop();
    await stopCredentialFeed();
    if (redis) await redis.quit().catch(() => redis.disconnect());
  });

  app.addSchema(Problem);
  app.addSchema(User);
  registerErrorHandler(app);
  registerJsonBodyParser(app);
  describeLimits(app);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.url.startsWith('/api/v1/')) reply.header('cache-control', 'no-store');
  });

  await app.register(helmet, {
    // HSTS only means something behind TLS; a plain-HTTP local start must not send it.
    hsts: config.cookieSecure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    contentSecurityPolicy: {
      directives: {
        upgradeInsecureRequests: config.cookieSecure ? [] : null,
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'if-match',
      'x-accountdb-csrf',
      'x-request-id',
    ],
    exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id'],
    maxAge: 600,
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'accountdb-rl:' } : {}),
    errorResponseBuilder: (_req, ctx) =>
      new TooManyRequestsError(
        `Too many requests; retry in ${ctx.after}.`,
        ctx.ttl / 1000,
        'rate_limited',
      ),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AccountDB API',
        version: VERSION,
        description:
          'Self-hosted inventory of accounts, hardware profiles, cards, VMs and Proxmox nodes. ' +
          'Authenticate with `Authorization: Bearer <access token or adb_pat_… personal token>`. ' +
          'Errors are `application/problem+json` with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An access token from POST /api/v1/auth/login, or a personal access token (adb_pat_…)',
          },
        },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'health', description: 'Liveness and version' },
        { name: 'auth', description: 'Setup, login, sessions and the current user' },
        { name: 'users', description: 'User management (admins)' },
        { name: 'tokens', description: 'Personal access tokens for scripts' },
        {
          name: 'accounts',
          description:
            'Accounts at online services, with encrypted secrets, 2FA codes, imports and claims',
        },
        { name: 'hardware', description: 'Hardware profiles: the identifiers a machine presents' },
        { name: 'cards', description: 'Redeemable cards with encrypted codes, imports and claims' },
        { name: 'vms', description: 'Virtual machines and containers, with their status history' },
        { name: 'proxmox-nodes', description: 'Proxmox VE nodes and their agent keys' },
        { name: 'dashboard', description: 'Counts, node health and recent activity' },
        { name: 'events', description: 'Live updates: status changes as server-sent events' },
        { name: 'audit', description: 'Who did what, when — never a secret' },
        {
          name: 'agent',
          description: 'For the agent on a Proxmox host (node key): configuration, sync, heartbeat',
        },
      ],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) || `def-${i}`,
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    // The docs are served over plain HTTP locally; never upgrade their own assets to HTTPS.
    transformStaticCSP: (header) => header.replace(/;?\s*upgrade-insecure-requests;?/, ';'),
    uiConfig: { deepLinking: true, persistAuthorization: false },
  });

  registerAuthHooks(app);
  registerHeavyRequestLimit(app);
  lingerAfterEarlyAnswers(app);
  registerMetrics(app, deps.database.raw);

  for (const { mod } of await loadRouteModules()) {
    await app.register(mod.default, { prefix: mod.routePrefix ?? '/api/v1' });
  }
  return app;
}
