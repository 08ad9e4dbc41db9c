import type { LoggerOptions } from 'pino';
import { scrubUrls, serializeError, serializeRequest } from './http/request-log.js';

/**
 * Fields that carry secrets wherever they appear in a log object. Every new secret field
 * of a request, response or domain object goes here.
 */
export const SECRET_FIELDS = [
  'password',
  'current_password',
  'new_password',
  'password_hash',
  'passwordHash',
  'access_token',
  'refresh_token',
  'token',
  'token_hash',
  'tokenHash',
  'api_key',
  'secret',
  'secretKey',
  'previousSecretKey',
  'jwtSecret',
  'metricsToken',
  'email_password',
  'totp_secret',
  'shared_secret',
  'identity_secret',
  'revocation_code',
  'passkey',
  'code1',
  'code2',
] as const;

const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

export const REDACT_PATHS = [
  ...HEADER_PATHS,
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

/**
 * pino's options. Besides the redaction list: a request is logged by its route pattern with
 * no query value (`serializeRequest`), an error without a URL's query or a raw packet, and a
 * message text that quotes a URL (Fastify's own warnings do) without its query.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { req: serializeRequest, err: serializeError },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a: unknown) => (typeof a === 'string' ? scrubUrls(a) : a));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    base: { service: 'accountdb-api' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
