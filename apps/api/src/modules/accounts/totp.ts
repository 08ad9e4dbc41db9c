import { createHmac } from 'node:crypto';
import { Secret, TOTP, URI } from 'otpauth';

/** 2FA codes: standard TOTP (RFC 6238) and Steam Guard's 5-character variant. */

export interface TotpCode {
  code: string;
  period: number;
  remaining_s: number;
  kind: 'totp' | 'steam';
}

export class TotpSecretError extends Error {
  override name = 'TotpSecretError';
}

/** A TOTP generator from a base32 secret or an otpauth://totp/ URI; throws on anything else. */
export function parseTotpSecret(value: string): TOTP {
  const text = value.trim();
  if (/^otpauth:\/\//i.test(text)) {
    let parsed: unknown;
    try {
      parsed = URI.parse(text);
    } catch {
      throw new TotpSecretError('is not a valid otpauth:// URI');
    }
    if (!(parsed instanceof TOTP))
      throw new TotpSecretError('is an otpauth URI but not a TOTP one');
    return parsed;
  }
  const base32 = text.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (!/^[A-Z2-7]{16,}$/.test(base32)) {
    throw new TotpSecretError(
      'is not a base32 TOTP secret (16+ characters A-Z, 2-7) nor an otpauth:// URI',
    );
  }
  return new TOTP({ secret: Secret.fromBase32(base32), period: 30, digits: 6, algorithm: 'SHA1' });
}

const STEAM_ALPHABET = '23456789BCDFGHJKMNPQRTVWXY';
export const STEAM_PERIOD = 30;

/**
 * Decodes a stored Steam shared_secret as steam-totp does (exactly 40 hex digits: hex; else
 * base64), so values stored before writes were normalised (steam-secret.ts) still make codes.
 */
export function steamSecretBytes(sharedSecret: string): Buffer {
  const text = sharedSecret.trim();
  if (/^[0-9a-fA-F]{40}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new TotpSecretError('is not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 10) throw new TotpSecretError('is too short for a Steam shared_secret');
  return bytes;
}

/** Steam Guard code: HMAC-SHA1 over the 30-second counter, 5 characters of Steam's alphabet. */
export function steamGuardCode(sharedSecret: string, timeSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeSeconds / STEAM_PERIOD)));
  const hmac = createHmac('sha1', steamSecretBytes(sharedSecret)).update(counter).digest();
  const offset = (hmac[19] ?? 0) & 0x0f;
  let value = hmac.readUInt32BE(offset) & 0x7fffffff;
  let code = '';
  for (let i = 0; i < 5; i++) {
    code += STEAM_ALPHABET[value % STEAM_ALPHABET.length];
    value = Math.floor(value / STEAM_ALPHABET.length);
  }
  return code;
}

/**
 * When a code is made: the local clock (nowMs), and for Steam codes the seconds Steam's clock
 * is ahead of it (steamOffsetS, from the Steam time source). Standard TOTP uses the local
 * clock alone: its services are not Steam and keep their own (NTP) time.
 */
export interface CodeClock {
  nowMs?: number;
  steamOffsetS?: number;
}

export function currentCode(
  secrets: { totp_secret?: string | undefined; shared_secret?: string | undefined },
  clock: CodeClock = {},
): TotpCode | null {
  const nowMs = clock.nowMs ?? Date.now();
  const seconds = nowMs / 1000;
  if (secrets.shared_secret) {
    const steamSeconds = seconds + (clock.steamOffsetS ?? 0);
    return {
      code: steamGuardCode(secrets.shared_secret, steamSeconds),
      period: STEAM_PERIOD,
      remaining_s: STEAM_PERIOD - (Math.floor(steamSeconds) % STEAM_PERIOD),
      kind: 'steam',
    };
  }
  if (secrets.totp_secret) {
    const totp = parseTotpSecret(secrets.totp_secret);
    return {
      code: totp.generate({ timestamp: nowMs }),
      period: totp.period,
      remaining_s: totp.period - (Math.floor(seconds) % totp.period),
      kind: 'totp',
    };
  }
  return null;
}
