import { describe, expect, it } from 'vitest';
import { isBcryptHash, needsRehash, verifyPassword } from '../src/crypto/passwords.js';
import { LEGACY_HASHES, LEGACY_PASSWORD } from './helpers/legacy-db.js';

/**
 * Passwords of the earlier AccountDB are bcrypt hashes (passlib). Checked against vectors this
 * code did not make: OpenBSD's bcrypt test vectors (as published in OpenBSD's regress tests
 * and repeated in passlib's test suite, passlib/tests/test_handlers_bcrypt.py), and hashes
 * made by the C library's crypt(3) (libxcrypt, see helpers/legacy-db.ts).
 */
const OPENBSD_VECTORS: Array<[password: string, hash: string]> = [
  ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ['U*U*', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK'],
  ['', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'],
];

describe('bcrypt hashes from the earlier system', () => {
  it.each(OPENBSD_VECTORS)('verifies the OpenBSD vector for %j', async (password, hash) => {
    expect(isBcryptHash(hash)).toBe(true);
    expect(await verifyPassword(hash, password)).toBe(true);
    expect(await verifyPassword(hash, `${password}x`)).toBe(false);
  });

  it.each(Object.entries(LEGACY_HASHES))('verifies a %s hash made by crypt(3)', async (_, hash) => {
    expect(needsRehash(hash)).toBe(true);
    expect(await verifyPassword(hash, LEGACY_PASSWORD)).toBe(true);
    expect(await verifyPassword(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('refuses what is not a bcrypt hash, and never rehashes argon2id', async () => {
    for (const hash of [
      '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
      '$2a$05$short',
      'plain',
    ]) {
      expect(isBcryptHash(hash)).toBe(false);
      expect(await verifyPassword(hash, 'U*U')).toBe(false);
    }
    expect(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(false);
  });
});
