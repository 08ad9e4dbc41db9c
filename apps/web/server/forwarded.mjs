// What the web server saw of a request: the client's address, the host and the scheme it used.
// Whatever a client says about itself (X-Forwarded-*, Forwarded, X-Real-IP, …) is replaced by
// that before Next.js or the API see the request; only proxies named by WEB_TRUST_PROXY are
// believed, as far as the chain of trusted hops goes.
import net from 'node:net';

/** Request headers that claim who the client is, besides the X-Forwarded-* family. */
const CLAIMS = new Set([
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
]);

/**
 * @typedef {object} Seen
 * @property {string} client the client's address
 * @property {string | undefined} host the host the client asked for
 * @property {'http' | 'https'} proto the scheme the client used
 */

/**
 * An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; the API and its audit log
 * get the plain a.b.c.d.
 * @param {string} address
 */
function plain(address) {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * The entries of a comma-separated header (a repeated header arrives joined by commas).
 * @param {string | string[] | undefined} header
 */
function entries(header) {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Walks from the socket's peer towards the client while the hops are trusted, as
 * proxy-addr (and so the API's Fastify) does: the client is the first untrusted hop, or the
 * farthest one. An entry that is no IP address ends the walk at the hop before it.
 * @param {import('node:http').IncomingMessage} req
 * @param {(address: string, hop: number) => boolean} trust
 * @returns {Seen}
 */
export function seenBy(req, trust) {
  const peer = plain(req.socket.remoteAddress ?? '');
  const fromProxy = trust(peer, 0);
  let client = peer;
  if (fromProxy) {
    const hops = entries(req.headers['x-forwarded-for']).reverse();
    for (const [i, entry] of hops.entries()) {
      const address = plain(entry);
      if (!net.isIP(address)) break;
      client = address;
      if (!trust(address, i + 1)) break;
    }
  }
  // Host and scheme as the nearest proxy reports them, when it is trusted.
  /** @param {string} name */
  const reported = (name) => (fromProxy ? entries(req.headers[name]).at(-1) : undefined);
  const proto = reported('x-forwarded-proto');
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  return {
    client,
    host: reported('x-forwarded-host') ?? req.headers.host,
    proto: proto === 'https' || proto === 'http' ? proto : encrypted ? 'https' : 'http',
  };
}

/**
 * Drops every header by which the client described itself and sets X-Forwarded-For, -Host
 * and -Proto to what this server saw.
 * @param {import('node:http').IncomingMessage} req
 * @param {(address: string, hop: number) => boolean} trust
 * @returns {Seen}
 */
export function replaceForwardedHeaders(req, trust) {
  const seen = seenBy(req, trust);
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-forwarded-') || CLAIMS.has(name)) delete req.headers[name];
  }
  req.headers['x-forwarded-for'] = seen.client;
  req.headers['x-forwarded-proto'] = seen.proto;
  if (seen.host) req.headers['x-forwarded-host'] = seen.host;
  return seen;
}
