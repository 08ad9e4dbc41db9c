import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

/**
 * AES-256-GCM envelope encryption. The master key (ACCOUNTDB_SECRET_KEY) only wraps data
 * keys; data keys encrypt values. Every value ciphertext reads `v1:<data key id>:<base64url
 * of iv|ciphertext|tag>` and is bound by associated data to its row (table|column|id|owner),
 * so a ciphertext copied into another row or column fails to decrypt.
 */

export class SecretsError extends Error {
  override name = 'SecretsError';
}

export interface MasterKey {
  /** Short public id of the master key, stored beside every wrapped data key. */
  kid: string;
  key: Buffer;
}

export interface DataKey {
  id: string;
  key: Buffer;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function masterKey(key: Buffer): MasterKey {
  if (key.length !== 32) throw new SecretsError('the master key must be 32 bytes');
  const kid = createHash('sha256')
    .update('accountdb master key id\0')
    .update(key)
    .digest('hex')
    .slice(0, 16);
  return { kid, key };
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretsError('ciphertext is truncated');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const ct = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new SecretsError('ciphertext does not decrypt with this key and context');
  }
}

const wrapAad = (ownerId: string) => `data_key|${ownerId}`;

export function wrapDataKey(master: MasterKey, dataKey: Buffer, ownerId: string): Buffer {
  return seal(master.key, dataKey, wrapAad(ownerId));
}

export function unwrapDataKey(master: MasterKey, wrapped: Buffer, ownerId: string): Buffer {
  return open(master.key, wrapped, wrapAad(ownerId));
}

/** Associated data binding a value to its place. */
export function secretAad(place: {
  table: string;
  column: string;
  rowId: string;
  ownerId: string;
}): string {
  return `${place.table}|${place.column}|${place.rowId}|${place.ownerId}`;
}

export function encryptValue(dataKey: DataKey, plaintext: string, aad: string): string {
  return `${VERSION}:${dataKey.id}:${seal(dataKey.key, Buffer.from(plaintext, 'utf8'), aad).toString('base64url')}`;
}

/** The data key id a ciphertext was made with. */
export function ciphertextKeyId(ciphertext: string): string {
  const [version, keyId] = ciphertext.split(':', 3);
  if (version !== VERSION || !keyId) throw new SecretsError('unknown ciphertext format');
  return keyId;
}

export function decryptValue(dataKey: DataKey, ciphertext: string, aad: string): string {
  const parts = ciphertext.split(':');
  if (parts.length !== 3 || parts[0] !== VERSION)
    throw new SecretsError('unknown ciphertext format');
  if (parts[1] !== dataKey.id) throw new SecretsError('ciphertext was made with another data key');
  return open(dataKey.key, Buffer.from(parts[2] ?? '', 'base64url'), aad).toString('utf8');
}

/**
 * Keyed hash for exact lookup of a secret value (card codes) without storing it: HMAC-SHA256
 * with a key derived from the owner's data key, so equal codes of two owners differ.
 */
export function blindIndex(dataKey: DataKey, value: string): Buffer {
  const key = Buffer.from(
    hkdfSync('sha256', dataKey.key, Buffer.alloc(0), 'accountdb blind index v1', 32),
  );
  return createHmac('sha256', key).update(value, 'utf8').digest();
}
