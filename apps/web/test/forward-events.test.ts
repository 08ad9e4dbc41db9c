import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiForwarder } from '../server/forward-api.mjs';

/**
 * The web server's /api forwarder passes a server-sent event stream (GET /api/v1/events) on as
 * it comes: each event reaches the browser while the API's answer is still open, nothing
 * waits for the end of the answer, and a browser that goes away ends the API's stream too.
 * The API here is a stand-in that writes an event only when the test says so.
 */

let api: http.Server;
let web: http.Server;
let webUrl: string;
let sendNext: (chunk: string) => void = () => {};
let apiStreamClosed: Promise<void>;

const listen = (server: http.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

beforeAll(async () => {
  api = http.createServer((req, res) => {
    expect(req.url).toBe('/api/v1/events');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
    });
    res.flushHeaders();
    res.write(': live\n\n');
    sendNext = (chunk) => res.write(chunk);
    apiStreamClosed = new Promise((resolve) => res.on('close', () => resolve()));
  });
  const apiPort = await listen(api);
  const forward = createApiForwarder(new URL(`http://127.0.0.1:${apiPort}`));
  web = http.createServer((req, res) => {
    forward(req, res);
  });
  webUrl = `http://127.0.0.1:${await listen(web)}`;
});
afterAll(async () => {
  api?.closeAllConnections();
  web?.closeAllConnections();
  await Promise.all([new Promise((r) => api?.close(r)), new Promise((r) => web?.close(r))]);
});

it('streams server-sent events through unbuffered, and ends the API stream when the client leaves', async () => {
  const aborted = new AbortController();
  const res = await fetch(`${webUrl}/api/v1/events`, { signal: aborted.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const next = async () => {
    const { value } = await reader.read();
    return decoder.decode(value);
  };
  expect(await next()).toBe(': live\n\n');
  for (const event of [
    'event: vm\ndata: {"status":"stopped"}\n\n',
    ': heartbeat\n\n',
    'event: node\ndata: {"status":"online"}\n\n',
  ]) {
    // The API has written this one chunk and nothing more: it must arrive on its own.
    sendNext(event);
    expect(await next()).toBe(event);
  }
  aborted.abort();
  await apiStreamClosed;
});
