import { DrizzleQueryError } from 'drizzle-orm';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, registerErrorHandler } from '../src/http/error-handler.js';

/**
 * A lost or unreachable database answers 503 with Retry-After and no detail of the
 * connection; other database errors keep their answers. (fault-db-cut.test.ts cuts a real
 * connection; this covers the error shapes the driver produces.)
 */

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const pgError = (code: string) =>
  Object.assign(new Error('database says no'), { code, severity: 'FATAL' });

const unavailable: Array<[string, Error]> = [
  ['refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ['reset', withCode('read ECONNRESET', 'ECONNRESET')],
  ['pg: terminated', new Error('Connection terminated unexpectedly')],
  [
    'pg: not queryable',
    new Error('Client has encountered a connection error and is not queryable'),
  ],
  ['pg: pool timeout', new Error('timeout exceeded when trying to connect')],
  ['SQLSTATE 08006', pgError('08006')],
  ['SQLSTATE 57P01 admin shutdown', pgError('57P01')],
  ['SQLSTATE 53300 too many connections', pgError('53300')],
  [
    'wrapped by Drizzle',
    new DrizzleQueryError(
      'select * from accounts where id = $1',
      ['secret'],
      new Error('Connection terminated unexpectedly'),
    ),
  ],
];

describe('database unavailable', () => {
  it.each(unavailable)('%s is recognised', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('other errors are not', () => {
    for (const error of [
      new Error('boom'),
      pgError('23505'),
      pgError('42501'),
      withCode('nope', 'ENOENT'),
      new DrizzleQueryError('select 1', [], pgError('22P02')),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });

  it('answers 503 problem+json with Retry-After and nothing of the connection', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    app.get('/lost', async () => {
      throw new DrizzleQueryError(
        'select * from accounts',
        [],
        withCode('connect ECONNREFUSED 10.1.2.3:6543', 'ECONNREFUSED'),
      );
    });
    app.get('/other', async () => {
      throw new Error('boom at 10.1.2.3:6543');
    });
    const res = await app.inject({ method: 'GET', url: '/lost' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
    expect(res.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(res.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|6543|select/);
    // Anything else stays a 500 without detail.
    const other = await app.inject({ method: 'GET', url: '/other' });
    expect(other.statusCode).toBe(500);
    expect(other.headers['retry-after']).toBeUndefined();
    expect(other.body).not.toContain('10.1.2.3');
    await app.close();
  });
});
