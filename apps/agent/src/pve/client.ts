import type { Dispatcher } from 'undici';
import type { Metrics } from '../metrics.js';
import { header, httpRequest, ResponseTooLargeError } from '../net/http.js';
import { classifyStatus, classifyThrown, PveError } from './errors.js';

/**
 * The Proxmox VE API client: token auth, one deadline per call, every failure turned into a
 * classified PveError, every call counted by templated endpoint for /metrics.
 */

export interface PveClientOptions {
  /** Base URL without `/api2/json`. */
  baseUrl: string;
  tokenId: string;
  tokenSecret: string;
  dispatcher: Dispatcher;
  /** Default deadline per call (PROXMOX.md: ~15 s; 5 s proved too short). */
  timeoutMs?: number;
  metrics?: Metrics;
}

export interface PveGetOptions {
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** `/nodes/pve1/qemu/101/config?x=1` → `/nodes/{node}/qemu/{vmid}/config`, a bounded metric label. */
export function endpointLabel(path: string): string {
  const segments = path.split('?')[0]?.split('/') ?? [];
  return segments
    .map((seg, i) => {
      if (segments[i - 1] === 'nodes' && seg !== '') return '{node}';
      if (/^\d+$/.test(seg)) return '{vmid}';
      return seg;
    })
    .join('/');
}

export class PveClient {
  readonly baseUrl: string;
  private readonly auth: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: PveClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.auth = `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** GET `/api2/json{path}` and return its `data` (which may be null). */
  async get(path: string, opts: PveGetOptions = {}): Promise<unknown> {
    const label = endpointLabel(path);
    try {
      const data = await this.exchange(path, opts);
      this.options.metrics?.inc('accountdb_agent_pve_requests_total', {
        endpoint: label,
        result: 'ok',
      });
      return data;
    } catch (err) {
      const e =
        err instanceof PveError
          ? err
          : new PveError(classifyThrown(err), describeThrown(err), undefined, path);
      this.options.metrics?.inc('accountdb_agent_pve_requests_total', {
        endpoint: label,
        result: e.kind,
      });
      throw e;
    }
  }

  private async exchange(path: string, opts: PveGetOptions): Promise<unknown> {
    let answer: Awaited<ReturnType<typeof httpRequest>>;
    try {
      answer = await httpRequest({
        dispatcher: this.options.dispatcher,
        url: `${this.baseUrl}/api2/json${path}`,
        headers: { authorization: this.auth, accept: 'application/json' },
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        signal: opts.signal,
      });
    } catch (err) {
      if (err instanceof ResponseTooLargeError)
        throw new PveError('bad_response', err.message, undefined, path);
      throw new PveError(classifyThrown(err), describeThrown(err), undefined, path);
    }
    const { status, text } = answer;
    const type = header(answer.headers, 'content-type') ?? '';
    let body: unknown;
    let parsed = false;
    if (text !== '' && /json/i.test(type)) {
      try {
        body = JSON.parse(text);
        parsed = true;
      } catch {
        parsed = false;
      }
    }
    if (status < 200 || status >= 300) {
      const message = (parsed && messageOf(body)) || `HTTP ${status}`;
      throw new PveError(classifyStatus(status, message), message, status, path);
    }
    if (!parsed) {
      const what = text === '' ? 'an empty body' : `${type || 'no content type'} instead of JSON`;
      throw new PveError('bad_response', `got ${what}`, status, path);
    }
    if (body === null || typeof body !== 'object' || !('data' in body)) {
      throw new PveError('bad_response', 'JSON without the {"data": …} envelope', status, path);
    }
    return (body as { data: unknown }).data;
  }
}

function messageOf(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; errors?: unknown };
    const parts: string[] = [];
    if (typeof b.message === 'string') parts.push(b.message.trim());
    if (b.errors && typeof b.errors === 'object') {
      for (const [k, v] of Object.entries(b.errors as Record<string, unknown>))
        parts.push(`${k}: ${String(v).trim()}`);
    }
    return parts.length ? parts.join('; ').slice(0, 500) : undefined;
  }
  return undefined;
}

export function describeThrown(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const code = e?.code ?? e?.cause?.code;
  const msg = e?.message || e?.cause?.message || String(err);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}
