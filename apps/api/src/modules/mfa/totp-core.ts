import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 TOTP for AccountDB's own second factor: HMAC-SHA-1, 6 digits, 30-second steps,
 * accepted one step either side of now. The HOTP core (RFC 4226) is the otpauth library's,
 * the same the accounts' 2FA codes use (accounts/totp.ts).
 */
export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted before and after the current one (clock drift, typing time). */
export const TOTP_WINDOW = 1;

/** A new seed: 20 random bytes (160 bits, RFC 4226's recommended length for SHA-1). */
export function newTotpSecret(): Buffer {
  return randomBytes(20);
}

export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
}

/** The code of one time step (the RFC 6238 T counter). */
export function codeAtStep(secret: Buffer, step: number, digits = TOTP_DIGITS): string {
  return HOTP.generate({
    secret: Secret.fromHex(secret.toString('hex')),
    algorithm: 'SHA1',
    digits,
    counter: step,
  });
}

/**
 * The time step within ±TOTP_WINDOW of now whose code is `code`, or null. Every candidate is
 * compared, in constant time, whichever matches.
 */
export function matchingStep(options: {
  secret: Buffer;
  code: string;
  nowMs: number;
}): number | null {
  const now = timeStep(options.nowMs);
  const given = Buffer.from(options.code, 'utf8');
  let found: number | null = null;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    const expected = Buffer.from(codeAtStep(options.secret, step), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given) && found === null)
      found = step;
  }
  return found;
}

export function base32Secret(secret: Buffer): string {
  return Secret.fromHex(secret.toString('hex')).base32;
}

/** The otpauth://totp/ URI an authenticator app reads (from the QR code or typed). */
export function otpauthUri(options: { secret: Buffer; issuer: string; account: string }): string {
  return new TOTP({
    issuer: options.issuer,
    label: options.account,
    secret: Secret.fromHex(options.secret.toString('hex')),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  }).toString();
}
