import pg from 'pg';

/**
 * The earlier AccountDB's PostgreSQL database, read and never written: one REPEATABLE READ
 * READ ONLY transaction (every table seen at the same instant, and the server refuses any
 * write), rows fetched a page at a time through a cursor so memory holds one page whatever
 * the table's size.
 */
export interface LegacySource {
  /** The earlier tables this database has (of those the migration reads). */
  has(table: LegacyTable): boolean;
  count(table: LegacyTable): Promise<number>;
  /** The rows of a query in pages (the query is the migration's own, never user input). */
  pages(query: string, pageSize?: number): AsyncGenerator<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export const LEGACY_TABLES = [
  'users',
  'proxmox_nodes',
  'vms',
  'accounts',
  'hardware',
  'cards',
  'whitelist',
] as const;
export type LegacyTable = (typeof LEGACY_TABLES)[number];

const PAGE = 500;

export async function openLegacySource(url: string): Promise<LegacySource> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'accountdb migrate-legacy',
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to the earlier database (--source): ${(err as Error).message}`);
  }
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND c.relname = ANY ($1)`,
    [[...LEGACY_TABLES]],
  );
  const present = new Set(rows.map((r) => r.name));
  if (!present.has('users')) {
    await client.end().catch(() => {});
    throw new Error(
      'the --source database has no public.users table: is it the earlier AccountDB (Xenogy/SLLAB) database?',
    );
  }
  let cursors = 0;
  return {
    has: (table) => present.has(table),
    async count(table) {
      if (!present.has(table)) return 0;
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM public.${table}`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    async *pages(query, pageSize = PAGE) {
      const name = `legacy_${++cursors}`;
      await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${query}`);
      try {
        for (;;) {
          const { rows } = await client.query(`FETCH ${pageSize} FROM ${name}`);
          if (rows.length === 0) break;
          yield rows as Array<Record<string, unknown>>;
          if (rows.length < pageSize) break;
        }
      } finally {
        await client.query(`CLOSE ${name}`).catch(() => {});
      }
    },
    async close() {
      await client.query('ROLLBACK').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
