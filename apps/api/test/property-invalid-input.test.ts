import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createToken,
  createUser,
  randomName,
  setupAdmin,
  type TestUser,
} from './helpers/factories.js';
import {
  fillPath,
  type JsonSchema,
  type Operation,
  operations,
  type Parameter,
  sample,
} from './helpers/openapi-operations.js';
import { SoftAuthenticator } from './helpers/soft-authenticator.js';
import { ownerQuery } from './helpers/support.js';
import { createTestApp, RELAXED_LIMITS, type TestApp } from './helpers/test-app.js';

/**
 * Property: invalid input never gets a 5xx and never writes. For every operation under
 * /api/v1 (read from the OpenAPI document, so a new route is covered without being listed),
 * fast-check generates input that breaks the route's own schema, or its cursor and sort
 * rules, and sends it with valid credentials (the user; the admin for /users, the node key
 * for /agent). Every answer must be a 4xx application/problem+json with a `code`, and every
 * table must hold what it held before (row count and a digest of the contents, read as the
 * schema owner around each request).
 *
 * - JSON bodies: (a) an unknown field, (b) one property of the wrong type or breaking a
 *   limit, (c) a top-level value of the wrong type, (d) a required property left out;
 *   (e) malformed JSON and (f) an unsupported content type, for every POST/PUT/PATCH.
 * - Query strings: an unknown parameter, a value a parameter never takes (limit 0, -1,
 *   max+1, 'abc', 1.5; non-booleans, values outside an enum, non-UUIDs…), a single-valued
 *   parameter repeated, a cursor the list never issued, a sort key outside the allow-list.
 * - Path parameters: a non-UUID {id}, a non-integer or out-of-range {vmid}.
 * - A NUL character (which PostgreSQL text cannot hold) in any string: never a 5xx.
 *
 * PROPERTY_RUNS=<n> runs each generator n times per operation (default 10).
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 10);

/** Tables the app writes; the snapshot covers every table, these must be among them. */
const WRITTEN_TABLES = [
  'users',
  'refresh_tokens',
  'api_tokens',
  'audit_log',
  'data_keys',
  'accounts',
  'account_status_events',
  'hardware',
  'cards',
  'vms',
  'vm_status_events',
  'proxmox_nodes',
  'grants',
];

/** ajv-formats' uuid: what the request validators accept as format "uuid". */
const UUID_RE = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/**
 * Routes whose whole body is optional (emptyBodyIfNone): a null body is read as no body, {},
 * so null is not an invalid body there. The OpenAPI document does not tell these apart; a new
 * one shows here as a null body answered 2xx.
 */
const NULL_BODY_IS_EMPTY = new Set([
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/logout',
  'POST /api/v1/accounts/{id}/release',
  'POST /api/v1/cards/{id}/redeem',
  // No body, or a fresh factor when the user has passkeys.
  'POST /api/v1/auth/mfa/totp',
]);

/**
 * Limited to 10 calls a minute per user whatever the limits configured (password hashing,
 * second-factor codes): these are called by a pool of users in turn so that every generated
 * request reaches validation instead of the limiter.
 */
const LIMITED_PER_USER = new Set([
  'POST /api/v1/auth/password',
  'POST /api/v1/auth/mfa/totp',
  'POST /api/v1/auth/mfa/totp/confirm',
  'POST /api/v1/auth/mfa/disable',
  'POST /api/v1/auth/mfa/recovery-codes',
  'POST /api/v1/auth/mfa/passkeys',
  'POST /api/v1/auth/mfa/passkeys/options',
  'POST /api/v1/auth/mfa/passkeys/verify-options',
  'POST /api/v1/auth/mfa/passkeys/{id}/remove',
]);

/**
 * Valid uploads for routes whose body is not a JSON object, sent with a generated invalid
 * query string: if the query were not validated, these would be imported (and written).
 */
const VALID_UPLOADS: Record<string, { contentType: string; payload: string }> = {
  'POST /api/v1/accounts/import': {
    contentType: 'application/json',
    payload: JSON.stringify([{ username: 'query-probe' }]),
  },
  'POST /api/v1/cards/import': { contentType: 'text/plain', payload: 'QUERY-PROBE-CODE-1\n' },
};

/**
 * Left out of the NUL-character property, which lets a route take the input: a NUL is a valid
 * password character, so these may succeed, and their success ends or changes the sessions
 * the other properties call with (logout always answers 204 and ends the caller's session).
 */
const NUL_TAKEN_BY_SESSIONS = new Set([
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/password',
  'PATCH /api/v1/users/{id}',
]);

/** Content types no route parses. */
const UNSUPPORTED_TYPES = [
  'application/xml',
  'application/octet-stream',
  'image/png',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
];

let t: TestApp;
let admin: TestUser;
let user: TestUser;
let passwordUsers: TestUser[] = [];
let nodeKey = '';
let ops: Operation[] = [];
let snapshotSql = '';
let snapshotTables: string[] = [];
/** The OpenAPI document's component schemas (the items of lists). */
let components: Record<string, JsonSchema> = {};
/** The user's object per resource (first path segment under /api/v1). */
const ids: Record<string, string> = {};

const keyOf = (op: Operation) => `${op.method} ${op.path}`;
const resourceOf = (op: Operation) => op.path.split('/')[3] ?? '';
const queryParams = (op: Operation) => op.parameters.filter((p) => p.in === 'query');
const pathParams = (op: Operation) => op.parameters.filter((p) => p.in === 'path');
const hasBodyMethod = (op: Operation) => ['POST', 'PUT', 'PATCH'].includes(op.method);
const jsonBody = (op: Operation) =>
  op.body?.contentTypes.includes('application/json') ? op.body.schema : undefined;

