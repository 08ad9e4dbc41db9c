import { type Algorithm, hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** argon2id at OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane. */
const ARGON2 = {
  algorithm: 2 as Algorithm /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Lengths in characters; long passphrases welcome, megabyte inputs refused before hashing. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

/**
 * A bcrypt hash as the earlier AccountDB stored them (passlib; `$2a$`, `$2b$` or `$2y$`, cost,
 * 22 characters of salt, 31 of hash). `accountdb migrate-legacy` keeps them as they are; the
 * first successful login replaces one with argon2id (needsRehash).
 */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export const isBcryptHash = (passwordHash: string): boolean => BCRYPT.test(passwordHash);

/** True for a hash that a successful login should replace with an argon2id hash. */
export const needsRehash = isBcryptHash;

/**
 * bcrypt reads at most 72 bytes of a password (passlib, like OpenBSD, ignores the rest): a
 * longer password is verified on its first 72 bytes, as the earlier system did.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    if (isBcryptHash(passwordHash)) return await bcrypt.compare(password, passwordHash);
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies the password against a fixed dummy hash so that a login for an unknown user
 * costs the same time as one for a known user with a wrong password.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword('accountdb-dummy-password-for-timing');
  await verifyPassword(await dummyHash, password);
  return false;
}
