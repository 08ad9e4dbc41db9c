import { type Static, Type } from 'typebox';

/** RFC 9457 problem details, as every error answer carries them. */
export const Problem = Type.Object(
  {
    type: Type.String({
      description: 'URI naming the problem type',
      examples: ['urn:accountdb:problem:validation_error'],
    }),
    title: Type.String({ description: 'Short human summary of the problem type' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    detail: Type.String({ description: 'What went wrong in this case' }),
    code: Type.String({
      description: 'Stable machine-readable error code',
      examples: ['validation_error'],
    }),
    request_id: Type.Optional(
      Type.String({ description: 'The request id, also in the x-request-id header' }),
    ),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'Offending field, e.g. /body/email' }),
          message: Type.String(),
        }),
        { description: 'Per-field problems of a validation error' },
      ),
    ),
  },
  { $id: 'Problem', description: 'Problem details (RFC 9457), served as application/problem+json' },
);
export type Problem = Static<typeof Problem>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(options: {
  status: number;
  code: string;
  detail: string;
  requestId?: string;
  errors?: Problem['errors'];
}): Problem {
  return {
    type: `urn:accountdb:problem:${options.code}`,
    title: TITLES[options.status] ?? 'Error',
    status: options.status,
    detail: options.detail,
    code: options.code,
    ...(options.requestId ? { request_id: options.requestId } : {}),
    ...(options.errors ? { errors: options.errors } : {}),
  };
}

/** Response schemas for the error statuses a route can answer, for OpenAPI. */
export function problemResponses(
  ...statuses: number[]
): Record<number, { $ref: string; description: string }> {
  const out: Record<number, { $ref: string; description: string }> = {};
  for (const s of statuses) out[s] = { $ref: 'Problem#', description: TITLES[s] ?? 'Error' };
  return out;
}
