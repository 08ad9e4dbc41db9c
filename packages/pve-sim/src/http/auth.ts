import { timingSafeEqual } from 'node:crypto';

export interface ApiToken {
  /** `USER@REALM!TOKENID`, e.g. `inv@pve!sync`. */
  tokenId: string;
  /** A UUID. */
  tokenSecret: string;
}

export type AuthResult =
  | { ok: true }
  | {
      ok: false;
      reason: 'No ticket' | 'Authentication failed!' | 'Permission denied - invalid csrf token';
    };

const PREFIX = 'PVEAPIToken=';
const TOKEN_ID = /^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, as Proxmox checks it. */
export function checkApiToken(header: string | undefined, expected: ApiToken): AuthResult {
  if (!header?.startsWith(PREFIX)) return { ok: false, reason: 'No ticket' };
  const value = header.slice(PREFIX.length).trim();
  const bang = value.indexOf('!');
  const eq = value.indexOf('=', bang);
  if (bang === -1 || eq === -1) return { ok: false, reason: 'Authentication failed!' };
  const tokenId = value.slice(0, eq);
  const secret = value.slice(eq + 1);
  const ok = same(tokenId, expected.tokenId) && same(secret, expected.tokenSecret);
  return ok ? { ok: true } : { ok: false, reason: 'Authentication failed!' };
}

export function isValidTokenId(tokenId: string): boolean {
  return TOKEN_ID.test(tokenId);
}

export function authorizationHeader(token: ApiToken): string {
  return `${PREFIX}${token.tokenId}=${token.tokenSecret}`;
}
