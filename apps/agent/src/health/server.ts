import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * /healthz (JSON, 200 healthy / 503 not) and /metrics (Prometheus text) on HEALTH_PORT,
 * bound to 127.0.0.1 by default. Nothing else is served; the answers hold no secret.
 */

export interface HealthServerOptions {
  host: string;
  port: number;
  health: () => { healthy: boolean; body: unknown };
  metrics: () => string;
}

export interface HealthServer {
  port: number;
  close: () => Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const { healthy, body } = options.health();
      res
        .writeHead(healthy ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
      return;
    }
    if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(req.method === 'HEAD' ? undefined : options.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
