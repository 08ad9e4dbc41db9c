import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { fieldErrors } from './error-handler.js';
import type { FieldError } from './errors.js';
import { addFreeJsonKeywords } from './free-json.js';

/**
 * Request validation. JSON bodies are checked strictly: a string is not a number, unknown
 * fields are refused, nothing is coerced. Query strings, path parameters and headers are
 * text by nature, so their values are coerced to the declared types.
 */
function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    allErrors: true,
    removeAdditional: false,
    strict: false,
  });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  addFreeJsonKeywords(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);
const compiled = {
  strict: new WeakMap<object, ValidateFunction>(),
  coercing: new WeakMap<object, ValidateFunction>(),
};

function compile(kind: 'strict' | 'coercing', schema: object): ValidateFunction {
  let fn = compiled[kind].get(schema);
  if (!fn) {
    fn = (kind === 'strict' ? strict : coercing).compile(JSON.parse(JSON.stringify(schema)));
    compiled[kind].set(schema, fn);
  }
  return fn;
}

/** Fastify's validator compiler: strict for bodies, coercing for everything else. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const fn = compile(httpPart === 'body' ? 'strict' : 'coercing', schema);
  return (data: unknown) =>
    fn(data)
      ? { value: data }
      : { error: Object.assign(new Error('validation failed'), { validation: fn.errors ?? [] }) };
};

/** Validates items of a many-object body (bulk, import) like a single body, for per-row errors. */
export function validatorFor(schema: TSchema): (value: unknown, path: string) => FieldError[] {
  const validate = compile('strict', schema);
  return (value, path) => (validate(value) ? [] : fieldErrors(path, validate.errors ?? []));
}
