import { type Algorithm, hash, verify } from '@node-rs/argon2';

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

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
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
