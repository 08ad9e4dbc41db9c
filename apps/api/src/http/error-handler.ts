import { DrizzleQueryError } from 'drizzle-orm';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from './errors.js';
import { formatBytes } from './limits.js';
import { problem } from './problem.js';
import { PATTERN_MESSAGES } from './text-patterns.js';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns ajv's errors into [{path, message}] naming the field: "/body/email". */
export function fieldErrors(context: string, validation: AjvError[]): FieldError[] {
  // A nullable field that fails reports once per union branch; keep the first (most specific)
  // message per field.
  const seen = new Set<string>();
  // A union of literals fails once per literal: name the allowed values instead.
  const allowed = new Map<string, unknown[]>();
  for (const e of validation) {
    if (e.keyword !== 'const') continue;
    const list = allowed.get(e.instancePath ?? '') ?? [];
    list.push(e.params?.allowedValue);
    allowed.set(e.instancePath ?? '', list);
  }
  return validation
    .map((e) => {
      let path = `/${context}${e.instancePath ?? ''}`;
      let message = e.message ?? 'is invalid';
      const literals = allowed.get(e.instancePath ?? '') ?? [];
      if (literals.length > 1) {
        message = `must be one of ${literals.map((v) => JSON.stringify(v)).join(', ')}`;
      } else if (
        e.keyword === 'pattern' &&
        typeof e.params?.pattern === 'string' &&
        Object.hasOwn(PATTERN_MESSAGES, e.params.pattern)
      ) {
        message = PATTERN_MESSAGES[e.params.pattern] ?? message;
      } else if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) {
        message = `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      } else if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
        path = `${path}/${e.params.missingProperty}`;
        message = 'is required';
      } else if (
        e.keyword === 'additionalProperties' &&
        typeof e.params?.additionalProperty === 'string'
      ) {
        path = `${path}/${e.params.additionalProperty}`;
        message = 'is not a known field';
      }
      return { path, message };
    })
    .filter((e) => !seen.has(e.path) && seen.add(e.path) !== undefined);
}

type DatabaseErrorFields = Record<
  'name' | 'message' | 'code' | 'severity' | 'table' | 'column' | 'constraint' | 'routine',
  unknown
>;

const isDatabaseError = (e: unknown): e is DatabaseErrorFields =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as { code?: unknown }).code === 'string' &&
  /^[0-9A-Z]{5}$/.test((e as { code: string }).code) &&
  'severity' in e;

/**
 * What a 5xx logs of its error. A failed query's error (DrizzleQueryError) quotes the
 * parameter values in its message and stack, and a database error's detail can quote a
 * whole row: either may hold a secret, so they log the SQL text and the database error's
 * identifying fields only.
 */
export function loggableError(error: Error): Record<string, unknown> {
  const query = error instanceof DrizzleQueryError ? error.query : undefined;
  const inner = query !== undefined ? error.cause : error;
  if (isDatabaseError(inner)) {
    const { name, message, code, severity, table, column, constraint, routine } = inner;
    return {
      err: { type: name, message, code, severity, table, column, constraint, routine },
      ...(query !== undefined ? { query } : {}),
    };
  }
  return query !== undefined ? { err: inner, query } : { err: error };
}

function send(reply: FastifyReply, body: ReturnType<typeof problem>): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** Postgres errors that are the client's fault, mapped to 4xx without SQL detail. */
function postgresProblem(err: {
  code?: string;
}): { status: number; code: string; detail: string } | null {
  switch (err.code) {
    case '23505':
      return {
        status: 409,
        code: 'conflict',
        detail: 'An object with these values already exists.',
      };
    case '23503':
      return { status: 404, code: 'not_found', detail: 'A referenced object does not exist.' };
    case '22P02':
    case '22007':
    case '22008':
      return { status: 400, code: 'bad_request', detail: 'A value has the wrong format.' };
    case '22001':
      return { status: 400, code: 'bad_request', detail: 'A value is too long.' };
    case '22003':
      return { status: 400, code: 'bad_request', detail: 'A number is out of range.' };
    case '22021':
    case '22P05':
      // PostgreSQL text cannot hold a NUL character (\u0000), which JSON and query strings can;
      // in text it is 22021, in jsonb (an audit entry's details) 22P05.
      return {
        status: 400,
        code: 'bad_request',
        detail: 'A value contains a character that cannot be stored (NUL).',
      };
    case '23514':
      return { status: 400, code: 'bad_request', detail: 'A value is not allowed.' };
    case '42501':
      return { status: 403, code: 'forbidden', detail: 'You may not do this.' };
    default:
      return null;
  }
}

/** Seconds a client is told to wait (Retry-After) when the database is unreachable. */
const DATABASE_RETRY_AFTER_S = 2;

/** Socket errors of the database connection (Node's codes, as pg passes them on). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** pg's own errors for a lost or unobtainable connection, which carry no code. */
const LOST_CONNECTION =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * Whether the database could not be reached or the connection died: SQLSTATE class 08
 * (connection exception), a server shutting down or starting (57P01-57P03), too many
 * connections (53300), a socket error or pg's lost-connection errors. Looks through the
 * wrapping errors (DrizzleQueryError and its cause).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || /^08[0-9A-Z]{3}$|^57P0[123]$|^53300$/.test(code)) return true;
    }
    if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The one error handler: every error becomes application/problem+json with a stable code.
 * 5xx details go to the log with the request id, never into the response.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(
    (error: FastifyError & { validationContext?: string }, request: FastifyRequest, reply) => {
      const requestId = request.id;
      if (error instanceof AppError) {
        if (error.extra.headers) reply.headers(error.extra.headers);
        return send(
          reply,
          problem({
            status: error.status,
            code: error.code,
            detail: error.message,
            requestId,
            ...(error.extra.errors ? { errors: error.extra.errors } : {}),
          }),
        );
      }
      if (error.validation) {
        const errors = fieldErrors(
          error.validationContext ?? 'body',
          error.validation as AjvError[],
        );
        return send(
          reply,
          problem({
            status: 400,
            code: 'validation_error',
            detail: errors.map((e) => `${e.path} ${e.message}`).join('; '),
            requestId,
            errors,
          }),
        );
      }
      // Drizzle wraps the driver's error (DrizzleQueryError): its SQLSTATE is on the cause.
      const cause = (error as { cause?: unknown }).cause;
      const dbError = (
        (error as { code?: string }).code === undefined && typeof cause === 'object' && cause
          ? cause
          : error
      ) as { code?: string };
      const pg = postgresProblem(dbError);
      if (pg) {
        request.log.info({ pgCode: dbError.code }, 'database refused the request');
        return send(reply, problem({ ...pg, requestId }));
      }
      if (isDatabaseUnavailable(error)) {
        // Not the client's fault and likely brief: the pool reconnects on the next request.
        request.log.warn(loggableError(error), 'database unavailable');
        reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
        return send(
          reply,
          problem({
            status: 503,
            code: 'database_unavailable',
            detail: 'The database is not reachable at the moment. Retry shortly.',
            requestId,
          }),
        );
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        const code =
          status === 413
            ? 'payload_too_large'
            : status === 415
              ? 'unsupported_media_type'
              : status === 429
                ? 'too_many_requests'
                : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
                  ? 'invalid_json'
                  : 'bad_request';
        const detail =
          status === 413
            ? `The request body is larger than this endpoint accepts (${formatBytes(request.routeOptions.bodyLimit)}).`
            : code === 'invalid_json'
              ? 'The request body is not valid JSON.'
              : error.message;
        return send(reply, problem({ status, code, detail, requestId }));
      }
      request.log.error(loggableError(error), 'request failed');
      return send(
        reply,
        problem({
          status: 500,
          code: 'internal_error',
          detail: `An internal error occurred. Quote request id ${requestId} when reporting it.`,
          requestId,
        }),
      );
    },
  );

  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      problem({
        status: 404,
        code: 'route_not_found',
        detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
        requestId: request.id,
      }),
    ),
  );
}
