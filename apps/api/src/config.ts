import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Configuration, parsed once at boot from the environment. A bad value throws a
 * ConfigError naming the variable; server.ts and the CLI print it and exit.
 */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  /**
   * PostgreSQL URL requests log in with; alone, it is the schema owner's and requests use the
   * login role the API provisions (accountdb_authenticator).
   */
  databaseUrl: string | undefined;
  /** PostgreSQL URL of the schema owner, when DATABASE_URL is the request login. */
  databaseOwnerUrl: string | undefined;
  dataDir: string;
  /** 32-byte master key for secrets at rest. */
  secretKey: Buffer;
  /**
   * During a master key rotation: the key being replaced. Data keys still wrapped by it are
   * read with it until `accountdb rotate-key` has re-wrapped them all.
   */
  previousSecretKey: Buffer | undefined;
  /** HMAC key for access tokens (at least 32 bytes). */
  jwtSecret: Buffer;
  /** Keys that were generated into the data dir at this start (warned about). */
  generatedKeys: string[];
  apiHost: string;
  apiPort: number;
  webPort: number;
  registration: 'open' | 'closed';
  redisUrl: string | undefined;
  corsOrigins: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Fastify trustProxy: false, or a list of proxy addresses/CIDRs. */
  trustProxy: false | string[];
  /** Cookies get the Secure flag and the __Host- prefix (set COOKIE_SECURE=false for plain-HTTP local use). */
  cookieSecure: boolean;
  /** Bearer token GET /metrics requires; unset: /metrics answers loopback clients only. */
  metricsToken: string | undefined;
  /**
   * Where Steam's time comes from for Steam Guard codes (ITwoFactorService/QueryTime or an
   * answer of its shape); undefined: the source is off and codes use the local clock.
   */
  steamTimeUrl: string | undefined;
  /**
   * WebAuthn passkeys: the relying party ID (a host name the origins are on) and the origins
   * the browser may report in clientDataJSON (where the web UI is reached).
   */
  webauthn: { rpId: string; rpName: string; origins: string[] };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = value(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${v}")`);
  }
  return v as T;
}

function port(env: Env, name: string, fallback: number): number {
  const v = value(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 0 || n > 65535) {
    throw new ConfigError(name, `must be a port number 0-65535 (got "${v}")`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = value(env, name);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(name, `must be true or false (got "${v}")`);
}

function decodeKey(name: string, raw: string, minBytes: number, exactBytes?: number): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) {
    throw new ConfigError(name, 'must be base64');
  }
  const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (exactBytes !== undefined && key.length !== exactBytes) {
    throw new ConfigError(name, `must decode to exactly ${exactBytes} bytes (got ${key.length})`);
  }
  if (key.length < minBytes) {
    throw new ConfigError(name, `must decode to at least ${minBytes} bytes (got ${key.length})`);
  }
  return key;
}

interface KeySpec {
  variable: string;
  file: string;
  bytes: number;
  exact: boolean;
}

/**
 * A key from the environment, or (outside production) from / generated into the data dir
 * with 0600 permissions. In production a missing key stops the process.
 */
