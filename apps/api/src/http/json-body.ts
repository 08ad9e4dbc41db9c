import { errorCodes, type FastifyInstance } from 'fastify';
import { AppError, InvalidJsonError } from './errors.js';
import { parseJson } from './safe-json.js';

/**
 * The application/json body parser of a plugin: the route's byte limit (Fastify's, 413), then
 * the nesting and size limits of every JSON body checked on the text before it is parsed
 * (400 json_too_deep / json_too_complex), then JSON.parse without prototype poisoning.
 * bigIntegers: integer literals of 16 or more digits are read as strings (64-bit ids).
 * emptyIsNone: an empty body is no body (undefined) instead of a 400.
 */
export function registerJsonBodyParser(
  app: FastifyInstance,
  options: { bigIntegers?: boolean; emptyIsNone?: boolean } = {},
): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text === '') {
      if (options.emptyIsNone) done(null, undefined);
      else done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
      return;
    }
    try {
      done(null, parseJson(text, { bigIntegers: options.bigIntegers ?? false }));
    } catch (err) {
      done(err instanceof AppError ? err : new InvalidJsonError(), undefined);
    }
  });
}
