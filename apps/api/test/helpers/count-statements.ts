import pg from 'pg';
import type { TestDatabase } from './test-db.js';

/** A statement sent to the database; `name` when it was sent as a named prepared statement. */
export interface SentStatement {
  text: string;
  name?: string | undefined;
}

/**
 * Runs fn (nothing else in flight) and returns every statement the app sent to the database
 * meanwhile, one per round trip: on PostgreSQL each node-postgres query, on the embedded
 * database each Parse or simple Query message PGlite executes.
 */
export async function captureStatements(
  database: TestDatabase,
  fn: () => Promise<unknown>,
): Promise<SentStatement[]> {
  const statements: SentStatement[] = [];
  const raw = database.raw;
  if (raw.kind === 'postgres') {
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function capture(this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string; name?: string };
      statements.push(
        typeof config === 'string'
          ? { text: config }
          : { text: config.text ?? '', name: config.name },
      );
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await fn();
    } finally {
      pg.Client.prototype.query = original;
    }
    return statements;
  }
  const pglite = raw.pglite as unknown as {
    execProtocolStream: (message: Uint8Array, options?: unknown) => Promise<unknown>;
  };
  const original = pglite.execProtocolStream;
  pglite.execProtocolStream = function capture(message, options) {
    // 'P' (Parse): name\0 query\0 after the length; 'Q' (Query): query\0 after the length.
    const kind = String.fromCharCode(message[0] ?? 0);
    if (kind === 'P' || kind === 'Q') {
      const body = Buffer.from(message.subarray(5)).toString('utf8').split('\0');
      statements.push({ text: (kind === 'P' ? body[1] : body[0]) ?? '' });
    }
    return original.call(this, message, options);
  };
  try {
    await fn();
  } finally {
    pglite.execProtocolStream = original;
  }
  return statements;
}

/**
 * The statements of a request without its session check (auth_session_state and the
 * transaction around it, when the request made one).
 */
export function withoutSessionCheck(statements: SentStatement[]): SentStatement[] {
  const at = statements.findIndex((s) => s.text.includes('auth_session_state'));
  if (at < 0) return statements;
  const begin = statements.slice(0, at).findLastIndex((s) => /^\s*begin/i.test(s.text));
  const commit = statements.findIndex((s, i) => i > at && /^\s*commit/i.test(s.text));
  return [
    ...statements.slice(0, begin < 0 ? at : begin),
    ...statements.slice(commit < 0 ? at + 1 : commit + 1),
  ];
}
