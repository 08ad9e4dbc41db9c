import type { FastifyRequest } from 'fastify';

/**
 * preValidation hook for routes whose whole body is optional: a request without a body is
 * validated (and handled) as an empty object, instead of failing "body must be object".
 */
export const emptyBodyIfNone = async (request: FastifyRequest): Promise<void> => {
  if (request.body === undefined || request.body === null) request.body = {};
};