async function post(u: TestUser, url: string, payload: object): Promise<Record<string, string>> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: bearer(u.accessToken),
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** How to make one of the user's objects for each resource that has routes taking an id. */
const factories: Record<string, (u: TestUser) => Promise<string>> = {
  accounts: async (u) =>
    (
      await post(u, '/accounts', {
        username: randomName('acct'),
        shared_secret: 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=',
      })
    ).id ?? '',
  hardware: async (u) =>
    (await post(u, '/hardware', { pcname: randomName('pc'), mac_address: '02:AA:00:00:00:01' }))
      .id ?? '',
  cards: async (u) => (await post(u, '/cards', { code1: randomName('code') })).id ?? '',
  vms: async (u) => (await post(u, '/vms', { name: randomName('vm'), status: 'running' })).id ?? '',
  'proxmox-nodes': async (u) => {
    const node = await post(u, '/proxmox-nodes', { name: randomName('node') });
    nodeKey = node.api_key ?? '';
    return node.id ?? '';
  },
  tokens: async (u) => (await createToken(t.app, u)).id,
  users: async (u) => u.id,
  // A share of one of u's accounts with another user (u owns the grant).
  grants: async (u) => {
    const grantee = await createUser(t.app, admin);
    const account = await post(u, '/accounts', { username: randomName('shared') });
    const grant = await post(u, '/grants', {
      object_type: 'account',
      object_id: account.id,
      grantee: grantee.username,
      permission: 'read',
    });
    return grant.id ?? '';
  },
  // /auth/mfa/passkeys/{id}: a passkey of the user's.
  auth: async (u) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/passkeys/options',
      headers: bearer(u.accessToken),
      payload: {},
    });
    expect(res.statusCode, res.body).toBe(200);
    const options = res.json();
    const authenticator = new SoftAuthenticator({
      id: t.config.webauthn.rpId,
      origin: t.config.webauthn.origins[0] ?? '',
    });
    const created = (await post(u, '/auth/mfa/passkeys', {
      name: randomName('passkey'),
      challenge_id: options.challenge_id,
      credential: authenticator.register(options.options),
    })) as unknown as { passkey: { id: string } };
    return created.passkey.id;
  },
};

let nextPasswordUser = 0;

/** Who calls an operation: admin routes the admin, agent routes the node, the rest the user. */
function credentialFor(op: Operation): string {
  if (op.path.startsWith('/api/v1/users') || op.path === '/api/v1/settings')
    return admin.accessToken;
  if (op.path.startsWith('/api/v1/agent/')) return nodeKey;
  if (LIMITED_PER_USER.has(keyOf(op))) {
    const u = passwordUsers[nextPasswordUser++ % passwordUsers.length];
    return u?.accessToken ?? '';
  }
  return user.accessToken;
}

/** Path values pointing at the caller's real objects. */
function realPathValues(op: Operation): Record<string, string | number> {
  return { id: ids[resourceOf(op)] ?? '', vmid: 101 };
}

interface Req {
  op: Operation;
  url: string;
  contentType?: string;
  payload?: string;
}

/** A body the route accepts apart from what a generator breaks elsewhere (query, path). */
function validBody(op: Operation): Pick<Req, 'contentType' | 'payload'> {
  const upload = VALID_UPLOADS[keyOf(op)];
  if (upload) return upload;
  const schema = jsonBody(op);
  if (schema) return { contentType: 'application/json', payload: JSON.stringify(sample(schema)) };
  return {};
}

const send = (req: Req) =>
  t.app.inject({
    method: req.op.method,
    url: req.url,
    headers: {
      ...bearer(credentialFor(req.op)),
      ...(req.contentType ? { 'content-type': req.contentType } : {}),
    },
    ...(req.payload !== undefined ? { payload: req.payload } : {}),
  });

/** Row count and a digest of the contents of every table, read as the schema owner. */
async function snapshot(): Promise<Record<string, string>> {
  const rows = await ownerQuery<{ t: string; n: number; h: string }>(t.database, snapshotSql);
  return Object.fromEntries(rows.map((r) => [r.t, `${r.n} rows, digest ${r.h}`]));
}

const isSet = (s: string | null): s is string => s !== null;
const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

interface Expectation {
  /** Exact status wanted; default any 4xx. */
  status?: number;
  /** Acceptable problem codes; default any. */
  codes?: string[];
  /**
   * The input is bad for the database, not for the schema: the route may take it (any 2xx,
   * which may write) or refuse it (a 4xx problem that writes nothing), never a 5xx. A 401 of
   * the route's own (wrong password) is an answer too, and may write (a failed login counts).
   */
  mayBeTaken?: boolean;
}

