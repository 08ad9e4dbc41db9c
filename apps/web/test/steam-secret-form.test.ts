import { describe, expect, it } from 'vitest';
import { steamSecretProblem } from '../src/features/accounts/steam-secret';

// The API's rules (apps/api/src/modules/accounts/steam-secret.ts: SDA and steamguard-cli write
// standard padded base64, steam-totp also reads 40 hex digits): the form takes and refuses the
// same values, with a hint of what a secret looks like.
describe("the account form's Steam secret check", () => {
  it('takes the encodings the API takes', () => {
    for (const value of [
      '',
      'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=',
      'cnOgv/KdpLoP6Nbh0GMkXkPXALQ',
      'cnOgv_KdpLoP6Nbh0GMkXkPXALQ=',
      ' cnOgv/KdpLoP6Nbh0GMkXkPXALQ= ',
      '7273a0bfca9da68a0fe8d6d1d0632e43d700b434',
    ]) {
      expect(steamSecretProblem(value), value).toBeNull();
    }
  });

  it('refuses what the API refuses, naming why and how it should look', () => {
    expect(steamSecretProblem('not a secret!')).toMatch(/^Not base64 or hex\. As in the \.maFile/);
    expect(steamSecretProblem('c2hvcnQ=')).toMatch(/^5 bytes; a Steam secret is 20\./);
    expect(steamSecretProblem('cnOgv/KdpLoP6Nbh0GMkXkPXALQAAAA')).toMatch(
      /^23 bytes; a Steam secret is 20/,
    );
    expect(steamSecretProblem('cnOgv/KdpLoP6Nbh0GMkXkPXALQ=AAAA')).toMatch(/^Not base64/);
    expect(steamSecretProblem('cnOgv/KdpLoP6Nbh0GMkX\u0007kPXALQ=')).toMatch(/control characters/);
    expect(steamSecretProblem('cnOgv/KdpLoP6Nbh0GMk_kPXAL+=')).toMatch(/^Not base64/);
  });
});
