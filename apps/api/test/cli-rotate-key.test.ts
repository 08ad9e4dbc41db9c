import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RotationProgress, rotateDataKeys } from '../src/cli/rotate-key.js';
import { loadConfig } from '../src/config.js';
import { checkMasterKey } from '../src/crypto/data-keys.js';
import { masterKey } from '../src/crypto/envelope.js';
import { withTenant } from '../src/db/tenant.js';
import type { TestUser } from './helpers/factories.js';
import { apiAs, ownerQuery } from './helpers/support.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * Master key rotation without downtime (`accountdb rotate-key`), on both databases: while it
 * runs, an API with the new key and ACCOUNTDB_SECRET_KEY_PREVIOUS serves every secret; a
 * rotation stopped half-way and run again re-wraps the rest; afterwards the new key alone
 * reads every account secret and card code of both users and the old key is refused.
 */
let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
const OLD = () => masterKey(t.config.secretKey);
const NEW_KEY = randomBytes(32);
const NEW = masterKey(NEW_KEY);
const made: Array<{ user: TestUser; account: string; card: string; secret: string; code: string }> =
  [];

beforeAll(async () => {
  ({ t, admin, alice, bob } = await twoUsers());
  const call = apiAs(t.app);
  for (const user of [admin, alice, bob]) {
    const secret = `pw-${randomBytes(6).toString('hex')}`;
    const code = `CODE-${randomBytes(4).toString('hex').toUpperCase()}`;
    const account = await call(user, 'POST', '/accounts', {
      username: `rot-${user.username}`,
      password: secret,
    });
    const card = await call(user, 'POST', '/cards', { code1: code });
    expect(account.statusCode).toBe(201);
    expect(card.statusCode).toBe(201);
    made.push({ user, account: account.json().id, card: card.json().id, secret, code });
  }
});
afterAll(async () => t?.close());

/** Reads every made secret and card code through an app with the given keys. */
async function readAll(app: TestApp): Promise<void> {
  const call = apiAs(app.app);
  for (const m of made) {
    const secrets = await call(m.user, 'GET', `/accounts/${m.account}/secrets`);
    expect(secrets.statusCode, secrets.body).toBe(200);
    expect(secrets.json().password).toBe(m.secret);
    const card = await call(m.user, 'GET', `/cards/${m.card}`);
    expect(card.statusCode, card.body).toBe(200);
    expect(card.json().code1).toBe(m.code);
  }
}

const kids = async () =>
  (await ownerQuery<{ master_kid: string }>(t.database, 'SELECT master_kid FROM data_keys')).map(
    (r) => r.master_kid,
  );

describe('accountdb rotate-key', () => {
  it('re-wraps in batches, resumes after an interruption, and leaves every secret readable under the new key only', async () => {
    expect(new Set(await kids())).toEqual(new Set([OLD().kid]));
    const total = (await kids()).length;
    expect(total).toBe(3);

    // Step 1: the API restarts with the new key, the old one as previous.
    const during = await createTestApp({
      database: t.database,
      config: {
        jwtSecret: t.config.jwtSecret,
        secretKey: NEW_KEY,
        previousSecretKey: t.config.secretKey,
      },
    });
    try {
      await checkMasterKey(t.database, NEW, OLD());
      await readAll(during);

      // Step 2: the rotation is interrupted after one batch of one.
      const seen: RotationProgress[] = [];
      const first = await rotateDataKeys({
        db: t.database.ownerDb,
        current: NEW,
        previous: OLD(),
        batchSize: 1,
        maxBatches: 1,
        onProgress: (p) => seen.push({ ...p }),
      });
      expect(first).toEqual({ done: 1, total: 3 });
      expect(seen).toEqual([
        { done: 0, total: 3 },
        { done: 1, total: 3 },
      ]);
      expect((await kids()).sort()).toEqual([NEW.kid, OLD().kid, OLD().kid].sort());
      // Half-way, the new key alone does not do; with the previous key every secret reads.
      await expect(checkMasterKey(t.database, NEW)).rejects.toThrow(/does not match/);
      await readAll(during);

      // Run again: it goes on where it stopped.
      const second = await rotateDataKeys({
        db: t.database.ownerDb,
        current: NEW,
        previous: OLD(),
        batchSize: 1,
      });
      expect(second).toEqual({ done: 2, total: 2 });
      // A third run finds nothing left.
      expect(
        await rotateDataKeys({ db: t.database.ownerDb, current: NEW, previous: OLD() }),
      ).toEqual({
        done: 0,
        total: 0,
      });
    } finally {
      await during.close();
    }

    // Step 3: the new key alone reads everything; the old one is refused.
    expect(new Set(await kids())).toEqual(new Set([NEW.kid]));
    await checkMasterKey(t.database, NEW);
    await expect(checkMasterKey(t.database, OLD())).rejects.toThrow(/does not match/);
    const after = await createTestApp({
      database: t.database,
      config: { jwtSecret: t.config.jwtSecret, secretKey: NEW_KEY },
    });
    try {
      await readAll(after);
    } finally {
      await after.close();
    }
  });

  it('refuses ACCOUNTDB_SECRET_KEY_PREVIOUS equal to the current key, naming the variable', () => {
    const key = randomBytes(32).toString('base64');
    expect(() =>
      loadConfig({
        ACCOUNTDB_DATA_DIR: '/nonexistent',
        ACCOUNTDB_SECRET_KEY: key,
        ACCOUNTDB_SECRET_KEY_PREVIOUS: key,
        ACCOUNTDB_JWT_SECRET: key,
      }),
    ).toThrow(/^ACCOUNTDB_SECRET_KEY_PREVIOUS: is the same key/);
  });

  it('is refused to the request role', async () => {
    const refused = await withTenant(t.database, { kind: 'anonymous' }, (tx) =>
      tx.execute(sql`SELECT * FROM secrets_data_keys_wrapped_by('x', 1)`),
    ).then(
      () => null,
      (err: { cause?: { code?: string } }) => err.cause,
    );
    expect(refused?.code).toBe('42501');
  });
});
