import type { LoggerOptions } from 'pino';

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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'accountdb-api' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
