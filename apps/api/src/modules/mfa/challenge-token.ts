import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * The token of the second login step: HS256 (pinned) under the API's JWT key, 5 minutes,
 * its own audience and type (never an access token), naming the login_challenges row that
 * makes it single-use. It carries the name the user typed so the second step counts on the
 * same lockout as the password.
 */
export const CHALLENGE_TTL_SECONDS = 300;
const ISSUER = 'accountdb';
const AUDIENCE = 'accountdb-login-challenge';
const ALGORITHM = 'HS256';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ChallengePurpose = 'mfa' | 'enroll';

export interface ChallengeClaims {
  userId: string;
  challengeId: string;
  login: string;
  purpose: ChallengePurpose;
}

export function signChallenge(key: Uint8Array, claims: ChallengeClaims): Promise<string> {
  return new SignJWT({
    cid: claims.challengeId,
    login: claims.login,
    purpose: claims.purpose,
    typ: 'login_challenge',
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${CHALLENGE_TTL_SECONDS}s`)
    .sign(key);
}

/** The claims of a valid challenge token, or null for anything else. */
export async function verifyChallenge(
  key: Uint8Array,
  token: string,
): Promise<ChallengeClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    if (payload.typ !== 'login_challenge') return null;
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) return null;
    if (typeof payload.cid !== 'string' || !UUID.test(payload.cid)) return null;
    if (typeof payload.login !== 'string' || payload.login.length === 0) return null;
    if (payload.purpose !== 'mfa' && payload.purpose !== 'enroll') return null;
    return {
      userId: payload.sub,
      challengeId: payload.cid,
      login: payload.login,
      purpose: payload.purpose,
    };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}
