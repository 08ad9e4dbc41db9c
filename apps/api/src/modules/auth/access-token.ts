import { errors, jwtVerify, SignJWT } from 'jose';

/** Access tokens: HS256 (pinned), 15 minutes, issuer/audience/type checked. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;
const ISSUER = 'accountdb';
const AUDIENCE = 'accountdb-api';
const ALGORITHM = 'HS256';

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

export function signAccessToken(key: Uint8Array, claims: AccessClaims): Promise<string> {
  return new SignJWT({ sid: claims.sessionId, typ: 'access' })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .sign(key);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Tokens this process has verified, until they expire: a token's signature depends only on
 * its bytes, so the same string under the same key verifies the same way until its exp (the
 * WebCrypto HMAC check was ~10% of the API's CPU per list request, bench/README.md). What
 * the token may do is not remembered here: the session is checked on every request
 * (auth-hooks.ts). Bounded; the oldest goes first.
 */
const verified = new WeakMap<Uint8Array, Map<string, { claims: AccessClaims; expMs: number }>>();
const MAX_VERIFIED = 10_000;

/** Returns the claims of a valid access token, or null for anything else. */
export async function verifyAccessToken(
  key: Uint8Array,
  token: string,
): Promise<AccessClaims | null> {
  let known = verified.get(key);
  if (!known) {
    known = new Map();
    verified.set(key, known);
  }
  const hit = known.get(token);
  if (hit) {
    if (hit.expMs > Date.now()) return hit.claims;
    known.delete(token);
  }
  const claims = await verifyUncached(key, token);
  if (claims) {
    known.set(token, claims);
    if (known.size > MAX_VERIFIED) {
      const oldest = known.keys().next().value;
      if (oldest !== undefined) known.delete(oldest);
    }
  }
  return claims?.claims ?? null;
}

async function verifyUncached(
  key: Uint8Array,
  token: string,
): Promise<{ claims: AccessClaims; expMs: number } | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    if (payload.typ !== 'access') return null;
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) return null;
    if (typeof payload.sid !== 'string' || !UUID.test(payload.sid)) return null;
    if (typeof payload.exp !== 'number') return null;
    return { claims: { userId: payload.sub, sessionId: payload.sid }, expMs: payload.exp * 1000 };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
