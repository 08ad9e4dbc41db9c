import { createDecipheriv, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Steam Desktop Authenticator's encrypted .maFiles (Jessecar96/SteamDesktopAuthenticator,
 * FileEncryptor.cs and Manifest.cs): the file holds base64 of AES-256-CBC ciphertext (PKCS7
 * padding) of the maFile's JSON; the key is PBKDF2 (Rfc2898DeriveBytes: HMAC-SHA1) of the
 * passkey's UTF-8 bytes over the entry's salt, 50,000 rounds, 32 bytes; salt (8 bytes) and IV
 * (16 bytes) are base64 in maFiles/manifest.json, per entry (`encryption_salt`,
 * `encryption_iv`, with `filename` and `steamid`), `encrypted: true` at the top.
 * steamguard-cli's manifest (version 1) keeps the same scheme as `encryption: {iv, salt,
 * scheme: "LegacySdaCompatible"}` per entry (src/encryption/legacy.rs).
 */

export const SDA_PBKDF2_ROUNDS = 50_000;
const KEY_BYTES = 32;
const IV_BYTES = 16;

const pbkdf2Async = promisify(pbkdf2);

export class SdaDecryptError extends Error {
  override name = 'SdaDecryptError';
}

/** How one file of a manifest is stored. */
export interface ManifestEntry {
  filename: string;
  /** Salt and IV (base64) of an encrypted file; null: stored in clear. */
  encryption: { salt: string; iv: string } | null;
  /** An encryption AccountDB cannot undo (steamguard-cli's argon2id scheme), named. */
  unsupported?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const base64Of = (v: unknown, bytes: number) =>
  typeof v === 'string' &&
  /^[A-Za-z0-9+/]+={0,2}$/.test(v) &&
  v.length % 4 === 0 &&
  Buffer.from(v, 'base64').length === bytes;

/**
 * The entries of an SDA or steamguard-cli manifest.json, by file name. Throws SdaDecryptError
 * naming what is wrong with it.
 */
export function manifestEntries(manifest: unknown): Map<string, ManifestEntry> {
  if (!isObj(manifest) || !Array.isArray(manifest.entries)) {
    throw new SdaDecryptError('is not an SDA or steamguard-cli manifest (no "entries" list)');
  }
  const sdaEncrypted = manifest.encrypted === true;
  const out = new Map<string, ManifestEntry>();
  for (const [i, raw] of manifest.entries.entries()) {
    if (!isObj(raw) || typeof raw.filename !== 'string' || raw.filename === '') {
      throw new SdaDecryptError(`entry ${i + 1} has no filename`);
    }
    const entry: ManifestEntry = { filename: raw.filename, encryption: null };
    if ('encryption' in raw) {
      // steamguard-cli, manifest version 1.
      const enc = raw.encryption;
      if (isObj(enc)) {
        if (enc.scheme === 'LegacySdaCompatible' || enc.scheme === undefined) {
          entry.encryption = { salt: String(enc.salt), iv: String(enc.iv) };
        } else entry.unsupported = String(enc.scheme);
      }
    } else if (sdaEncrypted) {
      entry.encryption = { salt: String(raw.encryption_salt), iv: String(raw.encryption_iv) };
    }
    if (entry.encryption) {
      if (!base64Of(entry.encryption.salt, 8) || !base64Of(entry.encryption.iv, IV_BYTES)) {
        throw new SdaDecryptError(
          `entry ${raw.filename} has no valid salt (8 bytes) and IV (16 bytes) in base64`,
        );
      }
    }
    out.set(raw.filename, entry);
  }
  return out;
}

/**
 * Decrypts one SDA .maFile's content with the passkey. Throws SdaDecryptError when the
 * content is not base64 of whole AES blocks, or the passkey does not open it (bad padding, or
 * a result that is not text starting with "{").
 */
export async function decryptMaFile(options: {
  passkey: string;
  salt: string;
  iv: string;
  content: string;
}): Promise<string> {
  const text = options.content.trim();
  const ciphertext = Buffer.from(text, 'base64');
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(text) ||
    text.length % 4 !== 0 ||
    ciphertext.length === 0 ||
    ciphertext.length % 16 !== 0
  ) {
    throw new SdaDecryptError('is not base64 of AES-256-CBC ciphertext');
  }
  const key = await pbkdf2Async(
    Buffer.from(options.passkey, 'utf8'),
    Buffer.from(options.salt, 'base64'),
    SDA_PBKDF2_ROUNDS,
    KEY_BYTES,
    'sha1',
  );
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, Buffer.from(options.iv, 'base64'));
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SdaDecryptError('does not open with this passkey');
  }
  // A wrong key passes the padding check about once in 256 tries: the text tells.
  const json = new TextDecoder('utf-8', { fatal: false }).decode(plain).replace(/^\uFEFF/, '');
  if (!json.trimStart().startsWith('{') || json.includes('\uFFFD')) {
    throw new SdaDecryptError('does not open with this passkey');
  }
  return json;
}

/** True when a file's content looks like SDA ciphertext rather than JSON. */
export function looksEncrypted(content: string): boolean {
  const text = content.trim();
  return (
    text.length >= 24 &&
    text.length % 4 === 0 &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(text) &&
    Buffer.from(text, 'base64').length % 16 === 0
  );
}