/** What is wrong with the answer to an invalid request, or null. */
function judge(res: LightMyRequestResponse, want: Expectation): string | null {
  const s = res.statusCode;
  if (want.mayBeTaken && s >= 200 && s < 400) return null;
  if (s < 400 || s > 499) return `answered ${s}, expected a 4xx`;
  // The credentials sent are valid and the limits relaxed: a 401 or 429 would mean the input
  // never reached validation (a lost session would silently turn every later case into 401s).
  const ownRefusal =
    want.mayBeTaken && s === 401 && !/"code":"(invalid_token|unauthorized)"/.test(res.body);
  if ((s === 401 && !ownRefusal) || s === 429)
    return `answered ${s}: the input never reached validation`;
  if (want.status !== undefined && s !== want.status)
    return `answered ${s}, expected ${want.status}`;
  if (!/^application\/problem\+json/.test(String(res.headers['content-type'] ?? '')))
    return `content-type ${res.headers['content-type']}, expected application/problem+json`;
  let body: { code?: unknown; status?: unknown };
  try {
    body = res.json();
  } catch {
    return 'the problem body is not JSON';
  }
  if (typeof body.code !== 'string' || body.code === '') return 'the problem has no code';
  if (body.status !== s) return `the problem says status ${body.status}, the answer ${s}`;
  if (body.code === 'route_not_found') return 'no route matched: the test built a wrong URL';
  if (want.codes && !want.codes.includes(body.code))
    return `code ${body.code}, expected ${want.codes.join(' or ')}`;
  return null;
}

