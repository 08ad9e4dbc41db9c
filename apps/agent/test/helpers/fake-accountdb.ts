import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentConfig, HeartbeatBody, SyncBody } from '../../src/accountdb/contract.js';

/**
 * A tiny AccountDB for agent tests, answering per the contract of
 * apps/api/src/modules/agent/schemas.ts: config with ETag/304, idempotent sync per cycle_id
 * (409 on the same id with another body), heartbeat 204. It records every body, and can be
 * "down" (503 with Retry-After, or dropped connections).
 */
export class FakeAccountDb {
  readonly key = 'adb_node_testkey1234567890abcdefghijklmnopqrstuv';
  config: AgentConfig = {
    node_id: '0194c3a2-0000-7000-8000-0000000000aa',
    name: 'pve1',
    sync_mode: 'all',
    whitelist: [],
    interval_s: 60,
    sync_requested_at: null,
  };
  syncs: SyncBody[] = [];
  heartbeats: HeartbeatBody[] = [];
  requests: { method: string; path: string; status: number }[] = [];
  mode: 'up' | '503' | 'drop' = 'up';
  /** Which paths the mode applies to (default: all). */
  downMatch: RegExp = /./;
  /** cycle_id of every sync attempt, answered or not. */
  syncAttempts: string[] = [];
  retryAfter: string | undefined;
  private readonly cycles = new Map<string, string>();
  private server: Server | undefined;
  url = '';

  get etag(): string {
    return `"${Buffer.from(JSON.stringify(this.config)).toString('base64url').slice(-16)}"`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
          this.requests.push({ method: req.method ?? '', path, status });
          res.writeHead(status, {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          });
          res.end(body === undefined ? undefined : JSON.stringify(body));
        };
        const text = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'POST' && path === '/api/v1/agent/sync') {
          try {
            this.syncAttempts.push((JSON.parse(text) as SyncBody).cycle_id);
          } catch {
            this.syncAttempts.push('(unparsable)');
          }
        }
        const down = this.mode !== 'up' && this.downMatch.test(path);
        if (down && this.mode === 'drop') {
          this.requests.push({ method: req.method ?? '', path, status: 0 });
          req.socket.destroy();
          return;
        }
        if (down && this.mode === '503') {
          reply(
            503,
            { title: 'Service Unavailable', status: 503 },
            this.retryAfter ? { 'retry-after': this.retryAfter } : {},
          );
          return;
        }
        if (req.headers.authorization !== `Bearer ${this.key}`) {
          reply(401, { title: 'Unauthorized', status: 401, detail: 'bad key' });
          return;
        }
        if (req.method === 'GET' && path === '/api/v1/agent/config') {
          if (req.headers['if-none-match'] === this.etag)
            return reply(304, undefined, { etag: this.etag });
          return reply(200, this.config, { etag: this.etag });
        }
        if (req.method === 'POST' && path === '/api/v1/agent/sync') {
          const body = JSON.parse(text) as SyncBody;
          const seen = this.cycles.get(body.cycle_id);
          if (seen !== undefined && seen !== text)
            return reply(409, { title: 'Conflict', status: 409 });
          this.cycles.set(body.cycle_id, text);
          this.syncs.push(body);
          return reply(200, {
            created: body.vms.length,
            updated: 0,
            unchanged: 0,
            absent: 0,
            returned: 0,
            ignored: 0,
            stale: false,
          });
        }
        if (req.method === 'POST' && path === '/api/v1/agent/heartbeat') {
          this.heartbeats.push(JSON.parse(text) as HeartbeatBody);
          return reply(204);
        }
        reply(404, { title: 'Not Found', status: 404 });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
