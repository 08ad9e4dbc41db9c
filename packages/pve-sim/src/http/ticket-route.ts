import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendData, sendPveError, sendUnauthorized } from './reply.js';
import { sleep } from './request-utils.js';
import type { ServerContext } from './server.js';

/** pve-http-server refuses request bodies above 64 KiB. */
const BODY_LIMIT = 64 * 1024;

/** The parameters `POST /access/ticket` takes (pve-docs apidata.js, 8.4 and 9.x). */
const TICKET_PARAMS = [
  'username',
  'password',
  'realm',
  'otp',
  'path',
  'privs',
  'new-format',
  'tfa-challenge',
];

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > BODY_LIMIT) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Form (`application/x-www-form-urlencoded`) or JSON body → string parameters. */
function parseParams(text: string, contentType: string | undefined): Record<string, string> | null {
  if (contentType?.startsWith('application/json')) {
    try {
      const value: unknown = JSON.parse(text || '{}');
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
    } catch {
      return null;
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

interface TicketRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  ctx: ServerContext;
}

/**
 * `/access/ticket`, which needs no authentication: GET answers `null` (a "dummy" for login
 * pages), POST checks `username` + `password` (or a still valid ticket as password, to renew
 * it) and answers `{username, ticket, CSRFPreventionToken}`; bad credentials get a delayed
 * 401 `authentication failure`.
 */
export async function answerTicket({ req, res, method, ctx }: TicketRequest): Promise<number> {
  if (method === 'GET') {
    sendData(res, null);
    return 200;
  }
  if (method !== 'POST') {
    sendPveError(res, 501, `Method '${method} /api2/json/access/ticket' not implemented`);
    return 501;
  }
  let text: string;
  try {
    text = await readBody(req);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    sendPveError(res, 413, 'request too large');
    return 413;
  }
  const params = parseParams(text, req.headers['content-type']);
  if (!params) {
    sendPveError(res, 400, 'Parameter verification failed.', { body: 'invalid JSON object' });
    return 400;
  }
  const errors: Record<string, string> = {};
  for (const key of Object.keys(params)) {
    if (!TICKET_PARAMS.includes(key)) {
      errors[key] =
        'property is not defined in schema and the schema does not allow additional properties';
    }
  }
  for (const key of ['username', 'password']) {
    if (params[key] === undefined) errors[key] = 'property is missing and it is not optional';
  }
  if ((params.username ?? '').length > 64) errors.username = 'value may only be 64 characters long';
  if (Object.keys(errors).length) {
    sendPveError(res, 400, 'Parameter verification failed.', errors);
    return 400;
  }
  const answer = ctx.tickets.login(params.username ?? '', params.password ?? '', params.realm);
  if (!answer) {
    await sleep(ctx.state.timing.authDelayMs, ctx.signal);
    sendUnauthorized(res, 'authentication failure');
    return 401;
  }
  sendData(res, answer);
  return 200;
}