function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before)
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k}: ${before[k]} → ${after[k]}`);
}

/**
 * Runs one property over one operation; returns a failure description (fast-check's
 * counterexample, seed and our message naming the request and the answer) or null.
 */
async function check<T>(
  label: string,
  arbitrary: fc.Arbitrary<T>,
  toRequest: (value: T) => Req & { want: Expectation },
  options: { selfCheck?: (value: T) => string | null } = {},
): Promise<string | null> {
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        const generatorBug = options.selfCheck?.(value);
        if (generatorBug) throw new Error(`generator bug: ${generatorBug}`);
        const req = toRequest(value);
        const before = await snapshot();
        const res = await send(req);
        const after = await snapshot();
        const wrong = judge(res, req.want);
        // A route's own 401 (a wrong password) is an answer to the input: a failed login is
        // recorded by design.
        const taken =
          req.want.mayBeTaken && (res.statusCode < 400 || (res.statusCode === 401 && !wrong));
        const written = taken ? [] : changedTables(before, after);
        if (wrong || written.length > 0) {
          throw new Error(
            [
              wrong ?? 'answered 4xx but wrote',
              ...(written.length > 0 ? [`  tables changed: ${written.join('; ')}`] : []),
              `  request: ${req.op.method} ${req.url}`,
              `  content-type: ${req.contentType ?? '(none)'}`,
              `  body: ${req.payload === undefined ? '(none)' : clip(req.payload)}`,
              `  response: ${res.statusCode} ${res.headers['content-type'] ?? ''} ${clip(res.body)}`,
            ].join('\n'),
          );
        }
      }),
      { numRuns: RUNS },
    );
    return null;
  } catch (err) {
    // fast-check reports the counterexample and seed; the property's own message (the
    // request, the answer, the tables written) is the cause.
    const cause = (err as Error).cause;
    return `${label}\n${(err as Error).message}${cause instanceof Error ? `\n${cause.message}` : ''}`;
  }
}

// ---------------------------------------------------------------------------------------
// Value generators, from JSON schemas

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

const jsonTypeOf = (v: unknown): JsonType =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? 'integer'
          : 'number'
        : (typeof v as JsonType);

/** Branches of a union, or the schema itself. */
const branchesOf = (schema: JsonSchema): JsonSchema[] =>
  (schema.anyOf ?? schema.oneOf)?.flatMap(branchesOf) ?? [schema];

/** The JSON types a branch accepts, or null when it does not restrict the type. */
function branchTypes(schema: JsonSchema): Set<JsonType> | null {
  if (schema.const !== undefined) return new Set([jsonTypeOf(schema.const)]);
  if (schema.type) {
    const types = new Set((Array.isArray(schema.type) ? schema.type : [schema.type]) as JsonType[]);
    if (types.has('number')) types.add('integer');
    return types;
  }
  if (schema.enum) return new Set(schema.enum.map(jsonTypeOf));
  return null;
}

/** The JSON types a schema accepts (any branch), or null when anything goes. */
function acceptedTypes(schema: JsonSchema): Set<JsonType> | null {
  const out = new Set<JsonType>();
  for (const branch of branchesOf(schema)) {
    const types = branchTypes(branch);
    if (!types) return null;
    for (const ty of types) out.add(ty);
  }
  return out;
}

/** The branches that accept values of a JSON type. */
const branchesFor = (schema: JsonSchema, type: JsonType) =>
  branchesOf(schema).filter((b) => branchTypes(b)?.has(type));

const smallJson = fc.jsonValue({ maxDepth: 2 });
/** Numbers that stay numbers through every JSON parser of the API (no 16-digit integers). */
const smallInteger = fc.integer({ min: -1_000_000, max: 1_000_000 });
const fraction = fc
  .double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })
  .filter((x) => !Number.isInteger(x));
const anyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const someObject = fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 3 });
/** A string longer than n characters (ASCII, so characters and code points agree). */
const longerThan = (n: number) =>
  fc.string({ minLength: 1, maxLength: 5 }).map((s) => s.repeat(Math.floor(n / s.length) + 1));
/**
 * Strings with a control character somewhere: fast-check's strings are printable, so a
 * pattern that only forbids control characters (a reason, a note) is broken by these only
 * (filtering printable strings for it never ends).
 */
const withControlChar = fc
  .tuple(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('\u0001', '\t', '\n', '\r', '\u001b', '\u007f'),
    fc.string({ maxLength: 8 }),
  )
  .map(([a, c, b]) => `${a}${c}${b}`);
/** Strings that break a pattern: printable ones, and ones with a control character. */
const breaking = (patterns: string[]) =>
  fc.oneof(anyString, withControlChar).filter((s) => !matchesAny(patterns, s));
const matchesAny = (patterns: string[], s: string) =>
  patterns.some((p) => new RegExp(p, 'u').test(s));

/**
 * Values of the wrong JSON type for a schema, or of the right type that break a constraint
 * every branch of that type has (format, length, pattern, enum, range, items, unknown key).
 * Null when the schema accepts anything.
 */
function wrongValue(schema: JsonSchema): fc.Arbitrary<unknown> | null {
  const accepted = acceptedTypes(schema);
  if (!accepted) return null;
  const options: Array<fc.Arbitrary<unknown>> = [];
  if (!accepted.has('null')) options.push(fc.constant(null));
  if (!accepted.has('boolean')) options.push(fc.boolean());
  if (!accepted.has('integer')) options.push(smallInteger);
  if (!accepted.has('number')) options.push(fraction);
  if (!accepted.has('string')) options.push(anyString);
  if (!accepted.has('array')) options.push(fc.array(smallJson, { maxLength: 3 }));
  if (!accepted.has('object')) options.push(someObject);

  const strings = branchesFor(schema, 'string');
  if (strings.length > 0) {
    const every = (f: (b: JsonSchema) => boolean) => strings.every(f);
    if (every((b) => b.enum !== undefined || b.const !== undefined)) {
      const allowed = new Set(strings.flatMap((b) => b.enum ?? [b.const]));
      options.push(anyString.filter((s) => !allowed.has(s)));
    }
    if (every((b) => b.format === 'uuid')) options.push(anyString.filter((s) => !UUID_RE.test(s)));
    if (every((b) => b.format === 'date-time'))
      options.push(anyString.filter((s) => !/[0-9]/.test(s)));
    if (every((b) => b.format === 'email')) options.push(anyString.filter((s) => !s.includes('@')));
    if (every((b) => b.maxLength !== undefined)) {
      const max = Math.max(...strings.map((b) => b.maxLength ?? 0));
      if (max <= 100_000) options.push(longerThan(max));
    }
    if (every((b) => (b.minLength ?? 0) > 0)) {
      const min = Math.min(...strings.map((b) => b.minLength ?? 0));
      options.push(fc.string({ maxLength: min - 1 }));
    }
    if (every((b) => b.pattern !== undefined)) {
      const patterns = strings.map((b) => b.pattern ?? '');
      options.push(breaking(patterns));
    }
  }
  const numbers = branchesFor(schema, 'integer');
  if (numbers.length > 0) {
    if (numbers.every((b) => b.maximum !== undefined))
      options.push(fc.constant(Math.max(...numbers.map((b) => b.maximum ?? 0)) + 1));
    if (numbers.every((b) => b.minimum !== undefined))
      options.push(fc.constant(Math.min(...numbers.map((b) => b.minimum ?? 0)) - 1));
  }
  const arrays = branchesFor(schema, 'array');
  if (arrays.length > 0) {
    if (arrays.every((b) => (b.minItems ?? 0) > 0)) options.push(fc.constant([]));
    const wrongItem = arrays.length === 1 && arrays[0]?.items ? wrongValue(arrays[0].items) : null;
    if (wrongItem) options.push(fc.tuple(wrongItem));
  }
  const objects = branchesFor(schema, 'object');
  if (objects.length > 0 && objects.every((b) => b.additionalProperties === false)) {
    const known = new Set(objects.flatMap((b) => Object.keys(b.properties ?? {})));
    options.push(
      fc
        .tuple(
          fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k)),
          smallJson,
        )
        .map(([k, v]) => ({ [k]: v })),
    );
  }
  return options.length > 0 ? fc.oneof(...options) : null;
}

/** Strings a query or path parameter never accepts (after the coercion of query strings). */
function wrongText(param: Parameter): fc.Arbitrary<string> | null {
  const schema = param.schema;
  const accepted = acceptedTypes(schema);
  if (!accepted) return null;
  // A parameter that takes an array takes every string wrapped as one: only strings that
  // break both the string and the item constraints are wrong.
  const strings = [
    ...branchesFor(schema, 'string'),
    ...branchesFor(schema, 'array').flatMap((b) => (b.items ? [b.items] : [])),
  ];
  const options: Array<fc.Arbitrary<string>> = [];
  const notANumber = anyString.filter((s) => Number.isNaN(Number(s)));
  if (strings.length === 0) {
    if (accepted.has('boolean') && !accepted.has('integer'))
      options.push(anyString.filter((s) => s !== 'true' && s !== 'false'));
    const numbers = branchesFor(schema, 'integer');
    if (numbers.length > 0) {
      options.push(notANumber);
      if (!accepted.has('number')) options.push(fraction.map(String));
      if (numbers.every((b) => b.maximum !== undefined)) {
        const max = Math.max(...numbers.map((b) => b.maximum ?? 0));
        options.push(fc.nat(1_000_000).map((d) => String(max + 1 + d)));
      }
      if (numbers.every((b) => b.minimum !== undefined)) {
        const min = Math.min(...numbers.map((b) => b.minimum ?? 0));
        options.push(fc.nat(1_000_000).map((d) => String(min - 1 - d)));
      }
    }
  } else {
    const every = (f: (b: JsonSchema) => boolean) => strings.every(f);
    if (every((b) => b.enum !== undefined || b.const !== undefined)) {
      const allowed = new Set(strings.flatMap((b) => b.enum ?? [b.const]));
      options.push(anyString.filter((s) => !allowed.has(s)));
    }
    if (every((b) => b.format === 'uuid')) options.push(anyString.filter((s) => !UUID_RE.test(s)));
    if (every((b) => b.format === 'date-time'))
      options.push(anyString.filter((s) => !/[0-9]/.test(s)));
    if (every((b) => b.maxLength !== undefined)) {
      const max = Math.max(...strings.map((b) => b.maxLength ?? 0));
      options.push(longerThan(max));
    }
    if (every((b) => (b.minLength ?? 0) > 0)) options.push(fc.constant(''));
    if (every((b) => b.pattern !== undefined)) {
      const patterns = strings.map((b) => b.pattern ?? '');
      options.push(breaking(patterns));
    }
  }
  return options.length > 0 ? fc.oneof(...options) : null;
}

/** Path values that are not a UUID (nor a dot segment, which the URL parser would resolve). */
const nonUuidPathValue = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((s) => s !== '.' && s !== '..' && !UUID_RE.test(s)),
  // Near misses: a character that is not hex, no dashes, one character short or long, braces.
  fc.uuid().map((u) => `${u.slice(0, 7)}g${u.slice(8)}`),
  fc.uuid().map((u) => u.replace(/-/g, '')),
  fc.uuid().map((u) => u.slice(1)),
  fc.uuid().map((u) => `${u}0`),
  fc.uuid().map((u) => `{${u}}`),
);

/** Sort keys a list allows, from the description of its sort parameter. */
function sortKeys(op: Operation): string[] | null {
  const describedBy = (o: Operation | undefined) => {
    const param = o && queryParams(o).find((p) => p.name === 'sort');
    const text = (param as (Parameter & { description?: string }) | undefined)?.description;
    const m = text && /Allowed: ([a-z_, ]+)\./.exec(text);
    return m?.[1] ? m[1].split(',').map((s) => s.trim()) : null;
  };
  // An export takes the same sort keys as its list.
  const list = ops.find((o) => o.method === 'GET' && o.path === op.path.replace(/\/export$/, ''));
  return describedBy(op) ?? describedBy(list);
}

type CursorKind = 'timestamp' | 'integer' | 'number' | 'text';

/** What a sort key holds, from the field of the same name of the list's items (else text). */
function cursorKindOf(op: Operation, key: string): CursorKind {
  const list = ops.find((o) => o.method === 'GET' && o.path === op.path.replace(/\/export$/, ''));
  const page = (list?.responses['200'] as { content?: Record<string, { schema?: JsonSchema }> })
    ?.content?.['application/json']?.schema;
  let item = page?.properties?.items?.items;
  if (item?.$ref) item = components[item.$ref.replace('#/components/schemas/', '')];
  const field = item?.properties?.[key];
  const branches = field ? branchesOf(field) : [];
  if (branches.some((b) => b.format === 'date-time')) return 'timestamp';
  if (branches.some((b) => b.type === 'integer')) return 'integer';
  if (branches.some((b) => b.type === 'number')) return 'number';
  return 'text';
}

/**
 * A sort value and a row id of which at least one the database would refuse to cast: the id
 * not a UUID, or the value not of its kind. A text value with a NUL character is refused too.
 */
function junkCursorValues(kind: CursorKind): fc.Arbitrary<[string, string]> {
  const digitless = anyString.filter((s) => !/[0-9]/.test(s));
  const withNul = anyString.map((s) => `${s}\u0000`);
  const wrongValue = {
    text: withNul,
    timestamp: fc.oneof(
      withNul,
      digitless.filter((s) => s !== 'infinity' && s !== '-infinity'),
      fc.constantFrom(
        '',
        '2024-13-01 00:00:00+00',
        '2024-02-30 00:00:00+00',
        '2024-01-01 25:00:00+00',
        '0000-01-01 00:00:00+00',
        '99999-12-31 00:00:00+00',
        '2024-01-01T00:00:00Z',
      ),
    ),
    integer: fc.oneof(
      withNul,
      digitless,
      fc.constantFrom('', '99999999999', '-99999999999', '99999999999999999999', '1.5', '1e3'),
    ),
    number: fc.oneof(
      withNul,
      digitless.filter((s) => !['NaN', 'Infinity', '-Infinity'].includes(s)),
      fc.constantFrom('', '1e999', '-1e999', '1e-999', '1,5', '0x10'),
    ),
  }[kind];
  const nonUuid = fc.oneof(
    anyString.filter((s) => !UUID_RE.test(s)),
    nonUuidPathValue,
  );
  return fc.oneof(fc.tuple(wrongValue, fc.uuid()), fc.tuple(anyString, nonUuid));
}

const toBase64Url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

// ---------------------------------------------------------------------------------------

beforeAll(async () => {
  // Limits no generated request meets, lockout included (a NUL in a login password is a
  // failed login): these properties test validation, the guards have tests of their own.
  t = await createTestApp({
    limits: { ...RELAXED_LIMITS, lockout: { threshold: 1_000_000, baseSeconds: 1, maxSeconds: 1 } },
  });
  admin = await setupAdmin(t.app);
  user = await createUser(t.app, admin);
  ops = operations(t.app).filter((op) => op.path.startsWith('/api/v1/'));
  components =
    (t.app.swagger() as { components?: { schemas?: Record<string, JsonSchema> } }).components
      ?.schemas ?? {};
  for (const resource of new Set(ops.filter((op) => op.path.includes('{id}')).map(resourceOf))) {
    const make = factories[resource];
    if (make) ids[resource] = await make(user);
  }
  if (!ids['proxmox-nodes']) await factories['proxmox-nodes']?.(user);
  const limitedCalls = LIMITED_PER_USER.size * (6 * RUNS + 10);
  passwordUsers = [];
  for (let i = 0; i < Math.ceil(limitedCalls / 9); i++)
    passwordUsers.push(await createUser(t.app, admin));

  snapshotTables = (
    await ownerQuery<{ tablename: string }>(
      t.database,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  ).map((r) => r.tablename);
  snapshotSql = snapshotTables
    .map((name) => {
      const id = `"${name.replace(/"/g, '""')}"`;
      return `SELECT '${name}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM ${id} x`;
    })
    .join(' UNION ALL ');
}, 120_000);
afterAll(async () => t?.close());

