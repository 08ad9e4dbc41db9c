import { and, arrayContains, eq, or, type SQL, sql } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import { type TObject, type TSchema, Type } from 'typebox';
import type { Actor } from '../../db/tenant.js';
import { ownScopeCondition, type SharedMode, SharedParam } from '../../modules/grants/shares.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { BadRequestError } from '../errors.js';
import { OwnerIdParam, ScopeParam, scopeOwner } from '../scope.js';
import type { ReadContext, ResourceSpec, SortField } from './spec.js';

// biome-ignore lint/suspicious/noExplicitAny: the machinery is generic over every resource
export type AnySpec = ResourceSpec<any, any, any, any>;

export const MAX_LIMIT = 500;

const TagParam = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 100 }),
    Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20 }),
  ],
  {
    description: 'Only objects carrying this tag (repeat for all of several tags)',
  },
);

/** Query parameters every list and export shares, plus the resource's own filters. */
export function filterProperties(spec: AnySpec): Record<string, TSchema> {
  const props: Record<string, TSchema> = {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: `Search the ${spec.entity}'s text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first`,
      }),
    ),
    tag: Type.Optional(TagParam),
    scope: ScopeParam,
    owner_id: OwnerIdParam,
    ...(spec.share ? { shared: SharedParam } : {}),
  };
  for (const [name, f] of Object.entries(spec.filters)) props[name] = Type.Optional(f.schema);
  return props;
}

export function listQuerySchema(spec: AnySpec): TObject {
  return Type.Object(
    {
      limit: Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT,
        default: 50,
        description: 'Page size',
      }),
      cursor: Type.Optional(
        Type.String({ maxLength: 2000, description: 'next_cursor of the previous page' }),
      ),
      count: Type.Optional(
        Type.Boolean({
          description:
            'true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match.',
        }),
      ),
      sort: Type.Optional(
        Type.String({
          maxLength: 200,
          pattern: '^-?[a-z_]+(,-?[a-z_]+)*$',
          description: `Comma-separated fields, "-" for descending. Allowed: ${Object.keys(spec.sort).join(', ')}. Default ${spec.defaultSort}.`,
        }),
      ),
      ...filterProperties(spec),
    },
    { additionalProperties: false },
  );
}

export interface ParsedSort {
  name: string;
  field: SortField;
  desc: boolean;
}

export function parseSort(spec: AnySpec, param: string | undefined): ParsedSort[] {
  const parts = (param ?? spec.defaultSort).split(',');
  const seen = new Set<string>();
  const out: ParsedSort[] = [];
  for (const part of parts) {
    const desc = part.startsWith('-');
    const name = desc ? part.slice(1) : part;
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's.
    const field = Object.hasOwn(spec.sort, name) ? spec.sort[name] : undefined;
    if (!field) {
      throw new BadRequestError(`Cannot sort by "${name}".`, 'invalid_sort', [
        {
          path: '/querystring/sort',
          message: `must be one of ${Object.keys(spec.sort).join(', ')}`,
        },
      ]);
    }
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, field, desc });
  }
  return out;
}

/**
 * The order of a list or export when `q` is given without a sort: the rank the search
 * function gives each match (migration 0015: exact name, name prefix, substring, similar
 * name; closer matches first within each), then the id. One ascending number, so a cursor
 * holds it exactly and the keyset is a row comparison.
 */
export const RELEVANCE: ParsedSort = {
  name: 'relevance',
  field: { expr: sql`"search"."rank"`, type: 'double precision' },
  desc: false,
};

/** The sort asked for; by relevance when `q` is given without one. */
export function listSort(spec: AnySpec, query: { q?: string; sort?: string }): ParsedSort[] {
  return query.q !== undefined && query.sort === undefined
    ? [RELEVANCE]
    : parseSort(spec, query.sort);
}

