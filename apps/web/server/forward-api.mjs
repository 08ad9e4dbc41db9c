// Forwards /api/* to the API, streaming both ways: request bodies (imports of many MiB) go on as
// they arrive and the API applies its own size limits; answers (exports) stream back as the
// API writes them. Status, headers (every Set-Cookie, ETag, Location, Retry-After, …) and
// bodies pass unchanged, except for the hop-by-hop headers of each connection.
// undici rather than node:http for the API's side: when the API refuses a body early (413)
// and closes while the body is still coming, node:http reports the failed write and drops the
// answer even when it has arrived; undici reads it. (Only when the API's closing resets the
// connection before its answer is read does the client get a 502, as it would get a reset
// talking to the API directly.)
import { PassThrough, pipeline } from 'node:stream';
import { Agent, request } from 'undici';

/** Headers that belong to one connection, not to the message (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Header names of a message that are not forwarded: the hop-by-hop ones, and those its
 * Connection header lists.
 * @param {string | string[] | undefined} connection
 */
function notForwarded(connection) {
  const text = Array.isArray(connection) ? connection.join(',') : (connection ?? '');
  const listed = text.split(',').map((s) => s.trim().toLowerCase());
  return new Set([...HOP_BY_HOP, ...listed]);
}

/**
 * The request's headers for the API. Host names the API; Expect is dropped, as this server
 * has already answered any 100-continue itself.
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @param {string} apiHost
 * @returns {Record<string, string | string[]>}
 */
function requestHeaders(headers, apiHost) {
  const skip = notForwarded(headers.connection);
  /** @type {Record<string, string | string[]>} */
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || skip.has(name) || name === 'host' || name === 'expect') continue;
    out[name] = value;
  }
  out.host = apiHost;
  return out;
}

/**
 * The answer's headers for the client; a repeated header (Set-Cookie) stays a list.
 * @param {Record<string, string | string[] | undefined>} headers
 * @returns {Record<string, string | string[]>}
 */
function responseHeaders(headers) {
  const skip = notForwarded(headers.connection);
  /** @type {Record<string, string | string[]>} */
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !skip.has(name)) out[name] = value;
  }
  return out;
}

/** Errors of a connection that never opened. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * A 502 problem for a request the API did not answer. It names neither the API's address nor
 * the error; the web server's log has them.
 * @param {import('node:http').ServerResponse} res
 * @param {unknown} err
 */
function noAnswer(res, err) {
  const code = /** @type {{ code?: unknown }} */ (err)?.code;
  const unreachable = typeof code === 'string' && UNREACHABLE.has(code);
  const body = JSON.stringify({
    type: `urn:accountdb:problem:${unreachable ? 'api_unreachable' : 'api_closed'}`,
    title: 'Bad Gateway',
    status: 502,
    detail: unreachable
      ? 'The web server could not reach the API.'
      : 'The API closed the connection without an answer (it does so while a request body over its size limit is still being sent).',
    code: unreachable ? 'api_unreachable' : 'api_closed',
  });
  res.writeHead(502, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * @param {URL} apiOrigin
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>}
 */
export function createApiForwarder(apiOrigin) {
  // No time limits of its own: the API bounds its work, and a long import or export must not
  // be cut off here. Idle connections follow the API's Keep-Alive hints.
  const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  return async (req, res) => {
    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const headers = requestHeaders(req.headers, apiOrigin.host);
    if (!hasBody) delete headers['content-length'];
    // The body goes through a stream of its own: undici ends it when the API answers before
    // reading all of it, which must not end the client's connection. Once the answer is out,
    // whatever the client still sends is read and dropped, so that it gets to read the answer.
    const body = hasBody ? req.pipe(new PassThrough()) : null;
    res.on('finish', () => {
      if (req.complete) return;
      if (body) req.unpipe(body);
      req.resume();
    });
    let answer;
    try {
      // req.url is a path under /api (main.mjs forwards nothing else).
      answer = await request(`${apiOrigin.origin}${req.url}`, {
        dispatcher,
        method: /** @type {import('undici').Dispatcher.HttpMethod} */ (req.method ?? 'GET'),
        headers,
        body,
        signal: aborted.signal,
      });
    } catch (err) {
      if (res.destroyed || aborted.signal.aborted) return;
      const reason = err instanceof Error ? err.message : String(err);
      process.stderr.write(
        `accountdb-web: ${req.method} ${req.url}: the API did not answer (${reason})\n`,
      );
      noAnswer(res, err);
      return;
    }
    res.writeHead(answer.statusCode, responseHeaders(answer.headers));
    // A client that goes away ends the API's answer too (an export stops); an API that breaks
    // off mid-answer breaks off the client's.
    pipeline(answer.body, res, () => {});
  };
}