describe('invalid input: always a 4xx problem, never a 5xx, never a write', () => {
  it('has its fixtures: an object per resource with id routes, a node key, every table', () => {
    expect(ops.length).toBeGreaterThan(60);
    const missing = [...new Set(ops.filter((o) => o.path.includes('{id}')).map(resourceOf))].filter(
      (r) => !ids[r],
    );
    expect(missing, `add a factory for: ${missing.join(', ')}`).toEqual([]);
    expect(nodeKey).toMatch(/^adb_node_/);
    expect(snapshotTables).toEqual(expect.arrayContaining(WRITTEN_TABLES));
    const routes = new Set(ops.map(keyOf));
    const stale = [...NULL_BODY_IS_EMPTY, ...LIMITED_PER_USER, ...NUL_TAKEN_BY_SESSIONS].filter(
      (k) => !routes.has(k),
    );
    expect(stale, 'listed routes that no longer exist').toEqual([]);
  });

  it('generates invalid input for every operation that takes any', () => {
    // A GET with no parameters takes no input to get wrong (its query string is not read).
    const noInput = ops.filter(
      (op) => op.method === 'GET' && op.parameters.filter((p) => p.in !== 'header').length === 0,
    );
    const covered = ops.filter(
      (op) => hasBodyMethod(op) || queryParams(op).length > 0 || pathParams(op).length > 0,
    );
    expect(covered.length + noInput.length).toBe(ops.length);
    expect(noInput.map(keyOf).every((k) => k.startsWith('GET '))).toBe(true);
  });

  it('refuses invalid JSON bodies with 400', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    let runs = 0;
    for (const op of ops) {
      // The body schema, sent as JSON: an object route gets (a)–(d); a text route (cards
      // import: a string) gets only (c), JSON values that are not text.
      const schema = op.body?.schema;
      if (!schema) continue;
      const path = fillPath(op.path, realPathValues(op));
      const key = keyOf(op);
      const validate = compileStrict(schema);
      const request = (body: unknown) => ({
        op,
        url: path,
        contentType: 'application/json',
        payload: JSON.stringify(body),
        want: { status: 400, codes: ['validation_error', 'invalid_json'] },
      });
      const selfCheck = (body: unknown) =>
        validate(structuredClone(body)) ? `the schema accepts ${JSON.stringify(body)}` : null;
      const base = sample(schema) as Record<string, unknown>;
      const props = Object.entries(schema.properties ?? {});
      const isObject = schema.type === 'object' && typeof base === 'object' && base !== null;

      // (a) the sample body plus a field the schema does not declare
      if (isObject && schema.additionalProperties === false) {
        const unknownName = fc
          .oneof(
            fc.string({ minLength: 1, maxLength: 24 }),
            fc.constantFrom('__proto__', 'constructor', 'id', 'owner', 'created_at', 'role'),
          )
          .filter((name) => !(name in (schema.properties ?? {})));
        const arb = fc.tuple(unknownName, smallJson).map(([name, value]) => ({
          ...base,
          [name]: value,
        }));
        failures.push(
          ...[await check(`${key} (a) unknown field`, arb, request, { selfCheck })].filter(isSet),
        );
        runs++;
      }

      // (b) one declared property replaced by a value of the wrong type, or breaking a limit
      if (isObject) {
        const wrongs = props.flatMap(([name, prop]) => {
          const w = wrongValue(prop);
          return w ? [w.map((value) => ({ ...base, [name]: value }))] : [];
        });
        if (wrongs.length > 0) {
          failures.push(
            ...[
              await check(`${key} (b) wrong property`, fc.oneof(...wrongs), request, { selfCheck }),
            ].filter(isSet),
          );
          runs++;
        }
      }

      // (c) a top-level value the body schema does not take (an object route gets non-objects)
      const top = wrongValue(schema);
      if (top) {
        const arb = NULL_BODY_IS_EMPTY.has(key) ? top.filter((v) => v !== null) : top;
        failures.push(
          ...[await check(`${key} (c) wrong top-level value`, arb, request, { selfCheck })].filter(
            isSet,
          ),
        );
        runs++;
      }

      // (d) a required property left out (one with a default is filled in, so not missing)
      if (isObject) {
        const removable = (schema.required ?? []).filter(
          (name) => name in base && schema.properties?.[name]?.default === undefined,
        );
        if (removable.length > 0) {
          const arb = fc.constantFrom(...removable).map((name) => {
            const { [name]: _, ...rest } = base;
            return rest;
          });
          failures.push(
            ...[
              await check(`${key} (d) required property missing`, arb, request, { selfCheck }),
            ].filter(isSet),
          );
          runs++;
        }
      }
    }
    expect(runs).toBeGreaterThan(100);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('refuses bodies that are not JSON: malformed JSON 400, unsupported content types 415', {
    timeout: 300_000,
  }, async () => {
    const failures: string[] = [];
    // A JSON value followed or preceded by what no JSON parser accepts.
    const malformed = fc.oneof(
      smallJson.map((j) => `[${JSON.stringify(j)}`),
      smallJson.map((j) => `{"k":${JSON.stringify(j)}`),
      smallJson.map((j) => `${JSON.stringify(j)},`),
      fc.constantFrom("{'a':1}", '{a:1}', 'undefined', 'NaN', '{"a":1}}', '{"a":}', '[1,]'),
    );
    // Every route taking a body, and every POST/PUT/PATCH route (a body it does not take
    // still has to be parsed, and refused when it cannot be).
    for (const op of ops.filter(hasBodyMethod)) {
      const url = fillPath(op.path, realPathValues(op));
      const key = keyOf(op);
      failures.push(
        ...[
          await check(`${key} (e) malformed JSON`, malformed, (payload) => ({
            op,
            url,
            contentType: 'application/json',
            payload,
            want: { status: 400, codes: ['invalid_json'] },
          })),
          await check(
            `${key} (f) unsupported content type`,
            fc.tuple(fc.constantFrom(...UNSUPPORTED_TYPES), fc.string({ minLength: 1 })),
            ([contentType, payload]) => ({
              op,
              url,
              contentType,
              payload,
              want: { status: 415, codes: ['unsupported_media_type'] },
            }),
          ),
        ].filter(isSet),
      );
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('refuses invalid query strings with 400', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    let runs = 0;
    for (const op of ops) {
      const params = queryParams(op);
      if (params.length === 0) continue;
      const key = keyOf(op);
      const path = fillPath(op.path, realPathValues(op));
      const body = validBody(op);
      const names = new Set(params.map((p) => p.name));
      const request =
        (want: Expectation) =>
        (pairs: Array<[string, string]>): Req & { want: Expectation } => ({
          op,
          url: `${path}?${new URLSearchParams(pairs).toString()}`,
          ...body,
          want,
        });
      const schemaError = request({ status: 400, codes: ['validation_error'] });
      const run = async (
        label: string,
        arb: fc.Arbitrary<Array<[string, string]>>,
        r = schemaError,
      ) => {
        runs++;
        const failure = await check(`${key} ${label}`, arb, r);
        if (failure) failures.push(failure);
      };

      // An unknown parameter.
      await run(
        'unknown parameter',
        fc
          .tuple(
            fc
              .oneof(
                fc.string({ minLength: 1, maxLength: 20 }),
                fc.constantFrom('__proto__', 'constructor', 'toString', 'id', 'offset', 'page'),
              )
              .filter((n) => !names.has(n)),
            fc.string({ maxLength: 20 }),
          )
          .map(([n, v]) => [[n, v]]),
      );

      // One declared parameter with a value it never takes: limit 0, -1, max+1, 'abc', 1.5;
      // a non-boolean for a boolean, a value outside an enum, a non-UUID for a UUID…
      const wrongs = params.flatMap((p) => {
        const w = wrongText(p);
        const fixed =
          p.name === 'limit'
            ? [fc.constantFrom('0', '-1', String((p.schema.maximum ?? 500) + 1), 'abc', '1.5')]
            : [];
        return w || fixed.length > 0
          ? [
              fc
                .oneof(...fixed, ...(w ? [w] : []))
                .map((v): Array<[string, string]> => [[p.name, v]]),
            ]
          : [];
      });
      if (wrongs.length > 0) await run('wrong parameter value', fc.oneof(...wrongs));

      // A parameter that takes one value, given twice.
      const scalars = params.filter((p) => !acceptedTypes(p.schema)?.has('array'));
      if (scalars.length > 0) {
        await run(
          'scalar parameter repeated',
          fc.constantFrom(...scalars).map((p): Array<[string, string]> => {
            const v = String(sample(p.schema));
            return [
              [p.name, v],
              [p.name, v],
            ];
          }),
        );
      }

      // A cursor this list never issued: random text, random JSON, or the right shape (the
      // sort order, its values, the row id) with an id that is not a UUID or a value its sort
      // key's SQL type does not take (out of range, malformed, a NUL character).
      if (names.has('cursor')) {
        const keys = names.has('sort') ? sortKeys(op) : null;
        const shaped = keys
          ? fc
              .tuple(fc.constantFrom(...keys), fc.boolean())
              .chain(([k, desc]) =>
                fc.tuple(
                  fc.constant(`${desc ? '-' : ''}${k}`),
                  junkCursorValues(cursorKindOf(op, k)),
                ),
              )
              .map(
                ([order, [v, id]]): Array<[string, string]> => [
                  ['sort', order],
                  ['cursor', toBase64Url(JSON.stringify([order, v, id]))],
                ],
              )
          : junkCursorValues('text').map(
              ([v, id]): Array<[string, string]> => [
                ['cursor', toBase64Url(JSON.stringify([v, id]))],
              ],
            );
        await run(
          'garbage cursor',
          fc.oneof(
            fc
              .string({ minLength: 1, maxLength: 60 })
              .map((c): Array<[string, string]> => [['cursor', c]]),
            fc
              .array(smallJson, { maxLength: 5 })
              .map((a): Array<[string, string]> => [['cursor', toBase64Url(JSON.stringify(a))]]),
            shaped,
          ),
          request({ status: 400, codes: ['invalid_cursor', 'validation_error'] }),
        );
      }

      // A sort key not in the allow-list (alone, descending, or after an allowed one), or a
      // sort that does not even look like one.
      if (names.has('sort')) {
        const keys = sortKeys(op);
        if (!keys) {
          failures.push(`${key}: cannot read the sort keys from the OpenAPI description`);
          continue;
        }
        const unknownKey = fc.stringMatching(/^[a-z_]{1,20}$/).filter((k) => !keys.includes(k));
        await run(
          'unknown sort key',
          fc
            .oneof(
              unknownKey,
              unknownKey.map((k) => `-${k}`),
              fc.tuple(fc.constantFrom(...keys), unknownKey).map(([a, b]) => `${a},-${b}`),
              anyString.filter((s) => !/^-?[a-z_]+(,-?[a-z_]+)*$/.test(s)),
            )
            .map((s): Array<[string, string]> => [['sort', s]]),
          request({ status: 400, codes: ['invalid_sort', 'validation_error'] }),
        );
      }
    }
    expect(runs).toBeGreaterThan(50);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('refuses invalid path parameters with 400', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    for (const op of ops) {
      for (const param of pathParams(op)) {
        // Not empty and not a dot segment: those change which route the URL names.
        const wrong =
          param.schema.format === 'uuid'
            ? nonUuidPathValue
            : wrongText(param)?.filter((s) => s !== '' && s !== '.' && s !== '..');
        if (!wrong) {
          failures.push(`${keyOf(op)}: no generator for path parameter {${param.name}}`);
          continue;
        }
        const failure = await check(`${keyOf(op)} {${param.name}}`, wrong, (value) => ({
          op,
          url: fillPath(op.path, { ...realPathValues(op), [param.name]: value }),
          ...validBody(op),
          want: { status: 400, codes: ['validation_error'] },
        }));
        if (failure) failures.push(failure);
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('never answers a NUL character with a 5xx; a refusal writes nothing', {
    timeout: 300_000,
  }, async () => {
    // PostgreSQL text cannot hold U+0000, which JSON and query strings can carry. Where a
    // string is only hashed or encrypted it is fine, so the route may take it.
    const failures: string[] = [];
    const withNul = fc
      .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
      .map(([a, b]) => `${a}\u0000${b}`);
    const want = { mayBeTaken: true };
    const takesStrings = (schema: JsonSchema) => acceptedTypes(schema)?.has('string') === true;
    for (const op of ops) {
      const key = keyOf(op);
      const url = fillPath(op.path, realPathValues(op));
      const schema = op.body?.schema;
      if (schema && !NUL_TAKEN_BY_SESSIONS.has(key)) {
        const base = sample(schema);
        const names = Object.entries(schema.properties ?? {})
          .filter(([, prop]) => takesStrings(prop))
          .map(([name]) => name);
        const arb =
          schema.type === 'object' && names.length > 0
            ? fc.tuple(fc.constantFrom(...names), withNul).map(([name, v]) => ({
                contentType: 'application/json',
                payload: JSON.stringify({ ...(base as object), [name]: v }),
              }))
            : schema.type === 'string'
              ? withNul.map((v) => ({ contentType: 'text/plain', payload: `${v}\n` }))
              : null;
        if (arb) {
          const failure = await check(`${key} NUL in the body`, arb, (body) => ({
            op,
            url,
            ...body,
            want,
          }));
          if (failure) failures.push(failure);
        }
      }
      const params = queryParams(op).filter((p) => takesStrings(p.schema));
      if (params.length > 0) {
        const failure = await check(
          `${key} NUL in the query`,
          fc.tuple(fc.constantFrom(...params), withNul),
          ([p, v]) => ({
            op,
            url: `${url}?${new URLSearchParams([[p.name, v]]).toString()}`,
            ...validBody(op),
            want,
          }),
        );
        if (failure) failures.push(failure);
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('leaves the fixtures usable: the sessions, the node key and the objects still work', async () => {
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(user.accessToken),
    });
    expect(me.statusCode, me.body).toBe(200);
    const config = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/config',
      headers: bearer(nodeKey),
    });
    expect(config.statusCode, config.body).toBe(200);
    const passkeys = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/mfa/passkeys',
      headers: bearer(user.accessToken),
    });
    expect(passkeys.json().items.map((p: { id: string }) => p.id)).toEqual([ids.auth]);
    for (const [resource, id] of Object.entries(ids)) {
      if (resource === 'tokens' || resource === 'users' || resource === 'auth') continue;
      if (resource === 'grants') {
        // Grants have no GET by id: the grant is still among the ones the user gave.
        const given = await t.app.inject({
          method: 'GET',
          url: '/api/v1/grants?direction=given',
          headers: bearer(user.accessToken),
        });
        expect(given.statusCode, given.body).toBe(200);
        expect(given.json().items.map((g: { id: string }) => g.id)).toContain(id);
        continue;
      }
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/${resource}/${id}`,
        headers: bearer(user.accessToken),
      });
      expect(res.statusCode, `${resource}: ${res.body}`).toBe(200);
    }
  });
});

const ajv = new Ajv({ coerceTypes: false, useDefaults: true, allErrors: false, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/** The body schema as the API validates bodies (no coercion): guards the generators. */
function compileStrict(schema: JsonSchema): ValidateFunction {
  return ajv.compile(JSON.parse(JSON.stringify(schema)));
}
