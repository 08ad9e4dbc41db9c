import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonSchema, type Operation, operations } from './helpers/openapi-operations.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The OpenAPI document as a contract for its readers (DESIGN section 9: OpenAPI descriptions
 * and examples on every route). Walks every operation under /api/v1, so a new route fails
 * here until it is documented: a summary, a description, its error answers, and an example
 * of the request or of the answer. Every example of a request body is checked against the
 * schema it illustrates, and so is every example of a success answer.
 */

interface Media {
  schema?: JsonSchema & { examples?: unknown[]; example?: unknown };
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

interface DocOperation {
  parameters?: Array<{ name: string; example?: unknown; examples?: unknown }>;
  requestBody?: { content: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
}

interface Doc {
  paths: Record<string, Record<string, DocOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

let t: TestApp;
let doc: Doc;
let ops: Operation[];

beforeAll(async () => {
  t = await createTestApp();
  doc = t.app.swagger() as unknown as Doc;
  ops = operations(t.app).filter((op) => op.path.startsWith('/api/v1/'));
});
afterAll(async () => t?.close());

const name = (op: Operation) => `${op.method} ${op.path}`;
const docOp = (op: Operation): DocOperation => doc.paths[op.path]?.[op.method.toLowerCase()] ?? {};

/** The schema with every #/components/schemas/… reference replaced by its target. */
function deref(schema: unknown, seen: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((s) => deref(s, seen));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const target = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
    const resolved = target === undefined ? undefined : doc.components.schemas[target];
    if (!target || !resolved) throw new Error(`unresolvable $ref ${ref}`);
    if (seen.includes(target)) throw new Error(`recursive $ref ${ref}`);
    return deref(resolved, [...seen, target]);
  }
  return Object.fromEntries(
    Object.entries(schema)
      // An $id would make ajv refuse the second schema that embeds the same component.
      .filter(([key]) => key !== '$id')
      .map(([key, value]) => [
        key,
        // Example values are data, not schemas: never rewrite them.
        key === 'examples' || key === 'example' ? value : deref(value, seen),
      ]),
  );
}

/** Examples of one media entry: on the media object or on its (resolved) schema. */
function examplesOf(media: Media): unknown[] {
  const out: unknown[] = [];
  if (media.example !== undefined) out.push(media.example);
  for (const e of Object.values(media.examples ?? {})) out.push(e.value);
  const schema = media.schema ? (deref(media.schema) as Media['schema']) : undefined;
  if (schema?.example !== undefined) out.push(schema.example);
  out.push(...(Array.isArray(schema?.examples) ? schema.examples : []));
  return out;
}

const bodyMedia = (op: Operation): Array<[string, Media]> =>
  Object.entries(docOp(op).requestBody?.content ?? {});

const successMedia = (op: Operation): Array<[string, string, Media]> =>
  Object.entries(docOp(op).responses ?? {})
    .filter(([status]) => /^2\d\d$/.test(status))
    .flatMap(([status, r]) =>
      Object.entries(r.content ?? {}).map(([type, m]): [string, string, Media] => [
        status,
        type,
        m,
      ]),
    );

function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

/** "" when the value satisfies the schema, else ajv's complaints. */
function check(ajv: Ajv, schema: unknown, value: unknown): string {
  const validate = ajv.compile(deref(schema) as object);
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}

describe('OpenAPI document', () => {
  it('describes the API routes', () => {
    expect(ops.length).toBeGreaterThan(60);
    expect(ops.map(name)).toContain('POST /api/v1/accounts/claim');
  });

  it('gives every operation a summary and a description', () => {
    const missing = ops.flatMap((op) => [
      ...(op.summary?.trim() ? [] : [`${name(op)}: summary`]),
      ...(op.description?.trim() ? [] : [`${name(op)}: description`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('lists at least one 4xx answer for every operation', () => {
    const missing = ops
      .filter((op) => !Object.keys(op.responses).some((s) => /^4\d\d$/.test(s)))
      .map(name);
    expect(missing).toEqual([]);
  });

  it('has an example of the request body or of the success answer for every operation', () => {
    const missing = ops
      .filter((op) => {
        if (bodyMedia(op).some(([, m]) => examplesOf(m).length > 0)) return false;
        const success = successMedia(op);
        if (success.some(([, , m]) => examplesOf(m).length > 0)) return false;
        // No request body and an answer without content (204): the request is its
        // parameters, so one of them must carry the example.
        if (bodyMedia(op).length === 0 && success.length === 0)
          return !(docOp(op).parameters ?? []).some(
            (p) => p.example !== undefined || p.examples !== undefined,
          );
        return true;
      })
      .map(name);
    expect(missing).toEqual([]);
  });

  it('has request body examples that are valid against their schema', () => {
    const ajv = makeAjv();
    const invalid: string[] = [];
    let checked = 0;
    for (const op of ops) {
      for (const [type, media] of bodyMedia(op)) {
        for (const example of examplesOf(media)) {
          checked++;
          const errors = check(ajv, media.schema, example);
          if (errors) invalid.push(`${name(op)} (${type}): ${errors}`);
        }
      }
    }
    expect(invalid).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('has bulk examples whose items are valid bodies of the single create', () => {
    const ajv = makeAjv();
    const invalid: string[] = [];
    for (const op of ops.filter((o) => o.method === 'POST' && o.path.endsWith('/bulk'))) {
      const create = ops.find((o) => o.method === 'POST' && o.path === op.path.slice(0, -5));
      const createSchema = create && bodyMedia(create)[0]?.[1].schema;
      if (!createSchema) {
        invalid.push(`${name(op)}: no single create to compare with`);
        continue;
      }
      const examples = bodyMedia(op).flatMap(([, m]) => examplesOf(m));
      if (examples.length === 0) invalid.push(`${name(op)}: no example`);
      for (const example of examples) {
        for (const [i, item] of ((example as { items?: unknown[] }).items ?? []).entries()) {
          const errors = check(ajv, createSchema, item);
          if (errors) invalid.push(`${name(op)} items[${i}]: ${errors}`);
        }
      }
    }
    expect(invalid).toEqual([]);
  });

  it('bounds every string, array and open object a request takes (body, query, path)', () => {
    // Headers are bounded by Node's header size limit (16 KiB). Bulk items are objects of any
    // shape in the schema: each is validated against the single create's body, bounded below.
    const unbounded: string[] = [];
    const fixedPattern = (p: string) => /^\^.*\$$/.test(p) && !/[*+]|\{\d+,\}/.test(p);
    const walk = (schema: unknown, at: string): void => {
      const s = deref(schema) as JsonSchema & { allOf?: JsonSchema[]; maxItems?: number };
      if (!s || typeof s !== 'object') return;
      for (const branch of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])])
        walk(branch, at);
      if (s.type === 'string') {
        const bounded =
          s.maxLength !== undefined ||
          s.enum !== undefined ||
          s.const !== undefined ||
          s.format === 'uuid' ||
          s.format === 'date-time' ||
          (s.pattern !== undefined && fixedPattern(s.pattern));
        if (!bounded) unbounded.push(`${at}: string without maxLength`);
      }
      if (s.type === 'array') {
        if (s.maxItems === undefined) unbounded.push(`${at}: array without maxItems`);
        if (!/\/bulk \(.*\) body\.items$/.test(at)) walk(s.items, `${at}[]`);
      }
      if (s.type === 'object') {
        const open = s.additionalProperties !== false;
        if (open && (s as { maxProperties?: number }).maxProperties === undefined)
          unbounded.push(`${at}: open object without maxProperties`);
        for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}.${k}`);
      }
    };
    let walked = 0;
    for (const op of ops) {
      for (const [type, media] of bodyMedia(op)) {
        walked++;
        walk(media.schema, `${name(op)} (${type}) body`);
      }
      for (const p of docOp(op).parameters ?? []) {
        const param = p as { in?: string; schema?: unknown };
        if (param.in !== 'header') walk(param.schema, `${name(op)} ${param.in}.${p.name}`);
      }
    }
    expect(walked).toBeGreaterThan(30);
    expect(unbounded).toEqual([]);
  });

  it('has success answer examples that are valid against their schema', () => {
    const ajv = makeAjv();
    const invalid: string[] = [];
    for (const op of ops) {
      for (const [status, type, media] of successMedia(op)) {
        for (const example of examplesOf(media)) {
          const errors = check(ajv, media.schema, example);
          if (errors) invalid.push(`${name(op)} ${status} (${type}): ${errors}`);
        }
      }
    }
    expect(invalid).toEqual([]);
  });
});
