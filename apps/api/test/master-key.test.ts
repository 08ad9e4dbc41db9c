import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMasterKey } from '../src/crypto/data-keys.js';
import { masterKey } from '../src/crypto/envelope.js';
import { bearer, setupAdmin } from './helpers/factories.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('master key check at start', () => {
  it('accepts the key that wrapped the stored data keys and refuses any other', async () => {
    // Nothing stored yet: any key is fine.
    await expect(checkMasterKey(t.database, masterKey(randomBytes(32)))).resolves.toBeUndefined();
    const admin = await setupAdmin(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: bearer(admin.accessToken),
      payload: { username: 'keyed', password: 'a secret' },
    });
    expect(res.statusCode).toBe(201);
    await expect(
      checkMasterKey(t.database, masterKey(t.config.secretKey)),
    ).resolves.toBeUndefined();
    await expect(checkMasterKey(t.database, masterKey(randomBytes(32)))).rejects.toThrow(
      /ACCOUNTDB_SECRET_KEY does not match this database/,
    );
  });
});
