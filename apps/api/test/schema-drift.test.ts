import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

/**
 * Drizzle's view of the tables (src/db/schema.ts) and the tables the SQL migrations make
 * must agree: same tables, same columns, same types, nullability, defaults and keys.
 */

interface DbColumn {
  table_name: string;
  column_name: string;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  sql_type: string;
  is_primary: boolean;
}

let database: TestDatabase;
let dbColumns: DbColumn[];

const tables = Object.values(schema) as PgTable[];

/** Drizzle's spelling of a type and format_type()'s, made comparable. */
function normalType(type: string): string {
  return type
    .toLowerCase()
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*\)/g, ')')
    .replace(/^varchar\b/, 'character varying')
    .replace(/^char\b/, 'character')
    .replace(/^timestamp(\(\d+\))?$/, 'timestamp$1 without time zone')
    .replace(/^time(\(\d+\))?$/, 'time$1 without time zone')
    .replace(/^(int4|serial)$/, 'integer')
    .replace(/^(int8|bigserial)$/, 'bigint')
    .replace(/^(int2|smallserial)$/, 'smallint')
    .replace(/^float8$/, 'double precision')
    .replace(/^float4$/, 'real')
    .replace(/^bool$/, 'boolean')
    .replace(/^decimal\b/, 'numeric');
}

async function query<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const raw = database.raw;
  if (raw.kind === 'pglite') return (await raw.pglite.query<T>(text, params as never[])).rows;
  return (await raw.pool.query(text, params)).rows as T[];
}

beforeAll(async () => {
  database = await createTestDatabase();
  dbColumns = await query<DbColumn>(
    `SELECT c.table_name, c.column_name, c.is_nullable, c.column_default,
            format_type(a.atttypid, a.atttypmod) AS sql_type,
            EXISTS (
              SELECT 1 FROM pg_index i
              WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)
            ) AS is_primary
       FROM information_schema.columns c
       JOIN pg_attribute a
         ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
        AND a.attname = c.column_name
      WHERE c.table_schema = 'public' AND c.table_name = ANY ($1)`,
    [tables.map((t) => getTableConfig(t).name)],
  );
});

afterAll(async () => {
  await database?.drop();
});

describe('schema.ts matches the migrated database', () => {
  it('declares tables at all', () => {
    expect(tables.map((t) => getTableConfig(t).name)).toEqual(
      expect.arrayContaining(['users', 'refresh_tokens', 'api_tokens', 'audit_log']),
    );
  });

  for (const table of tables) {
    const config = getTableConfig(table);

    describe(config.name, () => {
      const inDb = () => dbColumns.filter((c) => c.table_name === config.name);

      it('exists in the database', () => {
        expect(inDb().length, `table ${config.name} missing`).toBeGreaterThan(0);
      });

      it('every declared column exists with the same type, nullability, default and key', () => {
        const problems: string[] = [];
        for (const column of config.columns) {
          const actual = inDb().find((c) => c.column_name === column.name);
          if (!actual) {
            problems.push(`${column.name}: not in the database`);
            continue;
          }
          const nullable = actual.is_nullable === 'YES';
          if (nullable === column.notNull) {
            problems.push(
              `${column.name}: schema.ts says ${column.notNull ? 'NOT NULL' : 'nullable'}, database says ${nullable ? 'nullable' : 'NOT NULL'}`,
            );
          }
          if (normalType(column.getSQLType()) !== normalType(actual.sql_type)) {
            problems.push(
              `${column.name}: schema.ts type ${column.getSQLType()}, database type ${actual.sql_type}`,
            );
          }
          // Drizzle leaves a column with a declared default out of an INSERT: the database
          // must then supply it.
          if (column.hasDefault && column.defaultFn === undefined && !actual.column_default) {
            problems.push(`${column.name}: schema.ts has a default, the database has none`);
          }
          // A column is part of the key by its own flag or by a composite primaryKey().
          const declaredPrimary =
            column.primary ||
            config.primaryKeys.some((pk) => pk.columns.some((c) => c.name === column.name));
          if (declaredPrimary !== actual.is_primary) {
            problems.push(
              `${column.name}: primary key in ${declaredPrimary ? 'schema.ts' : 'the database'} only`,
            );
          }
        }
        expect(problems).toEqual([]);
      });

      it('every column in the database is declared', () => {
        const declared = new Set(config.columns.map((c) => c.name));
        const undeclared = inDb()
          .map((c) => c.column_name)
          .filter((name) => !declared.has(name));
        expect(undeclared).toEqual([]);
      });
    });
  }
});