function loadKey(options: {
  env: Env;
  spec: KeySpec;
  dataDir: string;
  production: boolean;
  generated: string[];
}): Buffer {
  const { env, spec, dataDir, production, generated } = options;
  const fromEnv = value(env, spec.variable);
  if (fromEnv !== undefined) {
    return decodeKey(spec.variable, fromEnv, spec.bytes, spec.exact ? spec.bytes : undefined);
  }
  if (production) {
    throw new ConfigError(
      spec.variable,
      `is required when NODE_ENV=production (base64 of ${spec.bytes} random bytes, e.g. \`openssl rand -base64 ${spec.bytes}\`)`,
    );
  }
  const file = path.join(dataDir, spec.file);
  if (existsSync(file)) {
    return decodeKey(
      `${spec.variable} (from ${file})`,
      readFileSync(file, 'utf8').trim(),
      spec.bytes,
      spec.exact ? spec.bytes : undefined,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(spec.bytes);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  generated.push(spec.variable);
  return key;
}

function trustProxy(env: Env): Config['trustProxy'] {
  const v = value(env, 'TRUST_PROXY');
  if (v === undefined || /^(false|0|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) {
    throw new ConfigError(
      'TRUST_PROXY',
      'must name the proxy addresses (e.g. 127.0.0.1,10.0.0.0/8) or a hop count, not "true"',
    );
  }
  if (/^\d+$/.test(v)) {
    // Fastify 5 trusts nobody for a hop count (it cannot tell a proxy from a client that
    // sends enough X-Forwarded-For entries): refuse it rather than ignore it silently.
    throw new ConfigError(
      'TRUST_PROXY',
      `must name the proxy addresses (e.g. 127.0.0.1,10.0.0.0/8), not a hop count (got "${v}"): a hop count cannot tell a proxy from a client`,
    );
  }
  const list = v.split(',').map((s) => s.trim());
  for (const item of list) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(item) && item !== 'loopback') {
      throw new ConfigError('TRUST_PROXY', `"${item}" is not an IP address or CIDR`);
    }
  }
  return list;
}

function metricsToken(env: Env): string | undefined {
  const token = value(env, 'ACCOUNTDB_METRICS_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new ConfigError('ACCOUNTDB_METRICS_TOKEN', 'must be at least 16 characters');
  }
  return token;
}

/** Steam's own time service, as node-steam-totp and Steam Desktop Authenticator ask it. */
export const DEFAULT_STEAM_TIME_URL =
  'https://api.steampowered.com/ITwoFactorService/QueryTime/v0001';

/** ACCOUNTDB_STEAM_TIME_URL: unset → Steam's; `off` or set empty → no source (local clock). */
function steamTimeUrl(env: Env): string | undefined {
  const name = 'ACCOUNTDB_STEAM_TIME_URL';
  const raw = env[name];
  if (raw === undefined) return DEFAULT_STEAM_TIME_URL;
  const v = raw.trim();
  if (v === '' || /^off$/i.test(v)) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(name, `must be an http:// or https:// URL, or off (got "${v}")`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, or off (got "${v}")`);
  }
  if (url.username || url.password) {
    throw new ConfigError(name, 'must not hold a user name or password');
  }
  return url.href;
}

/**
 * ACCOUNTDB_WEBAUTHN_ORIGIN: the web UI's origin(s), comma-separated (default
 * http://localhost:$WEB_PORT, as npm start serves it). ACCOUNTDB_WEBAUTHN_RP_ID: the relying
 * party ID, default the first origin's host; every origin's host must be it or under it
 * (WebAuthn §5.1.3: an RP ID is a registrable suffix of the origin's effective domain).
 */
function webauthn(env: Env, webPort: number): Config['webauthn'] {
  const originVar = 'ACCOUNTDB_WEBAUTHN_ORIGIN';
  const raw = value(env, originVar) ?? `http://localhost:${webPort}`;
  const origins = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const hosts: string[] = [];
  for (const origin of origins) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      url = null;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.origin !== origin.replace(/\/$/, '')
    ) {
      throw new ConfigError(
        originVar,
        `"${origin}" is not an origin like https://accountdb.example.com (scheme, host and port only)`,
      );
    }
    if (url.protocol === 'http:' && url.hostname !== 'localhost') {
      throw new ConfigError(
        originVar,
        `"${origin}": browsers allow passkeys over plain http only on localhost; use https`,
      );
    }
    hosts.push(url.hostname);
  }
  const rpVar = 'ACCOUNTDB_WEBAUTHN_RP_ID';
  const rpId = (value(env, rpVar) ?? hosts[0] ?? 'localhost').toLowerCase();
  if (
    !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(rpId)
  ) {
    throw new ConfigError(rpVar, `"${rpId}" is not a host name (no scheme, port or IP address)`);
  }
  if (/^[0-9.]+$/.test(rpId)) {
    throw new ConfigError(rpVar, `"${rpId}" is an IP address; passkeys need a host name`);
  }
  for (const host of hosts) {
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new ConfigError(
        rpVar,
        `"${rpId}" does not cover the origin host "${host}" (set it to that host or a parent domain of it)`,
      );
    }
  }
  return { rpId, rpName: 'AccountDB', origins: origins.map((o) => o.replace(/\/$/, '')) };
}

/** Parses and validates the whole configuration. Throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';
  const databaseUrl = value(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const databaseOwnerUrl = value(env, 'DATABASE_OWNER_URL');
  if (databaseOwnerUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(databaseOwnerUrl)) {
      throw new ConfigError('DATABASE_OWNER_URL', 'must be a postgres:// or postgresql:// URL');
    }
    if (databaseUrl === undefined) {
      throw new ConfigError(
        'DATABASE_OWNER_URL',
        'needs DATABASE_URL (the request login); alone, set the owner as DATABASE_URL',
      );
    }
  }
  const dataDir = path.resolve(value(env, 'ACCOUNTDB_DATA_DIR') ?? './data');
  const redisUrl = value(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  const corsOrigins = (value(env, 'CORS_ORIGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `"${origin}" is not an origin like https://example.com (no wildcard, no path)`,
      );
    }
  }
  const plain = {
    apiHost: value(env, 'API_HOST') ?? '127.0.0.1',
    apiPort: port(env, 'API_PORT', 8080),
    webPort: port(env, 'WEB_PORT', 3000),
    registration: oneOf(env, 'ACCOUNTDB_REGISTRATION', ['open', 'closed'], 'closed'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    trustProxy: trustProxy(env),
    cookieSecure: bool(env, 'COOKIE_SECURE', production),
    metricsToken: metricsToken(env),
    steamTimeUrl: steamTimeUrl(env),
  };
  const webauthnConfig = webauthn(env, plain.webPort);
  // Keys last: a start that fails on another variable must not leave key files behind.
  const generatedKeys: string[] = [];
  const secretKey = loadKey({
    env,
    spec: { variable: 'ACCOUNTDB_SECRET_KEY', file: 'secret.key', bytes: 32, exact: true },
    dataDir,
    production,
    generated: generatedKeys,
  });
  const previousRaw = value(env, 'ACCOUNTDB_SECRET_KEY_PREVIOUS');
  const previousSecretKey =
    previousRaw === undefined
      ? undefined
      : decodeKey('ACCOUNTDB_SECRET_KEY_PREVIOUS', previousRaw, 32, 32);
  if (previousSecretKey?.equals(secretKey)) {
    throw new ConfigError(
      'ACCOUNTDB_SECRET_KEY_PREVIOUS',
      'is the same key as ACCOUNTDB_SECRET_KEY; set it to the key being replaced, or unset it',
    );
  }
  const jwtSecret = loadKey({
    env,
    spec: { variable: 'ACCOUNTDB_JWT_SECRET', file: 'jwt.key', bytes: 32, exact: false },
    dataDir,
    production,
    generated: generatedKeys,
  });
  return {
    ...plain,
    nodeEnv,
    databaseUrl,
    databaseOwnerUrl,
    dataDir,
    secretKey,
    previousSecretKey,
    jwtSecret,
    generatedKeys,
    redisUrl,
    corsOrigins,
    webauthn: webauthnConfig,
  };
}
