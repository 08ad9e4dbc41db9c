/**
 * The form's check of a Steam shared or identity secret, before the API's (which says the
 * same: apps/api/src/modules/accounts/steam-secret.ts): 20 bytes as standard or URL-safe
 * base64 (28 characters, as SDA and steamguard-cli write it) or 40 hex digits.
 */
const BYTES = 20;
export const STEAM_SECRET_HINT =
  'As in the .maFile: 28 characters of base64 (…=), or 40 hex digits.';

/** Why a value is not a Steam secret, or null when it is one (or empty). */
export function steamSecretProblem(value: string): string | null {
  const text = value.trim();
  if (text === '') return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(value)) return `Holds control characters. ${STEAM_SECRET_HINT}`;
  if (/^[0-9a-fA-F]{40}$/.test(text)) return null;
  const padding = /=*$/.exec(text)?.[0].length ?? 0;
  const body = text.slice(0, text.length - padding);
  if (!/^[A-Za-z0-9+/]+$/.test(body) && !/^[A-Za-z0-9_-]+$/.test(body)) {
    return `Not base64 or hex. ${STEAM_SECRET_HINT}`;
  }
  const badLength =
    body.length % 4 === 1 || (padding > 0 && (padding > 2 || text.length % 4 !== 0));
  const bytes = Math.floor((body.length * 3) / 4);
  if (badLength || bytes !== BYTES) {
    return `${bytes} bytes; a Steam secret is ${BYTES}. ${STEAM_SECRET_HINT}`;
  }
  return null;
}