/**
 * Restricts a list, export or count query to the matches of `q`: joins the resource's
 * search function (spec.search, migration 0015), which returns the ids and ranks of the
 * caller's matching rows through the trigram indexes, as "search". The query itself still
 * runs under the tenant policies, so the tenant is enforced twice. Without q, the query as
 * it is.
 */
export function withSearch<T extends PgSelect>(query: T, spec: AnySpec, q: string | undefined): T {
  if (q === undefined) return query;
  // Sorted by rank in a subquery the planner keeps (OFFSET 0): a page then looks up only
  // its own rows in the table, in order, instead of every match before a final sort.
  // "matches" counts them all, for searchTotal().
  return query.innerJoin(
    sql`(SELECT m.id, m.rank, count(*) OVER () AS matches FROM public.${sql.identifier(spec.search)}(${q}) m ORDER BY m.rank, m.id OFFSET 0) AS "search"`,
    sql`"search"."id" = ${spec.table.id}`,
  ) as unknown as T;
}

/** Selected beside a list's rows when `q` is given: how many rows the search matched. */
export function searchSelection(q: string | undefined): Record<string, SQL<string>> {
  return q === undefined ? {} : { search_matches: sql<string>`"search"."matches"` };
}

/**
 * The total of a search page without a count query: when `q` is the only filter, every
 * match of the search function is a row of the list (the function returns only rows the
 * caller's policy shows, one per id), so the number it matched is the total; the count
 * query would call the function and look up every match a second time. Undefined when
 * other filters apply or the page is empty.
 */
export function searchTotal(
  spec: AnySpec,
  query: FilterQuery,
  options: { rows: Array<Record<string, unknown>>; actor: Actor },
): number | undefined {
  if (
    query.q === undefined ||
    query.tag !== undefined ||
    query.owner_id !== undefined ||
    query.shared === 'only'
  ) {
    return undefined;
  }
  // An admin's search function matches every owner's rows: its count is the list's only
  // when the list shows everyone's (scope=all).
  const { rows, actor } = options;
  if (actor.kind === 'user' && actor.role === 'admin' && query.scope !== 'all') return undefined;
  if (Object.keys(spec.filters).some((name) => query[name] !== undefined)) return undefined;
  const matches = rows[0]?.search_matches;
  return matches === undefined ? undefined : Number(matches);
}

export type FilterQuery = Record<string, unknown> & {
  q?: string;
  tag?: string | string[];
  scope?: 'all';
  owner_id?: string;
  shared?: SharedMode;
};

/**
 * The WHERE condition of a list or export: the scope (the caller's own objects; an admin's
 * scope=all or owner_id), tags and typed filters.
 */
export async function filterCondition(
  spec: AnySpec,
  query: FilterQuery,
  actor: Actor,
  ctx: ReadContext,
): Promise<SQL | undefined> {
  const conditions: Array<SQL | undefined> = [];
  // Row-level security already limits a user to their own rows, but through the policy's
  // `owner_id = app_user_id() OR app_is_admin()`, which no index can serve: every owner's
  // rows would be read and filtered (a sequential scan at 1M rows, see bench/README.md).
  // Saying the same in the query lets the planner use the (owner_id, …) indexes. An admin's
  // policy shows every row: the scope restricts them to their own unless scope=all.
  const owner = scopeOwner(actor, query);
  // In the caller's own scope, objects other users shared with them (migration 0020) come too
  // unless shared=exclude; the share policies decide what is visible, this only says which.
  if (owner !== null && spec.share && actor.kind === 'user' && owner === actor.userId) {
    conditions.push(
      await ownScopeCondition(ctx.tx, spec.share, spec.table as never, owner, query.shared),
    );
  } else if (owner !== null) conditions.push(eq(spec.table.ownerId, owner));
  // q is not a condition here: its matches are joined (withSearch), ranked by the database.
  if (query.tag !== undefined) {
    const tags = Array.isArray(query.tag) ? query.tag : [query.tag];
    conditions.push(arrayContains(spec.table.tags, tags));
  }
  for (const [name, f] of Object.entries(spec.filters)) {
    const value = query[name];
    if (value !== undefined) conditions.push(await f.where(value as never, ctx));
  }
  return and(...conditions);
}

