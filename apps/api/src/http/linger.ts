import type { FastifyInstance } from 'fastify';
import { MiB } from './limits.js';

/** How much of a refused body is still read, and for how long, before the connection closes. */
export const LINGER = { bytes: 64 * MiB, ms: 10_000 };

/**
 * An answer sent before its request's body has all arrived (413 on a declared length, an
 * upload refused at its first records, a 401 before the body) reaches most clients only if
 * the server goes on reading while they finish sending: a connection closed at once makes
 * the client's system reset it and drop the answer unread ("fetch failed" instead of 413).
 * So such an answer keeps the connection open (Fastify asks to close it), and the rest of
 * the body is read and thrown away, never kept - up to LINGER.bytes or LINGER.ms, then the
 * connection is closed anyway.
 */
export function lingerAfterEarlyAnswers(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.raw.complete === false) reply.removeHeader('connection');
    return payload;
  });
  app.addHook('onResponse', async (request) => {
    const req = request.raw;
    if (req.complete !== false || req.readableEnded) return;
    const close = () => req.socket?.destroy();
    const timer = setTimeout(close, LINGER.ms);
    timer.unref();
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > LINGER.bytes) close();
    });
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
