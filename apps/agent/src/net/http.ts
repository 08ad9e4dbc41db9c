import { type Dispatcher, request } from 'undici';

/**
 * One HTTP exchange with an overall deadline. Answers are read fully (bounded by
 * `maxBytes`); the caller decides what a status means.
 */

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpRequest {
  dispatcher: Dispatcher;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  maxBytes?: number;
}

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

/**
 * A signal that aborts when `outer` aborts or after `ms`; works on Node 18 (no AbortSignal.any).
 * Call `clear` when done so the timer does not keep the process alive.
 */
export function deadline(
  ms: number,
  outer?: AbortSignal,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`no answer within ${ms} ms`)),
    ms,
  );
  const onAbort = () => controller.abort(outer?.reason ?? new Error('aborted'));
  if (outer) {
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

export async function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const { signal, clear } = deadline(req.timeoutMs, req.signal);
  const maxBytes = req.maxBytes ?? 64 * 1024 * 1024;
  try {
    const res = await request(req.url, {
      dispatcher: req.dispatcher,
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new ResponseTooLargeError(`answer larger than ${maxBytes} bytes`);
      }
      chunks.push(buf);
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      text: Buffer.concat(chunks).toString('utf8'),
    };
  } catch (err) {
    // An abort by the deadline surfaces as an AbortError whose reason is our TimeoutError.
    if (signal.aborted && signal.reason instanceof TimeoutError) throw signal.reason;
    throw err;
  } finally {
    clear();
  }
}

export function header(headers: HttpAnswer['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
