import type { FieldNames } from '../../http/field-names.js';

/**
 * Steam Guard files as the tools that hold them write them, each into an account body: the
 * SteamID as external_id (so a second import updates), account_name as username,
 * shared_secret, identity_secret and revocation_code as fields, and everything else of the
 * file (device_id, serial_number, uri, server_time, token_gid, secret_1, status, the session
 * and its tokens…) kept under the SDA key names in the encrypted steam_guard object.
 *
 * The shapes (parse the text with bigIntegers, so 17-digit ids arrive as strings):
 * - Steam Desktop Authenticator, older: `Session: {SessionID, SteamLogin, SteamLoginSecure,
 *   WebCookie, OAuthToken, SteamID}`, SteamID a bare JSON number (geel9/SteamAuth, the
 *   library SDA serialises).
 * - SDA, current: `Session: {SteamID, AccessToken, RefreshToken, SessionID}`, plus
 *   `phone_number_hint` and `confirm_type` (geel9/SteamAuth SessionData.cs,
 *   SteamGuardAccount.cs).
 * - steamguard-cli before its manifest v1: SDA's shape (its fixtures under
 *   src/fixtures/maFiles/compat/).
 * - steamguard-cli, current: `steam_id` (number) at the top, `tokens: {access_token,
 *   refresh_token}` or null, no server_time/status (steamguard/src/lib.rs SteamGuardAccount).
 * - The Steam mobile app's v2 backup: `steamid` as a string, `server_time` a string,
 *   `steamguard_scheme`, no device_id (steamguard-cli src/accountmanager/steamv2.rs).
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class MaFileError extends Error {
  override name = 'MaFileError';
}

/** True when a parsed record is a Steam Guard file of one of the shapes above. */
export function isMaFile(record: Obj): boolean {
  if (typeof record.account_name !== 'string' || typeof record.shared_secret !== 'string') {
    return false;
  }
  return !('username' in record) && !isObj(record.user);
}

/** A SteamID64 as exact digits (string or safe integer), or undefined when absent/0/null. */
function steamIdOf(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string | undefined;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    text = String(value);
  }
  if (text === undefined || !/^\d{1,20}$/.test(text)) {
    throw new MaFileError(`${where} is not a SteamID (digits)`);
  }
  return /^0+$/.test(text) ? undefined : text.replace(/^0+/, '');
}

/** server_time, status, confirm_type: numbers; strings of digits (Steam's v2 backup) read as such. */
function integerOf(value: unknown, where: string): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value.trim())) {
    const n = Number(value.trim());
    // Past 2^53 a number would lose digits: those stay the string they were.
    return Number.isSafeInteger(n) ? n : value.trim();
  }
  throw new MaFileError(`${where} is not a whole number`);
}

/** serial_number: always a string of the source's digits (it can exceed 2^63). */
function serialOf(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'number') {
    throw new MaFileError('serial_number is not a whole number of at most 15 digits nor a string');
  }
  return value;
}

const FIELDS = ['shared_secret', 'identity_secret', 'revocation_code'] as const;
const ID_KEYS = ['steam_id', 'steamid'] as const;

/** The file's keys of the body's fields, for errors (http/field-names.ts). */
export function maFileFieldNames(record: Obj): FieldNames {
  const idKey =
    isObj(record.Session) && record.Session.SteamID !== undefined
      ? 'Session.SteamID'
      : ID_KEYS.find((k) => record[k] !== undefined);
  return {
    username: 'account_name',
    ...(idKey ? { external_id: idKey } : {}),
    steam_guard: 'the file',
    'steam_guard/*': '',
  };
}

/**
 * One Steam Guard file → an account body. Throws MaFileError for a value no tool writes (a
 * SteamID that is not digits, two ids that differ).
 */
export function maFileBody(record: Obj): Obj {
  const session = isObj(record.Session) ? record.Session : undefined;
  const ids = new Map<string, string>();
  const sessionId = steamIdOf(session?.SteamID, 'Session.SteamID');
  if (sessionId) ids.set('Session.SteamID', sessionId);
  for (const key of ID_KEYS) {
    const id = steamIdOf(record[key], key);
    if (id) ids.set(key, id);
  }
  const distinct = [...new Set(ids.values())];
  if (distinct.length > 1) {
    throw new MaFileError(
      `names two SteamIDs: ${[...ids].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
  }
  const guard: Obj = {};
  for (const [key, value] of Object.entries(record)) {
    if ((FIELDS as readonly string[]).includes(key) || (ID_KEYS as readonly string[]).includes(key))
      continue;
    if (value === undefined) continue;
    if (key === 'serial_number') guard[key] = serialOf(value);
    else if (key === 'server_time' || key === 'status' || key === 'confirm_type')
      guard[key] = integerOf(value, key);
    else guard[key] = value;
  }
  const body: Obj = { service: 'steam', username: record.account_name };
  if (distinct[0]) body.external_id = distinct[0];
  for (const field of FIELDS) {
    const value = record[field];
    if (value === undefined || value === null || value === '') continue;
    body[field] = value;
  }
  if (Object.keys(guard).length > 0) body.steam_guard = guard;
  return body;
}
