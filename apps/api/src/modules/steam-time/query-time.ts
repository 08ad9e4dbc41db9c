import { KiB } from '../../http/limits.js';
import { parseJson } from '../../http/safe-json.js';

/**
 * One question to a Steam time source: `POST …/ITwoFactorService/QueryTime/v0001` with an
 * empty body, answered `{"response":{"server_time":"1700000000",…}}` (server_time: Unix
 * seconds, a string of digits in Steam's answer). Everything about the answer is bounded:
 * its time, its size, its shape and the offset it implies; a redirect is not followed.
 */

export const STEAM_TIME_LIMITS = {
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: 5_000,
  /** Steam's answer is about 300 bytes. */
  bytes: 16 * KiB,
  /** An offset larger than a day is a broken or hostile source, not a clock: refused. */
  maxOffsetS: 86_400,
  json: { depth: 4, containers: 16 },
} as const;

/** Why a source's answer was not used; the message is short and names no secret. */
export class SteamTimeError extends Error {
  override name = 'SteamTimeError';
}

export interface SteamTimeAnswer {
  /** Steam's Unix time in seconds. */
  serverTime: number;
  /** The local clock (ms) when the answer's headers arrived. */
  localMs: number;
  /** serverTime − local seconds: what Steam codes add to the local clock. */
  offsetS: number;
}

export interface QueryTimeOptions {
  url: string;
  /** Aborts the exchange (stop of the clock). */
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBytes?: number;
  maxOffsetS?: number;
  now?: () => number;
}

function failure(options: {
  err: unknown;
  timedOut: boolean;
  stopped: boolean;
  timeoutMs: number;
}) {
  const { err, timedOut, stopped, timeoutMs } = options;
  if (err instanceof SteamTimeError) return err;
  if (timedOut) return new SteamTimeError(`no complete answer within ${timeoutMs / 1000} s`);
  if (stopped) return new SteamTimeError('stopped');
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return new SteamTimeError(
    code ? `could not reach the source (${code})` : 'could not reach the source',
  );
}

/** The answer's body as text, refused as soon as it passes maxBytes. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new SteamTimeError(`answer larger than ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new SteamTimeError(`answer larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** server_time from `{"response":{"server_time":…}}`: a string of digits or an integer. */
export function serverTimeOf(text: string): number {
  let parsed: unknown;
  try {
    parsed = parseJson(text, { limits: STEAM_TIME_LIMITS.json, what: 'time answer' });
  } catch {
    throw new SteamTimeError('answer is not JSON');
  }
  const response =
    parsed !== null && typeof parsed === 'object'
      ? (parsed as { response?: unknown }).response
      : undefined;
  const raw =
    response !== null && typeof response === 'object'
      ? (response as { server_time?: unknown }).server_time
      : undefined;
  const value =
    typeof raw === 'string' && /^\d{1,12}$/.test(raw)
      ? Number(raw)
      : typeof raw === 'number' && Number.isSafeInteger(raw)
        ? raw
        : undefined;
  if (value === undefined || value <= 0) {
    throw new SteamTimeError('answer has no response.server_time (Unix seconds)');
  }
  return value;
}

/** Asks the source once; throws SteamTimeError saying why an answer is not used. */
export async function queryServerTime(options: QueryTimeOptions): Promise<SteamTimeAnswer> {
  const timeoutMs = options.timeoutMs ?? STEAM_TIME_LIMITS.timeoutMs;
  const maxBytes = options.maxBytes ?? STEAM_TIME_LIMITS.bytes;
  const maxOffsetS = options.maxOffsetS ?? STEAM_TIME_LIMITS.maxOffsetS;
  const now = options.now ?? Date.now;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let text: string;
  let localMs: number;
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      body: '',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal,
    });
    localMs = now();
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new SteamTimeError(
        response.status >= 300 && response.status < 400
          ? `answered a redirect (HTTP ${response.status}), which is not followed`
          : `answered HTTP ${response.status}`,
      );
    }
    text = await boundedText(response, maxBytes);
  } catch (err) {
    throw failure({
      err,
      timedOut: timeout.aborted,
      stopped: options.signal?.aborted === true,
      timeoutMs,
    });
  }
  const serverTime = serverTimeOf(text);
  const offsetS = serverTime - Math.floor(localMs / 1000);
  if (Math.abs(offsetS) > maxOffsetS) {
    throw new SteamTimeError(
      `answered a time ${offsetS} s away from the local clock (more than ${maxOffsetS} s): refused`,
    );
  }
  return { serverTime, localMs, offsetS };
}