const cast = (type: SortField['type']) => sql.raw(type);

/** Keyset condition: rows strictly after the cursor in the given order (id breaks ties). */
export function keysetCondition(
  sort: ParsedSort[],
  idColumn: SQL | unknown,
  values: string[],
  id: string,
): SQL {
  const keys = [
    ...sort.map((s, i) => ({
      expr: s.field.expr,
      type: s.field.type,
      desc: s.desc,
      value: values[i],
    })),
    { expr: idColumn as SQL, type: 'uuid' as const, desc: sort[0]?.desc ?? false, value: id },
  ];
  const typed = (key: (typeof keys)[number]) => sql`${key.value}::${cast(key.type)}`;
  // All keys one way: a row comparison, which an index on (owner_id, key…, id) answers
  // directly; the OR form below is read as a filter over every row before the cursor.
  if (keys.every((key) => key.desc === keys[0]?.desc)) {
    const columns = sql.join(
      keys.map((key) => key.expr),
      sql`, `,
    );
    const cursor = sql.join(keys.map(typed), sql`, `);
    return keys[0]?.desc ? sql`(${columns}) < (${cursor})` : sql`(${columns}) > (${cursor})`;
  }
  const branches: SQL[] = [];
  for (let k = 0; k < keys.length; k++) {
    const parts: SQL[] = [];
    for (let j = 0; j < k; j++) {
      const key = keys[j];
      if (key) parts.push(sql`${key.expr} = ${key.value}::${cast(key.type)}`);
    }
    const key = keys[k];
    if (!key) continue;
    parts.push(
      key.desc
        ? sql`${key.expr} < ${key.value}::${cast(key.type)}`
        : sql`${key.expr} > ${key.value}::${cast(key.type)}`,
    );
    branches.push(and(...parts) as SQL);
  }
  return or(...branches) as SQL;
}

export function orderBy(sort: ParsedSort[], idColumn: unknown): SQL[] {
  const order = sort.map((s) => (s.desc ? sql`${s.field.expr} DESC` : sql`${s.field.expr} ASC`));
  order.push(sort[0]?.desc ? sql`${idColumn} DESC` : sql`${idColumn} ASC`);
  return order;
}

/** Sort values of a row as text, selected beside it to build the next cursor exactly. */
export function sortSelection(sort: ParsedSort[]): Record<string, SQL<string>> {
  const out: Record<string, SQL<string>> = {};
  sort.forEach((s, i) => {
    out[`s${i}`] = sql<string>`(${s.field.expr})::text`;
  });
  return out;
}

export function encodeListCursor(sort: ParsedSort[], values: string[], id: string): string {
  return encodeCursor([sort.map((s) => `${s.desc ? '-' : ''}${s.name}`).join(','), ...values, id]);
}

/** Decodes a cursor; it must have been issued for the same sort order. */
export function decodeListCursor(
  sort: ParsedSort[],
  cursor: string,
): { values: string[]; id: string } {
  // The order, each sort value (text its SQL type casts), the row id.
  const kinds = ['string' as const, ...sort.map((s) => s.field.type), 'uuid' as const];
  const [order, ...rest] = decodeCursor(cursor, kinds) as string[];
  const expected = sort.map((s) => `${s.desc ? '-' : ''}${s.name}`).join(',');
  if (order !== expected) {
    throw new BadRequestError(
      'This cursor belongs to another sort order; start again without it.',
      'invalid_cursor',
      [{ path: '/querystring/cursor', message: 'was issued for another sort order' }],
    );
  }
  const id = rest.pop() ?? '';
  return { values: rest, id };
}
