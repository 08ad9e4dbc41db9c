import { describe, expect, it } from 'vitest';
import { currentCode, parseTotpSecret, steamGuardCode } from '../src/modules/accounts/totp.js';

describe('TOTP (RFC 6238, SHA-1 test vectors)', () => {
  // RFC 6238 Appendix B: ASCII "12345678901234567890", 8 digits, 30 s steps.
  const uri =
    'otpauth://totp/rfc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&period=30&algorithm=SHA1';
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('t=%i gives %s', (t, code) => {
    expect(currentCode({ totp_secret: uri }, { nowMs: t * 1000 })).toMatchObject({
      code,
      kind: 'totp',
      period: 30,
    });
  });

  it('takes a plain base32 secret with spaces and lower case', () => {
    const spaced = 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq';
    const code = currentCode({ totp_secret: spaced }, { nowMs: 59_000 });
    expect(code?.code).toBe('287082'); // the last 6 digits of the 8-digit vector
    expect(code?.remaining_s).toBe(1);
  });

  it('refuses what is neither base32 nor an otpauth TOTP URI', () => {
    expect(() => parseTotpSecret('not a secret!')).toThrow(/base32/);
    expect(() => parseTotpSecret('otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ&counter=1')).toThrow(
      /TOTP/,
    );
  });
});

describe('Steam Guard codes', () => {
  // Known answers for a public test secret (not a real account's).
  const secret = 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=';
  it.each([
    [0, 'W3J46'],
    [1_500_000_000, 'Q9JC4'],
    [1_700_000_000, 'X45RP'],
    [1_893_456_000, 'PJ4MJ'],
  ])('t=%i gives %s', (t, code) => {
    expect(steamGuardCode(secret, t)).toBe(code);
  });

  it('is stable within one 30-second window and changes in the next', () => {
    const start = 1_700_000_010; // a multiple of 30
    expect(steamGuardCode(secret, start + 29)).toBe(steamGuardCode(secret, start));
    expect(steamGuardCode(secret, start + 30)).not.toBe(steamGuardCode(secret, start));
  });

  it('prefers the Steam secret over a TOTP secret and reports the time left', () => {
    const code = currentCode(
      { shared_secret: secret, totp_secret: 'GEZDGNBVGY3TQOJQ' },
      { nowMs: 1_700_000_005_000 },
    );
    expect(code).toEqual({ code: 'X45RP', period: 30, remaining_s: 5, kind: 'steam' }); // 1_700_000_005 is 25 s into its window
  });
});
