import type { Dispatcher } from 'undici';
import type { Metrics } from '../metrics.js';
import { header, httpRequest, parseRetryAfter } from '../net/http.js';
import { describeThrown } from '../pve/client.js';
import type { AgentConfig, HeartbeatBody, SyncBody, SyncResult } from './contract.js';

/**
 * The AccountDB agent API (apps/api/src/modules/agent/schemas.ts): GET /agent/config with
 * ETag, POST /agent/sync, POST /agent/heartbeat, all with the node key as Bearer token.
 */

export type AccountDbErrorKind =
  /** Network error, timeout, 5xx, 429, 408: retry with backoff, then a fresh full sync. */
  | 'unavailable'
  /** 401/403: the node key is wrong, rotated or the node was deleted. */
  | 'auth'
  /** 4xx other than the above (400/409/413/422): the server refused this body. */
  | 'rejected'
  /** 2xx with an answer that is not what the contract says. */
  | 'bad_response';

export class AccountDbError extends Error {
  constructor(
    readonly kind: AccountDbErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AccountDbError';
  }
}

export interface AccountDbClientOptions {
  baseUrl: string;
  nodeKey: string;
  dispatcher: Dispatcher;
  timeoutMs?: number;
  /** Sync runs one server transaction over every guest: allow more time. */
  syncTimeoutMs?: number;
  metrics?: Metrics;
  userAgent?: string;
}

export type ConfigAnswer =
  | { changed: false }
  | { changed: true; config: AgentConfig; etag: string | undefined };

function problemDetail(text: string): string {
  try {
    const p = JSON.parse(text) as { title?: unknown; detail?: unknown; errors?: unknown };
    const parts = [p.detail ?? p.title].filter((x) => typeof x === 'string') as string[];
    if (Array.isArray(p.errors)) {
      for (const e of p.errors.slice(0, 5)) {
        const x = e as { path?: unknown; message?: unknown };
        parts.push(`${String(x.path ?? '')}: ${String(x.message ?? '')}`);
      }
    }
    if (parts.length) return parts.join('; ').slice(0, 500);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200).replace(/\s+/g, ' ').trim();
}

export function parseAgentConfig(data: unknown): AgentConfig {
  const d = (data ?? {}) as Record<string, unknown>;
  const mode = d.sync_mode;
  const whitelist = Array.isArray(d.whitelist)
    ? d.whitelist.filter((v): v is number => Number.isInteger(v))
    : [];
  const interval = d.interval_s;
  const requested = d.sync_requested_at;
  if (
    typeof d.node_id !== 'string' ||
    typeof d.name !== 'string' ||
    (mode !== 'all' && mode !== 'whitelist')
  ) {
    throw new AccountDbError(
      'bad_response',
      'GET /agent/config: answer does not match the contract',
    );
  }
  return {
    node_id: d.node_id,
    name: d.name,
    sync_mode: mode,
    whitelist,
    interval_s:
      typeof interval === 'number' && Number.isInteger(interval) && interval > 0 ? interval : 60,
    // An older AccountDB sends none; anything but a date is ignored.
    sync_requested_at:
      typeof requested === 'string' &&
      requested.length <= 40 &&
      !Number.isNaN(Date.parse(requested))
        ? requested
        : null,
  };
}

export function parseSyncResult(data: unknown): SyncResult {
  const d = (data ?? {}) as Record<string, unknown>;
  const n = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : 0);
  if (typeof d.created !== 'number' || typeof d.updated !== 'number') {
    throw new AccountDbError(
      'bad_response',
      'POST /agent/sync: answer does not match the contract',
    );
  }
  return {
    created: n('created'),
    updated: n('updated'),
    unchanged: n('unchanged'),
    absent: n('absent'),
    returned: n('returned'),
    ignored: n('ignored'),
    stale: d.stale === true,
  };
}

export class AccountDbClient {
  private readonly base: string;

  constructor(private readonly options: AccountDbClientOptions) {
    this.base = `${options.baseUrl.replace(/\/+$/, '')}/api/v1/agent`;
  }

  private async call(
    endpoint: 'config' | 'sync' | 'heartbeat',
    init: {
      method: 'GET' | 'POST';
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal | undefined;
    },
  ) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.nodeKey}`,
      accept: 'application/json',
      'user-agent': this.options.userAgent ?? 'accountdb-agent',
      ...init.headers,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let answer: Awaited<ReturnType<typeof httpRequest>>;
    try {
      answer = await httpRequest({
        dispatcher: this.options.dispatcher,
        url: `${this.base}/${endpoint}`,
        method: init.method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        timeoutMs:
          endpoint === 'sync'
            ? (this.options.syncTimeoutMs ?? 60_000)
            : (this.options.timeoutMs ?? 15_000),
        signal: init.signal,
        maxBytes: 1024 * 1024,
      });
    } catch (err) {
      this.options.metrics?.inc('accountdb_agent_accountdb_requests_total', {
        endpoint,
        result: 'network',
      });
      throw new AccountDbError('unavailable', `cannot reach AccountDB: ${describeThrown(err)}`);
    }
    const { status } = answer;
    this.options.metrics?.inc('accountdb_agent_accountdb_requests_total', {
      endpoint,
      result: String(status),
    });
    if (status >= 200 && status < 400) return answer;
    const detail = problemDetail(answer.text);
    const retryAfterMs = parseRetryAfter(header(answer.headers, 'retry-after'));
    if (status >= 500 || status === 429 || status === 408) {
      throw new AccountDbError(
        'unavailable',
        `AccountDB answered ${status}${detail ? `: ${detail}` : ''}`,
        status,
        retryAfterMs,
      );
    }
    if (status === 401 || status === 403) {
      throw new AccountDbError(
        'auth',
        `AccountDB answered ${status}: the node key was refused; check ACCOUNTDB_NODE_KEY (rotated or node deleted?)`,
        status,
      );
    }
    throw new AccountDbError(
      'rejected',
      `AccountDB answered ${status}${detail ? `: ${detail}` : ''}`,
      status,
    );
  }

  private json(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new AccountDbError('bad_response', `${what}: answer is not JSON`);
    }
  }

  /** GET /agent/config; with `etag`, a 304 answers `{changed: false}`. */
  async getConfig(etag?: string, signal?: AbortSignal): Promise<ConfigAnswer> {
    const answer = await this.call('config', {
      method: 'GET',
      headers: etag ? { 'if-none-match': etag } : {},
      signal,
    });
    if (answer.status === 304) return { changed: false };
    return {
      changed: true,
      config: parseAgentConfig(this.json(answer.text, 'GET /agent/config')),
      etag: header(answer.headers, 'etag'),
    };
  }

  async sync(body: SyncBody, signal?: AbortSignal): Promise<SyncResult> {
    const answer = await this.call('sync', { method: 'POST', body, signal });
    return parseSyncResult(this.json(answer.text, 'POST /agent/sync'));
  }

  async heartbeat(body: HeartbeatBody, signal?: AbortSignal): Promise<void> {
    await this.call('heartbeat', { method: 'POST', body, signal });
  }
}
