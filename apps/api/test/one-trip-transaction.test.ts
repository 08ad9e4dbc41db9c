import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { contextStatement, rowsOf, withTenant } from '../src/db/tenant.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

// withTenant on PostgreSQL (issue 15): BEGIN and the signed context in one query, then the
// caller's statements in that transaction, COMMIT or ROLLBACK, savepoints as before.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
});
afterAll(async () => database?.drop());

const anonymous = { kind: 'anonymous' } as const;

describe('the context statement', () => {
  it('inlines only the alphabet of signed claims, the signature as hex', () => {
    const signature = Buffer.from('00ff10', 'hex');
    const text = contextStatement({ claims: 'v1||anonymous||1796584080410', signature });
    expect(text).toContain(
      "app_context_seal('v1||anonymous||1796584080410', decode('00ff10', 'hex'))",
    );
    for (const claims of ["v1|x'; DROP TABLE users; --|user||1", 'v1|a\\b|user||1', '']) {
      expect(() => contextStatement({ claims, signature })).toThrow(/claims/);
    }
  });
});

describe('a tenant transaction', () => {
  it('runs in the sealed context as accountdb_app', async () => {
    const [row] = await withTenant(database, anonymous, async (tx) =>
      rowsOf<{ role: string; ctx: string }>(
        await tx.execute(sql`SELECT current_user AS role, app_role() AS ctx`),
      ),
    );
    expect(row).toEqual({ role: 'accountdb_app', ctx: 'anonymous' });
  });

  it('rolls back when fn throws and leaves the connection usable; savepoints work', async () => {
    // A statement that fails aborts the transaction; the pool (2 connections) must get its
    // connections back clean, many times over.
    for (let i = 0; i < 5; i++) {
      await expect(
        withTenant(database, anonymous, async (tx) => {
          await tx.execute(sql`SELECT 1/0`);
        }),
      ).rejects.toThrow();
    }
    const inner = await withTenant(database, anonymous, async (tx) => {
      await tx.transaction(async (sp) => {
        await sp.execute(sql`SELECT 1`);
      });
      await tx
        .transaction(async (sp) => {
          await sp.execute(sql`SELECT 1/0`);
        })
        .catch(() => {});
      return rowsOf<{ ok: number }>(await tx.execute(sql`SELECT 1 AS ok`));
    });
    expect(inner).toEqual([{ ok: 1 }]);
    // Nothing left over on the pooled connections: no open transaction, no role.
    for (let i = 0; i < 4; i++) {
      const [row] = await withTenant(database, anonymous, async (tx) =>
        rowsOf<{ role: string }>(await tx.execute(sql`SELECT current_user AS role`)),
      );
      expect(row?.role).toBe('accountdb_app');
    }
  });

  it.skipIf(!inject('pgTemplate'))(
    'sends BEGIN and the context as one query on PostgreSQL',
    async () => {
      const sent: string[] = [];
      const original = pg.Client.prototype.query;
      pg.Client.prototype.query = function capture(this: pg.Client, ...args: unknown[]) {
        const config = args[0] as string | { text?: string };
        sent.push(typeof config === 'string' ? config : (config.text ?? ''));
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      try {
        await withTenant(database, anonymous, async (tx) => tx.execute(sql`SELECT 1`));
      } finally {
        pg.Client.prototype.query = original;
      }
      expect(sent).toHaveLength(3);
      expect(sent[0]).toMatch(/^BEGIN; SELECT set_config\('role', 'accountdb_app', true\)/);
      expect(sent[2]).toBe('COMMIT');
    },
  );
});
