// Settings of the web server, read from the environment when it starts (never when the app is
// built, so one build runs anywhere). A bad value stops the server with a message naming the
// variable, like the API's configuration errors.
import { trustProxy } from './trust-proxy.mjs';

export class ConfigError extends Error {
  /**
   * @param {string} variable
   * @param {string} message
   */
  constructor(variable, message) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/**
 * @typedef {object} WebConfig
 * @property {URL} apiOrigin where the API listens (API_HOST, a wildcard meaning this machine, and API_PORT)
 * @property {(address: string, hop: number) => boolean} trust WEB_TRUST_PROXY: the proxies whose X-Forwarded-* this server believes
 * @property {boolean} secure served over TLS (COOKIE_SECURE, as the API reads it): HSTS and upgrade-insecure-requests
 * @property {boolean} dev `next dev` instead of the built app
 * @property {number} port where the web server listens (-p, else WEB_PORT, else 3000)
 */

/** @typedef {Record<string, string | undefined>} Env */

/**
 * @param {Env} env
 * @param {string} name
 */
function value(env, name) {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * @param {string} name
 * @param {string | undefined} v
 * @param {number} fallback
 */
function port(name, v, fallback) {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) > 65535) {
    throw new ConfigError(name, `must be a port number 0-65535 (got "${v}")`);
  }
  return Number(v);
}

/**
 * COOKIE_SECURE exactly as the API reads it, so that the pages ask for HTTPS (HSTS) exactly when
 * the refresh cookie needs it: true/false, by default true when NODE_ENV=production.
 * @param {Env} env
 */
function secure(env) {
  const v = value(env, 'COOKIE_SECURE');
  if (v === undefined) return value(env, 'NODE_ENV') === 'production';
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError('COOKIE_SECURE', `must be true or false (got "${v}")`);
}

/**
 * The API's address as this machine reaches it: a wildcard listen address means 127.0.0.1.
 * @param {Env} env
 */
function apiOrigin(env) {
  const host = value(env, 'API_HOST');
  const address = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const shown = address.includes(':') ? `[${address}]` : address;
  const apiPort = port('API_PORT', value(env, 'API_PORT'), 8080);
  try {
    return new URL(`http://${shown}:${apiPort}`);
  } catch {
    throw new ConfigError('API_HOST', `must be a host name or an IP address (got "${host}")`);
  }
}

/** @param {Env} env */
function webTrustProxy(env) {
  try {
    return trustProxy(value(env, 'WEB_TRUST_PROXY'));
  } catch (err) {
    throw new ConfigError('WEB_TRUST_PROXY', err instanceof Error ? err.message : String(err));
  }
}

/**
 * @param {Env} env the environment as the server was started, before it defaults NODE_ENV
 * @param {{ dev: boolean, port: string | undefined }} options `--dev`, and `-p` when given
 * @returns {WebConfig}
 */
export function loadWebConfig(env, options) {
  return {
    apiOrigin: apiOrigin(env),
    trust: webTrustProxy(env),
    secure: secure(env),
    dev: options.dev,
    port:
      options.port === undefined
        ? port('WEB_PORT', value(env, 'WEB_PORT'), 3000)
        : port('--port', options.port, 3000),
  };
}
