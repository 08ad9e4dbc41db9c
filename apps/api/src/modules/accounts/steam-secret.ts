/**
 * Steam Guard's shared_secret and identity_secret: 20-byte HMAC-SHA1 keys that the tools
 * holding them write in one of three encodings. steam-totp (DoctorMcKay/node-steam-totp,
 * index.js `bufferizeSecret`), the reference library, reads a string of 40 hex digits as hex
 * and anything else as base64 (Node's decoder, which also takes URL-safe base64); SDA and
 * steamguard-cli write standard padded base64. AccountDB reads the same three, but only
 * whole, well-formed values: hex wins when the value is exactly 40 hex digits (as in
 * steam-totp), base64 must use one alphabet and a length base64 can have, and the bytes must
 * be the 20 Steam issues. Everything is stored as standard padded base64.
 */

export const STEAM_SECRET_BYTES = 20;

export class SteamSecretError extends Error {
  override name = 'SteamSecretError';
}

const HEX_40 = /^[0-9a-fA-F]{40}$/;
const STANDARD = /^[A-Za-z0-9+/]+$/;
const URL_SAFE = /^[A-Za-z0-9_-]+$/;

const FORMS = `standard or URL-safe base64 (${Math.ceil(STEAM_SECRET_BYTES / 3) * 4} characters) or ${STEAM_SECRET_BYTES * 2} hex digits`;

/** The bytes of a Steam secret in any accepted encoding; throws SteamSecretError naming why not. */
export function decodeSteamSecret(value: string): Buffer {
  // Spaces around a pasted value are harmless; control characters anywhere are not.
  if (/\p{Cc}/u.test(value)) {
    throw new SteamSecretError(`holds control characters; expected ${FORMS}`);
  }
  const text = value.trim();
  if (HEX_40.test(text)) return Buffer.from(text, 'hex');
  const padding = /=*$/.exec(text)?.[0].length ?? 0;
  const body = text.slice(0, text.length - padding);
  if (!STANDARD.test(body) && !URL_SAFE.test(body)) {
    throw new SteamSecretError(`is not ${FORMS}`);
  }
  // Unpadded base64 never has a length of 4n+1; padded, the whole is 4n with at most "==".
  const badLength =
    body.length % 4 === 1 || (padding > 0 && (padding > 2 || text.length % 4 !== 0));
  if (badLength) throw new SteamSecretError(`has a length base64 cannot have; expected ${FORMS}`);
  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== STEAM_SECRET_BYTES) {
    throw new SteamSecretError(
      `is ${bytes.length} bytes; a Steam secret is ${STEAM_SECRET_BYTES} (${FORMS})`,
    );
  }
  return bytes;
}

/** A Steam secret in standard padded base64, the form AccountDB stores. */
export function normalizeSteamSecret(value: string): string {
  return decodeSteamSecret(value).toString('base64');
}
