/**
 * The one error hierarchy of the API. Every error a handler throws on purpose is an
 * AppError; the error handler turns it into application/problem+json with a stable `code`.
 */
export interface FieldError {
  /** JSON-pointer-like path of the offending field, e.g. "/body/email". */
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request', errors?: FieldError[]) {
    super(400, code, message, errors ? { errors } : {});
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super(400, 'validation_error', message, { errors });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication is required.', code = 'unauthorized') {
    super(401, code, message, { headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You may not do this.', code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'resource', code = 'not_found') {
    super(404, code, `The ${what} does not exist.`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict', errors?: FieldError[]) {
    super(409, code, message, errors ? { errors } : {});
  }
}

export class PreconditionFailedError extends AppError {
  constructor(message = 'The object changed since you read it.') {
    super(412, 'precondition_failed', message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message: string, retryAfterSeconds: number, code = 'too_many_requests') {
    super(429, code, message, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

/** The body is larger than the route accepts (413 payload_too_large), naming the limit. */
export class PayloadTooLargeError extends AppError {
  constructor(limit: string) {
    super(
      413,
      'payload_too_large',
      `The request body is larger than this endpoint accepts (${limit}).`,
    );
  }
}

/**
 * A request over one of the limits on work per request (docs/api.md#limits): too deep, too
 * many records… Always a 4xx naming the limit, and nothing is written.
 */
export class LimitExceededError extends AppError {
  constructor(code: string, message: string, status = 400) {
    super(status, code, message);
  }
}

/** A body (or an upload) that is not valid JSON; `row` is the record it broke in, if known. */
export class InvalidJsonError extends AppError {
  constructor(
    message = 'The request body is not valid JSON.',
    readonly row?: number,
  ) {
    super(400, 'invalid_json', message);
  }
}
