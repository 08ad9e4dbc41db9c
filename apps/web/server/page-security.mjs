// Security headers of everything Next.js answers (pages, their data, static files): a Content
// Security Policy whose script-src admits only scripts carrying this request's nonce (and
// what they load), no framing, no MIME sniffing, no referrer, HSTS behind TLS.
import { randomBytes } from 'node:crypto';

/**
 * @param {{ nonce: string, secure: boolean, dev: boolean }} options
 * @returns {string}
 */
export function contentSecurityPolicy({ nonce, secure, dev }) {
  return [
    "default-src 'self'",
    // React's development build evaluates code for its error overlay; the production one never.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    // React writes style attributes and sonner inserts its <style> at run time: styles stay
    // open to inline, scripts do not.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(secure ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

/**
 * Sets the answer's security headers before Next.js renders it, and hands Next.js the policy in
 * the request (Next.js puts the nonce it finds there on every script it writes, and the layout
 * reads it from x-nonce for the theme script). Whatever the client sent under those names is
 * dropped.
 * @param {{
 *   req: import('node:http').IncomingMessage,
 *   res: import('node:http').ServerResponse,
 *   secure: boolean,
 *   dev: boolean,
 * }} options
 */
export function securePage({ req, res, secure, dev }) {
  const nonce = randomBytes(18).toString('base64');
  const policy = contentSecurityPolicy({ nonce, secure, dev });
  delete req.headers['content-security-policy-report-only'];
  req.headers['content-security-policy'] = policy;
  req.headers['x-nonce'] = nonce;
  res.setHeader('Content-Security-Policy', policy);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
