import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { CONTROL_ROUTES } from '../control/control-routes.js';
import { PveError, SimInputError } from '../errors.js';
import { API_ROUTES } from '../routes/api-routes.js';
import type { SimState } from '../state/sim-state.js';
import type { SimTls } from '../tls.js';
import { atLeast } from '../version.js';
import { type ApiToken, type AuthResult, checkApiToken } from './auth.js';
import { sendControl, sendData, sendHtml, sendPveError, sendUnauthorized } from './reply.js';
import { isLoopback, readJsonBody, sleep } from './request-utils.js';
import { Router } from './router.js';
import { authCookie, type TicketIssuer } from './ticket.js';
import { answerTicket } from './ticket-route.js';

export const API_PREFIX = '/api2/json';

export interface ServerContext {
  state: SimState;
  token: ApiToken;
  /** Login tickets (`POST /access/ticket`, `PVEAuthCookie`, `CSRFPreventionToken`). */
  tickets: TicketIssuer;
  tls: SimTls | undefined;
  /** Aborted on stop: cuts pending delays short. */
  signal: AbortSignal;
}

const apiRouter = new Router(API_ROUTES);
const controlRouter = new Router(CONTROL_ROUTES);

/** What Proxmox says for a status when a fault does not bring its own message. */
const FAULT_MESSAGES: Record<number, string> = {
  403: 'Permission check failed (/, Sys.Audit)',
  500: 'pve-sim: injected failure',
  595: 'Errors during connection establishment, proxy handshake: No route to host',
  596: 'Connection timed out',
};

const faultMessage = (status: number) => FAULT_MESSAGES[status] ?? STATUS_CODES[status] ?? 'Error';

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Who is asking, in pve-manager's order: an API token header wins (no CSRF check); else the
 * `PVEAuthCookie` ticket, and for anything but GET its `CSRFPreventionToken` header too.
 */
function authenticate(req: IncomingMessage, method: string, ctx: ServerContext): AuthResult {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('PVEAPIToken=')) return checkApiToken(authorization, ctx.token);
  const ticket = authCookie(req.headers.cookie);
  if (!ticket) return { ok: false, reason: 'No ticket' };
  const username = ctx.tickets.verifyTicket(ticket);
  if (!username) return { ok: false, reason: 'Authentication failed!' };
  if (
    method !== 'GET' &&
    !ctx.tickets.verifyCsrf(header(req.headers.csrfpreventiontoken), username)
  ) {
    return { ok: false, reason: 'Permission denied - invalid csrf token' };
  }
  return { ok: true };
}

/** Answers one API request: faults, auth, routing, handler; returns the status sent. */
async function answerApi(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ServerContext) {
  const { state, signal } = ctx;
  const method = req.method ?? 'GET';
  const path = url.pathname.slice(API_PREFIX.length).replace(/\/+$/, '') || '/';
  const match = apiRouter.match(path);
  const kind = match?.route.kind ?? 'unknown';
  state.stats.count(match?.route.pattern ?? path, kind);
  const faults = state.faults.settings;
  const scoped = state.faults.applies(kind, path);
  if (scoped && faults.down) {
    req.socket.destroy();
    return 'dropped' as const;
  }
  if (scoped && faults.latencyMs > 0) await sleep(faults.latencyMs, signal);
  if (scoped && faults.html) {
    sendHtml(res, faults.htmlStatus);
    return faults.htmlStatus;
  }
  // The ticket login needs no authentication (it is how one gets authenticated).
  const open = kind === 'access-ticket';
  const auth: AuthResult = open ? { ok: true } : authenticate(req, method, ctx);
  const forced = scoped ? faults.status : null;
  if (!auth.ok || forced === 401) {
    await sleep(state.timing.authDelayMs, signal);
    sendUnauthorized(res, auth.ok ? 'Authentication failed!' : auth.reason);
    return 401;
  }
  if (forced !== null) {
    sendPveError(res, forced, faults.message ?? faultMessage(forced));
    return forced;
  }
  if (scoped && state.faults.rollError()) {
    sendPveError(res, faults.errorStatus, faults.message ?? faultMessage(faults.errorStatus));
    return faults.errorStatus;
  }
  if (open) return answerTicket({ req, res, method, ctx });
  const since = match?.route.since;
  if (method !== 'GET' || !match || (since && !atLeast(state.version, since[0], since[1]))) {
    sendPveError(res, 501, `Method '${method} ${API_PREFIX}${path}' not implemented`);
    return 501;
  }
  const extra = [...url.searchParams.keys()].filter((k) => !match.route.query.includes(k));
  if (extra.length) {
    const errors = Object.fromEntries(
      extra.map((k) => [
        k,
        'property is not defined in schema and the schema does not allow additional properties',
      ]),
    );
    sendPveError(res, 400, 'Parameter verification failed.', errors);
    return 400;
  }
  try {
    const data = await match.route.handler({
      state,
      params: match.params,
      query: url.searchParams,
      now: state.clock(),
      signal,
    });
    sendData(res, data);
    return 200;
  } catch (err) {
    if (!(err instanceof PveError)) throw err;
    sendPveError(res, err.status, err.message, err.errors);
    return err.status;
  }
}

async function answerControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ServerContext,
) {
  if (!isLoopback(req.socket.remoteAddress)) {
    sendControl(res, 403, { error: '/_sim is only available to loopback clients' });
    return;
  }
  const path = url.pathname.replace(/\/+$/, '') || '/_sim';
  const matches = controlRouter.matchAll(path);
  const match = matches.find((m) => m.route.method === req.method);
  if (!match) {
    if (matches.length) {
      res.setHeader('allow', matches.map((m) => m.route.method).join(', '));
      sendControl(res, 405, { error: `${req.method} is not allowed on ${path}` });
    } else {
      sendControl(res, 404, { error: `no control endpoint ${path}` });
    }
    return;
  }
  try {
    const body =
      req.method === 'POST' || req.method === 'PATCH' ? await readJsonBody(req) : undefined;
    const reply = match.route.handler({
      state: ctx.state,
      params: match.params,
      body,
      tls: ctx.tls,
    });
    sendControl(res, reply.status, reply.body);
  } catch (err) {
    if (!(err instanceof SimInputError)) throw err;
    sendControl(res, err.status, { error: err.message });
  }
}

/** The request listener of the simulator's HTTP(S) server. */
export function createRequestListener(ctx: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://pve-sim');
    const onError = (err: unknown) => {
      if (ctx.signal.aborted || (err instanceof Error && err.name === 'AbortError')) {
        req.socket.destroy();
        return;
      }
      const message = `pve-sim internal error: ${err instanceof Error ? err.message : String(err)}`;
      sendPveError(res, 500, message);
    };
    if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
      answerControl(req, res, url, ctx).catch(onError);
      return;
    }
    if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
      answerApi(req, res, url, ctx).then(
        (status) => ctx.state.stats.answered(status),
        (err: unknown) => {
          ctx.state.stats.answered(500);
          onError(err);
        },
      );
      return;
    }
    sendControl(res, 404, { error: `not found: ${url.pathname} (the API is under ${API_PREFIX})` });
  };
}
