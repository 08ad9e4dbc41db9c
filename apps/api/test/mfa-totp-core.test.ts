import { describe, expect, it } from 'vitest';
import { normalizeRecoveryCode } from '../src/modules/mfa/recovery-codes.js';
import { codeAtStep, matchingStep, TOTP_PERIOD_S, timeStep } from '../src/modules/mfa/totp-core.js';

/**
 * Fixture: RFC 6238 Appendix B (https://www.rfc-editor.org/rfc/rfc6238#appendix-B), the SHA-1
 * rows: seed = the ASCII string "12345678901234567890", T0 = 0, X = 30 s, 8-digit codes.
 */
const RFC6238_SEED = Buffer.from('12345678901234567890', 'ascii');
const RFC6238_SHA1: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('RFC 6238 core of the login second factor', () => {
  it.each(RFC6238_SHA1)('t=%i gives %s (appendix B, SHA-1)', (t, code) => {
    expect(codeAtStep(RFC6238_SEED, timeStep(t * 1000), 8)).toBe(code);
  });

  it('6-digit codes are the last 6 digits of the 8-digit vectors', () => {
    expect(codeAtStep(RFC6238_SEED, timeStep(59_000))).toBe('287082');
  });

  it('accepts the step before and after now, not two away', () => {
    const nowMs = 1_234_567_890_000;
    const now = timeStep(nowMs);
    expect(TOTP_PERIOD_S).toBe(30);
    for (const delta of [-1, 0, 1]) {
      const code = codeAtStep(RFC6238_SEED, now + delta);
      expect(matchingStep({ secret: RFC6238_SEED, code, nowMs })).toBe(now + delta);
    }
    for (const delta of [-2, 2]) {
      const code = codeAtStep(RFC6238_SEED, now + delta);
      expect(matchingStep({ secret: RFC6238_SEED, code, nowMs })).toBeNull();
    }
    expect(matchingStep({ secret: RFC6238_SEED, code: '12345', nowMs })).toBeNull();
  });

  it('reads recovery codes whatever the case, dashes and spaces', () => {
    expect(normalizeRecoveryCode(' ABCD-efgh ijkl-mn23 ')).toBe('abcdefghijklmn23');
    expect(normalizeRecoveryCode('abcd-efgh')).toBeNull();
    expect(normalizeRecoveryCode('123456')).toBeNull();
  });
});
