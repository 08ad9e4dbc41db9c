import type { FastifyInstance } from 'fastify';

/**
 * The API's operations read from its own OpenAPI document, which Fastify builds from the
 * route table: tests that walk every route cover a new route without anyone listing it.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  minProperties?: number;
  pattern?: string;
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
  $ref?: string;
}

export interface Parameter {
  in: 'query' | 'path' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path, e.g. /api/v1/accounts/{id}. */
  path: string;
  parameters: Parameter[];
  body?: { schema: JsonSchema; contentTypes: string[]; required: boolean };
  summary?: string;
  description?: string;
  responses: Record<string, unknown>;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[];
        requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
        summary?: string;
        description?: string;
        responses?: Record<string, unknown>;
      }
    >
  >;
}

export function operations(app: FastifyInstance): Operation[] {
  const doc = app.swagger() as unknown as OpenApiDoc;
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const content = op.requestBody?.content ?? {};
      const first = Object.values(content)[0];
      out.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        parameters: op.parameters ?? [],
        ...(first
          ? {
              body: {
                schema: first.schema,
                contentTypes: Object.keys(content),
                required: op.requestBody?.required ?? false,
              },
            }
          : {}),
        ...(op.summary ? { summary: op.summary } : {}),
        ...(op.description ? { description: op.description } : {}),
        responses: op.responses ?? {},
      });
    }
  }
  return out;
}

/** The path with its parameters filled in ({id} and {vmid} by default). */
export function fillPath(path: string, values: Record<string, string | number>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(String(v));
  });
}

const UUID = '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f';

/** A small value that satisfies the schema (required properties only). */
export function sample(schema: JsonSchema | undefined): unknown {
  if (!schema) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const nonNull = union.find((s) => s.type !== 'null') ?? union[0];
    return sample(nonNull);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = schema.properties ?? {};
      for (const name of schema.required ?? []) out[name] = sample(props[name]);
      if ((schema.minProperties ?? 0) > Object.keys(out).length) {
        for (const [name, prop] of Object.entries(props)) {
          if (Object.keys(out).length >= (schema.minProperties ?? 0)) break;
          if (!(name in out)) out[name] = sample(prop);
        }
      }
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items));
    case 'integer':
    case 'number':
      return schema.minimum !== undefined ? Math.max(schema.minimum, 1) : 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'uuid') return UUID;
      if (schema.format === 'date-time') return '2030-01-01T00:00:00.000Z';
      if (schema.format === 'email') return 'sample@example.com';
      if (schema.pattern === '^[A-Za-z]{3}$') return 'EUR';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
    default:
      return null;
  }
}
