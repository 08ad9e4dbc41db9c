import { stdSerializers } from 'pino';

/**
 * What the log says of a request: its route pattern (`/api/v1/cards/:id`), never the URL it
 * came with. Query values are never logged, whatever their name: a value may be a secret
 * (a card code, a token, a password a script put in a URL by mistake) and a search term may be
 * one too. Only the names of the parameters the route declares are logged; others are
 * counted, since a name could itself be a secret (`?AAAA-BBBB`).
 */

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
  routeOptions?: { url?: string; schema?: { querystring?: unknown } };
}

const declared = new WeakMap<object, Set<string>>();

/** The query parameter names a route's querystring schema declares. */
function declaredKeys(schema: unknown): Set<string> {
  if (!schema || typeof schema !== 'object') return new Set();
  let keys = declared.get(schema);
  if (!keys) {
    keys = new Set(Object.keys((schema as { properties?: object }).properties ?? {}));
    declared.set(schema, keys);
  }
  return keys;
}

/** Longest path of an unmatched request kept in the log. */
const MAX_PATH = 200;

/** pino's `req` serializer: method, route pattern, declared query names, host, peer. */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  const raw = req.url ?? '';
  const at = raw.indexOf('?');
  const route = req.routeOptions?.url;
  const names = at === -1 ? [] : [...new Set(new URLSearchParams(raw.slice(at + 1)).keys())];
  const known = declaredKeys(req.routeOptions?.schema?.querystring);
  const query = names.filter((name) => known.has(name));
  return {
    method: req.method,
    // A request no route matched has no pattern: its path, without the query.
    ...(route
      ? { route }
      : { route: null, path: (at === -1 ? raw : raw.slice(0, at)).slice(0, MAX_PATH) }),
    ...(query.length > 0 ? { query } : {}),
    ...(names.length > query.length ? { query_other: names.length - query.length } : {}),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** `/path?anything` in a text becomes `/path?…`: for messages that quote a raw URL. */
export function scrubUrls(text: string): string {
  return text.replace(/(\/[^\s"'?#]*)\?[^\s"'#]*/g, '$1?…');
}

/**
 * pino's `err` serializer: the standard one, with URLs' queries cut from the message and
 * stack, and without `rawPacket` (the bytes of a request Node could not parse, headers and
 * all, which a client error carries).
 */
export function serializeError(err: unknown): unknown {
  const out = stdSerializers.err(err as Error) as unknown;
  if (!out || typeof out !== 'object') return out;
  const fields = out as Record<string, unknown>;
  if ('rawPacket' in fields) fields.rawPacket = '[omitted]';
  for (const key of ['message', 'stack'] as const) {
    if (typeof fields[key] === 'string') fields[key] = scrubUrls(fields[key]);
  }
  return fields;
}
