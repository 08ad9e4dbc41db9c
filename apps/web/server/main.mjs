#!/usr/bin/env node
// The web UI's server: Next.js (the built app, or `--dev` for next dev) behind a small front
// that owns what Next.js cannot see. Next.js gives no code of the app the socket's address
// (NextRequest lost `ip` in 15; a proxy.ts or route handler sees headers only, and a client
// can send any X-Forwarded-For), so this server, which holds the socket, decides:
//   - who the client is: X-Forwarded-For/-Host/-Proto are set to what it saw, believing a
//     client-sent value only from the proxies of WEB_TRUST_PROXY (forwarded.mjs);
//   - /api/* goes to the API, streamed both ways, without Next.js (forward-api.mjs);
//   - everything else goes to Next.js with a per-request CSP nonce and the security headers
//     (page-security.mjs).
// Usage: node apps/web/server/main.mjs [-p port] [-H host] [--dev]
// (port: WEB_PORT or 3000; host: 127.0.0.1). API_HOST/API_PORT are read here, at start.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadWebConfig } from './config.mjs';
import { createApiForwarder } from './forward-api.mjs';
import { replaceForwardedHeaders } from './forwarded.mjs';
import { securePage } from './page-security.mjs';

const startedAt = Date.now();
const webDir = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', short: 'p' },
    hostname: { type: 'string', short: 'H', default: '127.0.0.1' },
    dev: { type: 'boolean', default: false },
  },
});

/** @type {import('./config.mjs').WebConfig} */
let config;
try {
  config = loadWebConfig(process.env, { dev: args.dev, port: args.port });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`accountdb-web: configuration error: ${err.message}\n`);
  process.exit(78);
}
// As `next start` / `next dev` do; after the configuration, which reads NODE_ENV as it was set.
// (Next.js's types make NODE_ENV read-only; the process may set it.)
const env = /** @type {Record<string, string | undefined>} */ (process.env);
env.NODE_ENV ||= config.dev ? 'development' : 'production';

const { default: next } = await import('next');
const server = http.createServer();
const app = next({
  dev: config.dev,
  dir: webDir,
  hostname: args.hostname,
  port: config.port,
  httpServer: server,
});
const handle = app.getRequestHandler();
const forwardApi = createApiForwarder(config.apiOrigin);
await app.prepare();

/** @param {string | undefined} url */
const isApi = (url) => /^\/api(?:[/?#]|$)/.test(url ?? '');

server.on('request', (req, res) => {
  replaceForwardedHeaders(req, config.trust);
  if (isApi(req.url)) {
    forwardApi(req, res).catch((err) => {
      process.stderr.write(`accountdb-web: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
      res.destroy();
    });
    return;
  }
  securePage({ req, res, secure: config.secure, dev: config.dev });
  handle(req, res).catch((err) => {
    process.stderr.write(`accountdb-web: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
    if (!res.headersSent) res.writeHead(500).end('Internal Server Error');
    else res.destroy();
  });
});

server.on('error', (err) => {
  process.stderr.write(`accountdb-web: ${err.message}\n`);
  process.exit(1);
});
server.listen(config.port, args.hostname, () => {
  const shown = args.hostname.includes(':') ? `[${args.hostname}]` : args.hostname;
  process.stdout.write(
    `accountdb-web: ready in ${Date.now() - startedAt} ms on http://${shown}:${config.port} (${process.env.NODE_ENV})\n`,
  );
});

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Answers still streaming get a few seconds to finish.
    setTimeout(() => process.exit(0), 5_000).unref();
    app.close().catch(() => {});
  });
}
