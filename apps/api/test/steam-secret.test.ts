import { describe, expect, it } from 'vitest';
import { normalizeSteamSecret, SteamSecretError } from '../src/modules/accounts/steam-secret.js';
import { steamGuardCode } from '../src/modules/accounts/totp.js';

/**
 * Steam Guard secrets in the three encodings tools write, and the codes they make.
 *
 * The algorithm (steam-totp, DoctorMcKay/node-steam-totp index.js getAuthCode): HMAC-SHA1
 * keyed with the secret's bytes over the 8-byte big-endian counter floor(t / 30); offset = the
 * last byte & 0x0f; 31 bits from there; five times: alphabet "23456789BCDFGHJKMNPQRTVWXY"
 * [n % 26], n = floor(n / 26). Its bufferizeSecret reads 40 hex digits as hex, else base64.
 *
 * The codes below were computed outside AccountDB with python3's hmac, struct and base64:
 *   h = hmac.new(key, struct.pack('>Q', t // 30), hashlib.sha1).digest(); o = h[19] & 15
 *   v = struct.unpack('>I', h[o:o+4])[0] & 0x7fffffff; 5 × (chars[v % 26], v //= 26)
 * For key cnOgv/KdpLoP6Nbh0GMkXkPXALQ= that script gives W3J46 (t=0), Q9JC4 (1.5e9), X45RP
 * (1.7e9): the vectors of totp.test.ts.
 */

// 20 bytes fb ff 3f fb ef 7e fb fe 0f e0 ff e3 ff bf be fb ff fe ff ff: its base64 needs
// both "+" and "/" (URL-safe: "-" and "_").
const HEX = 'fbff3ffbef7efbfe0fe0ffe3ffbfbefbfffeffff';
const STANDARD = '+/8/++9++/4P4P/j/7+++//+//8=';
const URL_SAFE = '-_8_--9--_4P4P_j_7---__-__8=';
const VECTORS: Array<[number, string]> = [
  [0, 'XVPJ2'],
  [1_700_000_000, 'Y8GH6'],
];

describe('Steam secrets: three encodings, one value', () => {
  const forms = {
    'standard base64': STANDARD,
    'standard base64 without padding': STANDARD.replace(/=+$/, ''),
    'URL-safe base64': URL_SAFE,
    'URL-safe base64 without padding': URL_SAFE.replace(/=+$/, ''),
    'hex, lower case': HEX,
    'hex, upper case': HEX.toUpperCase(),
    'with spaces around': `  ${STANDARD} `,
  };
  it.each(Object.entries(forms))('%s is normalised to standard padded base64', (_, value) => {
    expect(normalizeSteamSecret(value)).toBe(STANDARD);
  });

  it.each(VECTORS)('every form makes the known code at t=%i (%s)', (t, code) => {
    for (const value of Object.values(forms)) {
      expect(steamGuardCode(normalizeSteamSecret(value), t)).toBe(code);
    }
  });

  it('reads exactly 40 hex digits as hex, though they are base64 characters too', () => {
    // 0102…14 (python3: 6KR59 at t=0, 3M9KK at t=1.7e9); read as base64 it would be 30 bytes.
    const hex = '0102030405060708090a0b0c0d0e0f1011121314';
    expect(normalizeSteamSecret(hex)).toBe('AQIDBAUGBwgJCgsMDQ4PEBESExQ=');
    expect(steamGuardCode(normalizeSteamSecret(hex), 0)).toBe('6KR59');
    expect(steamGuardCode(normalizeSteamSecret(hex), 1_700_000_000)).toBe('3M9KK');
    // A hex value stored before writes were normalised makes the same codes (steam-totp's reading).
    expect(steamGuardCode(hex, 0)).toBe('6KR59');
  });
});

describe('Steam secrets: refused', () => {
  it.each([
    ['39 hex digits (read as base64: 29 bytes)', HEX.slice(1), /29 bytes/],
    ['41 hex digits', `${HEX}0`, /length base64 cannot have/],
    ['16 bytes of base64', 'AAAAAAAAAAAAAAAAAAAAAA==', /16 bytes; a Steam secret is 20/],
    ['both alphabets at once', '+/8_--9++/4P4P/j/7+++//+//8=', /is not standard or URL-safe/],
    ['a padding base64 cannot have', `${STANDARD}=`, /length base64 cannot have/],
    ['"=" inside', 'AQIDBAUG=wgJCgsMDQ4PEBESExQ=', /is not standard or URL-safe/],
    ['a NUL byte', `AQIDBAUGBwgJCgsM\u0000DQ4PEBESExQ=`, /control characters/],
    ['a line break at the end', `${STANDARD}\n`, /control characters/],
    ['a DEL', `${STANDARD}\u007f`, /control characters/],
    ['letters outside base64', 'AQIDBAUGBwgJCgsMDQ4PEBESExQ!', /is not standard or URL-safe/],
    ['non-ASCII', 'AQIDBAUGBwgJCgsMDQ4PEBESExÜ=', /is not standard or URL-safe/],
    ['empty', '', /is not standard or URL-safe/],
    ['a megabyte', 'A'.repeat(1 << 20), /bytes; a Steam secret is 20/],
  ])('%s', (_, value, message) => {
    expect(() => normalizeSteamSecret(value)).toThrow(SteamSecretError);
    expect(() => normalizeSteamSecret(value)).toThrow(message);
  });
});
