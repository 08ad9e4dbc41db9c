import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { ForbiddenError } from '../../http/errors.js';
import { REFRESH_TOKEN_TTL_SECONDS } from './sessions.js';

/** Header a cookie-authenticated call must carry; a cross-site form or image cannot set it. */
export const CSRF_HEADER = 'x-accountdb-csrf';

export function refreshCookieName(config: Config): string {
  return config.cookieSecure ? '__Host-adb_refresh' : 'adb_refresh';
}

export function setRefreshCookie(reply: FastifyReply, config: Config, token: string): void {
  reply.setCookie(refreshCookieName(config), token, {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'strict',
    path: '/',
    maxAge: REFRESH_TOKEN_TTL_SECONDS,
  });
}

export function clearRefreshCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(refreshCookieName(config), {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'strict',
    path: '/',
  });
}

/**
 * The refresh token of a request: from the body, or from the HttpOnly cookie. A token taken
 * from the cookie needs the CSRF header and, when the browser sent an Origin, one we allow.
 */
export function refreshTokenOf(
  request: FastifyRequest,
  config: Config,
  bodyToken: string | undefined,
): string | undefined {
  if (bodyToken) return bodyToken;
  const fromCookie = request.cookies[refreshCookieName(config)];
  if (!fromCookie) return undefined;
  if (request.headers[CSRF_HEADER] === undefined) {
    throw new ForbiddenError(
      `A cookie-authenticated call needs the ${CSRF_HEADER} header.`,
      'csrf_failed',
    );
  }
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const own = `${request.protocol}://${request.host}`;
    if (origin !== own && !config.corsOrigins.includes(origin)) {
      throw new ForbiddenError('This origin may not use the session cookie.', 'csrf_failed');
    }
  }
  return fromCookie;
}
