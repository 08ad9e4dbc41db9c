import type { Ajv, FuncKeywordDefinition } from 'ajv';
import { type TSchema, Type } from 'typebox';
import { formatBytes, LIMITS } from './limits.js';

/**
 * Free-form JSON fields (accounts' attributes, steam_guard) are bounded like the rest of a
 * body: `x-max-depth` levels of nesting and `x-max-bytes` of JSON text, checked by the request
 * validator (so a bulk item or an import record that breaks them is reported like any field).
 * The keywords stay in the OpenAPI document, beside a description that says the same.
 */

/** How deep a JSON value nests (an empty object is 1), without recursion; stops past `stop`. */
export function jsonDepth(value: unknown, stop = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stop) return deepest;
    for (const child of Object.values(v)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return deepest;
}

function keyword(
  name: string,
  fails: (limit: number, data: unknown) => boolean,
  message: (limit: number) => string,
): FuncKeywordDefinition {
  const validate = (limit: number, data: unknown): boolean => {
    if (!fails(limit, data)) return true;
    validate.errors = [{ keyword: name, message: message(limit), params: { limit } }];
    return false;
  };
  validate.errors = [] as unknown[];
  return {
    keyword: name,
    type: ['object', 'array'],
    schemaType: 'number',
    errors: true,
    validate: validate as FuncKeywordDefinition['validate'],
  };
}

export function addFreeJsonKeywords(ajv: Ajv): void {
  ajv.addKeyword(
    keyword(
      'x-max-depth',
      (limit, data) => jsonDepth(data, limit) > limit,
      (limit) => `must not be nested deeper than ${limit} levels`,
    ),
  );
  ajv.addKeyword(
    keyword(
      'x-max-bytes',
      // The nesting is bounded already (by the body parser and by x-max-depth), so
      // JSON.stringify cannot overflow its stack here.
      (limit, data) => Buffer.byteLength(JSON.stringify(data)) > limit,
      (limit) => `must not be longer than ${formatBytes(limit)} as JSON`,
    ),
  );
}

/** A free-form JSON object field with the limits of LIMITS.freeJson. */
export function FreeJsonObject(options: { description: string; maxProperties: number }): TSchema {
  const { depth, bytes } = LIMITS.freeJson;
  return Type.Object(
    {},
    {
      additionalProperties: true,
      maxProperties: options.maxProperties,
      'x-max-depth': depth,
      'x-max-bytes': bytes,
      description: `${options.description}. At most ${options.maxProperties} fields, nested at most ${depth} levels, ${formatBytes(bytes)} as JSON.`,
    },
  );
}
