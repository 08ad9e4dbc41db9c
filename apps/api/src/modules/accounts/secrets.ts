import type { DataKeyStore } from '../../crypto/data-keys.js';
import {
  ciphertextKeyId,
  decryptValue,
  encryptValue,
  SecretsError,
  secretAad,
} from '../../crypto/envelope.js';
import type { Actor, Tx } from '../../db/tenant.js';
import type { FieldError } from '../../http/errors.js';
import { ValidationError } from '../../http/errors.js';
import { secretsNotShared } from '../grants/shares.js';
import { SECRET_FIELDS, type SECRET_STRING_FIELDS, type SecretField } from './schemas.js';
import { normalizeSteamSecret, SteamSecretError } from './steam-secret.js';
import { parseTotpSecret, TotpSecretError } from './totp.js';

/** The secrets of one account, as stored (encrypted together in accounts.secrets_enc). */
export type Secrets = Partial<Record<(typeof SECRET_STRING_FIELDS)[number], string>> & {
  steam_guard?: Record<string, unknown>;
};

/** Secret changes of a write: a value sets, null removes, absent keeps. */
export type SecretChanges = Partial<Record<SecretField, string | Record<string, unknown> | null>>;

const aad = (rowId: string, ownerId: string) =>
  secretAad({ table: 'accounts', column: 'secrets', rowId, ownerId });

/** Picks the secret fields out of a body (and removes them from it). */
export function takeSecretChanges(body: Record<string, unknown>): SecretChanges {
  const changes: SecretChanges = {};
  for (const f of SECRET_FIELDS) {
    if (f in body) {
      changes[f] = body[f] as never;
      delete body[f];
    }
  }
  return changes;
}

/**
 * Refuses 2FA secrets that cannot make a code, naming the field, and normalises the Steam
 * secrets (shared_secret, identity_secret) in `changes` to standard padded base64.
 */
export function validateSecretChanges(changes: SecretChanges, pathPrefix = '/body'): void {
  const errors: FieldError[] = [];
  const totp = changes.totp_secret;
  if (typeof totp === 'string') {
    try {
      parseTotpSecret(totp);
    } catch (err) {
      if (!(err instanceof TotpSecretError)) throw err;
      errors.push({ path: `${pathPrefix}/totp_secret`, message: err.message });
    }
  }
  for (const field of ['shared_secret', 'identity_secret'] as const) {
    const value = changes[field];
    if (typeof value !== 'string') continue;
    try {
      changes[field] = normalizeSteamSecret(value);
    } catch (err) {
      if (!(err instanceof SteamSecretError)) throw err;
      errors.push({ path: `${pathPrefix}/${field}`, message: err.message });
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
}

export function applySecretChanges(current: Secrets, changes: SecretChanges): Secrets {
  const next: Secrets = { ...current };
  for (const [field, value] of Object.entries(changes) as Array<[SecretField, unknown]>) {
    if (value === null || value === undefined) delete next[field];
    else (next as Record<string, unknown>)[field] = value;
  }
  return next;
}

/** Encrypts the secrets for their row; no secrets → no ciphertext. */
export async function sealSecrets(options: {
  tx: Tx;
  keys: DataKeyStore;
  rowId: string;
  ownerId: string;
  secrets: Secrets;
  /** Who asks: another user than the owner reaches the key only through a share. */
  actor?: Actor;
}): Promise<{ secretsEnc: string | null; secretFields: string[] }> {
  const fields = SECRET_FIELDS.filter((f) => options.secrets[f] !== undefined);
  if (fields.length === 0) return { secretsEnc: null, secretFields: [] };
  const key = await options.keys.forOwner(
    options.tx,
    options.ownerId,
    sharedKey(options.actor, options.ownerId),
  );
  return {
    secretsEnc: encryptValue(
      key,
      JSON.stringify(options.secrets),
      aad(options.rowId, options.ownerId),
    ),
    secretFields: fields,
  };
}

/**
 * Another user's key used by a user who is not an admin (a grantee of a shared account): read
 * through the caller's transaction every time, so the database's policy decides (migration
 * 0020). Admins read every key through their own policy.
 */
function sharedKey(actor: Actor | undefined, ownerId: string) {
  return actor?.kind === 'user' && actor.role !== 'admin' && actor.userId !== ownerId
    ? { onRefused: secretsNotShared }
    : undefined;
}

export async function openSecrets(options: {
  tx: Tx;
  keys: DataKeyStore;
  row: { id: string; ownerId: string; secretsEnc: string | null };
  /** Who asks: another user than the owner reaches the key only through a share. */
  actor?: Actor;
}): Promise<Secrets> {
  const { row } = options;
  if (!row.secretsEnc) return {};
  const key = await options.keys.forOwner(
    options.tx,
    row.ownerId,
    sharedKey(options.actor, row.ownerId),
  );
  if (ciphertextKeyId(row.secretsEnc) !== key.id)
    throw new SecretsError('account secrets use an unknown data key');
  return JSON.parse(decryptValue(key, row.secretsEnc, aad(row.id, row.ownerId))) as Secrets;
}
