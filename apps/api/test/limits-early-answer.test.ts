import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/http/limits.js';
import type { TestUser } from './helpers/factories.js';
import type { TestApp } from './helpers/test-app.js';
import { twoUsers } from './helpers/two-users.js';

/**
 * A body refused before it has all arrived (over its byte limit, an upload over its record
 * limit, no credentials) is answered at once; the client, still sending, must be able to
 * read that answer: the connection stays open and the rest of the body is thrown away, up
 * to a bound (docs/api.md#limits). Real sockets: the app listens on a free port.
 */

let t: TestApp;
let alice: TestUser;
let base = '';

beforeAll(async () => {
  ({ t, alice } = await twoUsers());
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1`;
});
afterAll(async () => t?.close());

const MiB = 1024 * 1024;
const LINGER = LIMITS.linger;
const chunk = Buffer.from('{},'.repeat(MiB / 3 + 1).slice(0, MiB));

interface Answer {
  status: number;
  code: string;
  headers: string;
}

/**
 * A raw HTTP/1.1 connection (Node's own client stops sending a body once it has an answer,
 * which would hide what the server does with the rest): writes requests, reads answers.
 */
function connection() {
  const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
  let buffered = Buffer.alloc(0);
  let closed = false;
  const waiting: Array<() => void> = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  /** The next whole answer, or null if the connection closed first. */
  const answer = async (): Promise<Answer | null> => {
    socket.resume();
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        const headers = buffered.subarray(0, end).toString();
        const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
        if (buffered.length >= end + 4 + length) {
          const body = buffered.subarray(end + 4, end + 4 + length).toString();
          buffered = buffered.subarray(end + 4 + length);
          const code = body ? ((JSON.parse(body) as { code?: string }).code ?? '') : '';
          return { status: Number(headers.split(' ')[1]), code, headers };
        }
      }
      if (closed) return null;
      await new Promise<void>((r) => waiting.push(r));
    }
  };
  /** Writes until `bytes` are written or the connection fails; answers how many were. */
  const write = async (data: Buffer, bytes: number): Promise<number> => {
    let written = 0;
    while (written < bytes && !closed && !socket.destroyed) {
      const piece = data.subarray(0, Math.min(data.length, bytes - written));
      written += piece.length;
      if (!socket.write(piece)) {
        await new Promise<void>((r) => {
          socket.once('drain', r);
          socket.once('close', r);
        });
      }
    }
    return written;
  };
  return { socket, answer, write, isClosed: () => closed };
}

const head = (options: { path: string; token?: string; length?: number }) =>
  Buffer.from(
    `POST /api/v1${options.path} HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n` +
      (options.token ? `authorization: Bearer ${options.token}\r\n` : '') +
      (options.length === undefined
        ? 'transfer-encoding: chunked\r\n'
        : `content-length: ${options.length}\r\n`) +
      '\r\n',
  );

/** One chunk of a chunked body: its size in hex, the bytes, CRLF. */
const chunked = (data: Buffer) =>
  Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);

describe('answers to bodies refused while they arrive', () => {
  it('reach a client that sends its whole body before it reads', async () => {
    const cases = [
      {
        path: '/accounts/import',
        token: alice.accessToken,
        length: 60 * MiB,
        want: [413, 'payload_too_large'],
      },
      { path: '/accounts/import', token: alice.accessToken, want: [400, 'too_many_records'] },
      { path: '/hardware/bulk', length: 60 * MiB, want: [401, 'unauthorized'] },
    ] as const;
    for (let i = 0; i < 3; i++) {
      for (const c of cases) {
        const conn = connection();
        // Like many clients, it reads nothing until it has sent its whole request.
        conn.socket.pause();
        conn.socket.write(head(c));
        if (!('length' in c)) conn.socket.write(chunked(Buffer.from('[')));
        const body = 'length' in c ? chunk : chunked(chunk);
        const written = await conn.write(
          body,
          'length' in c ? c.length : 60 * chunked(chunk).length,
        );
        const answer = await conn.answer();
        expect(answer, `${c.path} attempt ${i}, ${written} bytes written`).toMatchObject({
          status: c.want[0],
          code: c.want[1],
        });
        conn.socket.destroy();
      }
    }
  }, 120_000);

  it('keep the connection for the next request once the refused body has arrived', async () => {
    const conn = connection();
    conn.socket.write(head({ path: '/hardware/bulk', token: alice.accessToken, length: 40 * MiB }));
    expect(await conn.write(chunk, 40 * MiB)).toBe(40 * MiB);
    expect(await conn.answer()).toMatchObject({ status: 413, code: 'payload_too_large' });
    conn.socket.write(
      `GET /api/v1/hardware HTTP/1.1\r\nHost: test\r\nauthorization: Bearer ${alice.accessToken}\r\n\r\n`,
    );
    expect(await conn.answer()).toMatchObject({ status: 200 });
    conn.socket.destroy();
  }, 60_000);

  it(`close the connection once ${LINGER.bytes / MiB} MiB more have been thrown away`, async () => {
    const conn = connection();
    conn.socket.write(head({ path: '/hardware/bulk', token: alice.accessToken }));
    const piece = chunked(chunk);
    const written = await conn.write(piece, 200 * piece.length);
    expect(await conn.answer()).toMatchObject({ status: 413 });
    expect(conn.isClosed()).toBe(true);
    // The bulk route reads 16 MiB before it refuses; the rest of the limit is thrown away.
    expect(written).toBeGreaterThan(LINGER.bytes);
    expect(written).toBeLessThan(200 * piece.length);
  }, 60_000);
});
