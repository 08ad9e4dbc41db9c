import type { FastifyInstance } from 'fastify';
import { LIMITS } from './limits.js';

/**
 * An answer sent before its request's body has all arrived (413 on a declared length, an
 * upload refused at its first records, a 401 before the body) reaches most clients only if
 * the server goes on reading while they finish sending: a connection closed at once makes
 * the client's system reset it and drop the answer unread ("fetch failed" instead of 413).
 * So such an answer keeps the connection open (Fastify asks to close it), and the rest of
 * the body is read and thrown away, never kept - up to LIMITS.linger, then the
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
    const { bytes: maxBytes, ms } = LIMITS.linger;
    const timer = setTimeout(close, ms);
    timer.unref();
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) close();
    });
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.resume();
  });
}
