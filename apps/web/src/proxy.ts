import { type NextRequest, NextResponse } from 'next/server';

/** Where the API listens: API_HOST (a wildcard address means this machine) and API_PORT. */
function apiOrigin(): string {
  const host = process.env.API_HOST;
  const address = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${address.includes(':') ? `[${address}]` : address}:${process.env.API_PORT || '8080'}`;
}

/**
 * Forwards /api/* to the API so the browser sees one origin. Done here, when the request
 * comes, rather than with next.config rewrites, whose destination is fixed when the app is
 * built: one build then works with any API_HOST and API_PORT.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  return NextResponse.rewrite(new URL(`${pathname}${search}`, apiOrigin()));
}

export const config = { matcher: '/api/:path*' };
