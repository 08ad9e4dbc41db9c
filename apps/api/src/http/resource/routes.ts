import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, count, eq, inArray, type SQL } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TObject, type TSchema, Type } from 'typebox';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { writeAudit } from '../../modules/audit/write-audit.js';
import { withShares } from '../../modules/grants/shares.js';
import { auditContext } from '../auth-hooks.js';
import { validatorFor } from '../body-validator.js';
import { loggableError } from '../error-handler.js';
import { AppError, ForbiddenError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { ownerFor } from '../owner-for.js';
import { problemResponses } from '../problem.js';
import { ReasonParam, revealReason, scopeOwner, showsOthers, withOwners } from '../scope.js';
import { csvLine } from './csv.js';
import { writeProblem } from './errors.js';
import {
  EXPORT_ERROR_KEY,
  EXPORT_FAILED_CSV,
  EXPORT_STATUS_TRAILER,
  type ExportColumn,
  exportBody,
  withFirstPage,
} from './export-stream.js';
import { type BulkRowError, insertRows } from './insert-rows.js';
import {
  type AnySpec,
  decodeListCursor,
  encodeListCursor,
  type FilterQuery,
  filterCondition,
  filterProperties,
  keysetCondition,
  listQuerySchema,
  listSort,
  orderBy,
  type ParsedSort,
  searchSelection,
  searchTotal,
  sortSelection,
  withSearch,
} from './list.js';
import {
  etagOf,
  ifMatchVersion,
  loadRow,
  mapInOrder,
  stripVersion,
  type Versioned,
  withVersion,
} from './rows.js';
import type { ReadContext, WriteContext } from './spec.js';

export const MAX_BULK = LIMITS.bulk.items;
const EXPORT_PAGE = 1000;

const IdParams = Type.Object({
  id: Type.String({
    format: 'uuid',
    description: 'Object id',
    examples: ['0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f'],
  }),
});
const OwnerField = Type.Optional(
  Type.String({
    format: 'uuid',
    description: 'Admins: create the object for this user (default: yourself)',
  }),
);

/** The examples a schema carries (for the OpenAPI examples of derived schemas). */
const examplesOf = (schema: TSchema): unknown[] =>
  (schema as { examples?: unknown[] }).examples ?? [];

function withOwner(body: TObject): TObject {
  const examples = examplesOf(body);
  return Type.Object(
    { ...body.properties, owner_id: OwnerField },
    { additionalProperties: false, ...(examples.length > 0 ? { examples } : {}) },
  );
}

function rethrowWrite(spec: AnySpec, err: unknown): never {
  throw writeProblem(spec, err) ?? err;
}

/**
 * Serves the standard routes of one resource: list, create, get, update, delete, bulk,
 * bulk-delete and export, all through the request's tenant transaction, with ETags,
 * per-row bulk errors, audit entries and OpenAPI descriptions.
 */
export function registerResourceRoutes(fastify: FastifyInstance, spec: AnySpec): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { table, entity, path } = spec;
  const label = spec.label ?? entity.replace(/_/g, ' ');
  const base = `/${path}`;
  const keys = app.deps.keys;
  const dtoRef = Type.Ref((spec.dto as TObject & { $id: string }).$id);
  const createBody = withOwner(spec.createBody);
  const validateCreate = validatorFor(createBody);
  const dtoExample = examplesOf(spec.dto)[0];
  const Page = Type.Object(
    {
      items: Type.Array(dtoRef),
      next_cursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as cursor for the next page; null on the last',
      }),
      total: Type.Union([Type.Integer(), Type.Null()], {
        description:
          'Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted).',
      }),
    },
    {
      examples: [
        {
          items: dtoExample === undefined ? [] : [dtoExample],
          next_cursor:
            'WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd',
          total: 120,
        },
      ],
    },
  );
  app.addSchema(spec.dto);

  const readCtx = (tx: Tx, request: FastifyRequest): ReadContext => ({ tx, request, keys });
  const toDto = (row: Versioned<object>, ctx: ReadContext) =>
    spec.toDto(stripVersion(row) as never, ctx);
  /** Objects shared with the caller carry shared_by and permission (migration 0020). */
  const shared = <T extends { id: string; owner_id: string }>(
    tx: Tx,
    request: FastifyRequest,
    items: T[],
  ): Promise<T[]> =>
    spec.share ? withShares(tx, request.actor, spec.share, items) : Promise.resolve(items);
  /**
   * The row a PATCH or DELETE changes, locked. A share that does not allow it: a read share
   * answers 403 share_read_only (the lock, which needs the write policy, finds nothing, a
   * plain read does), and a DELETE of another user's object by a user who is not an admin
   * 403 owner_only (a grantee never deletes; the database would delete nothing).
   */
  const lockForWrite = async (
    tx: Tx,
    request: FastifyRequest,
    id: string,
    deleting: boolean,
  ): Promise<Versioned<{ id: string; ownerId: string }>> => {
    const row = await loadRow<{ id: string; ownerId: string }>(tx, table, id, { forUpdate: true });
    const actor = request.actor;
    if (!row) {
      if (spec.share && (await loadRow(tx, table, id))) {
        throw new ForbiddenError(`This ${label} is shared with you read-only.`, 'share_read_only');
      }
      throw new NotFoundError(label);
    }
    if (
      deleting &&
      actor.kind === 'user' &&
      actor.role !== 'admin' &&
      row.ownerId !== actor.userId
    ) {
      throw new ForbiddenError(`Only the owner may delete this ${label}.`, 'owner_only');
    }
    return row;
  };

  /**
   * A grantee with a read-write share changes the object's own fields, never its links to
   * the owner's other objects (a VM's node or account), which they cannot see: 403
   * owner_only (migration 0021 refuses it in the database too).
   */
  const refuseSharedLinks = (request: FastifyRequest, ownerId: string) => {
    const actor = request.actor;
    if (!spec.share || actor.kind !== 'user' || actor.role === 'admin') return;
    if (ownerId === actor.userId) return;
    const sent = Object.keys(spec.links ?? {}).filter(
      (field) => field in ((request.body ?? {}) as object),
    );
    if (sent.length > 0) {
      throw new ForbiddenError(
        `Only the owner links this ${label} to their other objects (${sent.join(', ')}).`,
        'owner_only',
      );
    }
  };

  app.get(
    base,
    {
      schema: {
        tags: [path],
        summary: `List ${path}`,
        description: `${spec.description} Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, \`q\` lists the best matches first. \`total\` is null unless \`count=true\` is asked, the first page holds every match, or \`q\` is the only filter (the search counts its matches anyway).`,
        querystring: listQuerySchema(spec),
        response: { 200: Page, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const query = request.query as FilterQuery & {
        limit: number;
        cursor?: string;
        sort?: string;
        count?: boolean;
      };
      const sort = listSort(spec, query);
      const after = query.cursor ? decodeListCursor(sort, query.cursor) : null;
      return app.tenant(request, async (tx) => {
        const where = await filterCondition(spec, query, request.actor, readCtx(tx, request));
        const rows = (await withSearch(
          tx
            .select({
              ...withVersion(table),
              ...sortSelection(sort),
              ...searchSelection(query.q),
            } as never)
            .from(table as never)
            .$dynamic(),
          spec,
          query.q,
        )
          .where(
            and(where, after ? keysetCondition(sort, table.id, after.values, after.id) : undefined),
          )
          .orderBy(...orderBy(sort, table.id))
          .limit(query.limit + 1)) as Array<Versioned<{ id: string }> & Record<string, string>>;
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        // A first page that holds every match is its own count (the usual search): the
        // matching rows are then read once, not twice. Otherwise the count is a query of its
        // own, made only when asked (the web asks once, for the first page).
        const total =
          !after && rows.length <= query.limit
            ? rows.length
            : (searchTotal(spec, query, { rows, actor: request.actor }) ??
              (!query.count
                ? null
                : Number(
                    (
                      (await withSearch(
                        tx
                          .select({ n: count() })
                          .from(table as never)
                          .$dynamic(),
                        spec,
                        query.q,
                      ).where(where)) as Array<{ n: number }>
                    )[0]?.n ?? 0,
                  )));
        const ctx = readCtx(tx, request);
        await spec.prepareRead?.(page.map((r) => stripVersion(r)) as never, ctx);
        const items = await shared(
          tx,
          request,
          (await mapInOrder(page, (r) => toDto(r, ctx))) as Array<{ id: string; owner_id: string }>,
        );
        return {
          // Everyone's objects (an admin's scope=all or owner_id): each says whose it is.
          items: showsOthers(request.actor, scopeOwner(request.actor, query))
            ? await withOwners(tx, items)
            : items,
          next_cursor:
            rows.length > query.limit && last
              ? encodeListCursor(
                  sort,
                  sort.map((_, i) => String(last[`s${i}`])),
                  last.id,
                )
              : null,
          total,
        };
      });
    },
  );

  app.post(
    base,
    {
      schema: {
        tags: [path],
        summary: `Create ${a(label)}`,
        description: `Creates ${a(label)}. Answers 201 with the object, its ETag and Location.`,
        body: createBody,
        response: { 201: dtoRef, ...problemResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const { owner_id, ...body } = request.body as Record<string, unknown> & { owner_id?: string };
      const ownerId = ownerFor(request.actor, owner_id);
      const { row, dto } = await app
        .tenant(request, async (tx) => {
          const ctx: WriteContext = { tx, request, ownerId, keys, rowId: uuidv7() };
          const values = await spec.toInsert(body, ctx);
          const [row] = (await tx
            .insert(table)
            .values({ ...values, id: ctx.rowId, ownerId } as never)
            .returning(withVersion(table) as never)) as Versioned<{
            id: string;
            ownerId: string;
          }>[];
          if (!row) throw new Error('insert returned no row');
          await spec.afterWrite?.({ before: null, after: stripVersion(row), ctx });
          await writeAudit(tx, auditContext(request), {
            action: `${entity}.create`,
            entityType: entity,
            entityId: row.id,
            ownerId,
            details: { fields: Object.keys(body) },
          });
          return { row, dto: { ...(await toDto(row, readCtx(tx, request))), ...ctx.respond } };
        })
        .catch((err) => rethrowWrite(spec, err));
      return reply
        .code(201)
        .header('etag', etagOf(row._version))
        .header('location', `/api/v1/${path}/${row.id}`)
        .send(dto);
    },
  );

  app.get(
    `${base}/:id`,
    {
      schema: {
        tags: [path],
        summary: `Get ${a(label)}`,
        description:
          `One ${label} with its ETag (send it back in If-Match to update safely). Another user's ${label} answers 404; ` +
          `an admin reads it (a direct link works whatever the list scope), and it then carries its owner.` +
          (spec.toDetail
            ? ` This answer reveals secrets (audited): another user's ${label} is revealed to an admin only with a reason, and answers as lists show it (masked, not audited) without one.`
            : ''),
        params: IdParams,
        ...(spec.toDetail
          ? {
              querystring: Type.Object({ reason: ReasonParam }, { additionalProperties: false }),
            }
          : {}),
        response: { 200: dtoRef, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { row, dto } = await app.tenant(request, async (tx) => {
        const row = await loadRow<{ id: string; ownerId: string }>(tx, table, request.params.id);
        if (!row) throw new NotFoundError(label);
        const ctx = readCtx(tx, request);
        await spec.prepareRead?.([stripVersion(row)] as never, ctx);
        const actor = request.actor;
        const others = actor.kind === 'user' && row.ownerId !== actor.userId;
        const admin = actor.kind === 'user' && actor.role === 'admin';
        const asked = (request.query as { reason?: string } | undefined)?.reason;
        // Another user's secrets are revealed to an admin only with a reason (written to the
        // owner's audit log by toDetail); without one the object answers as lists show it.
        // An object shared with a grantee answers as lists show it (secrets have their own
        // routes, which check the share).
        const reveal = spec.toDetail && (!others || (admin && asked !== undefined));
        if (reveal) ctx.reason = revealReason(actor, row.ownerId, asked);
        const dto = (
          reveal && spec.toDetail
            ? await spec.toDetail(stripVersion(row) as never, ctx)
            : await toDto(row, ctx)
        ) as { owner_id: string };
        const [withShare] = await shared(tx, request, [dto as { id: string; owner_id: string }]);
        return {
          row,
          dto: others && admin ? (await withOwners(tx, [withShare ?? dto]))[0] : (withShare ?? dto),
        };
      });
      return reply.header('etag', etagOf(row._version)).send(dto);
    },
  );

  app.patch(
    `${base}/:id`,
    {
      schema: {
        tags: [path],
        summary: `Update ${a(label)}`,
        description:
          `Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing.` +
          (spec.share
            ? ` A ${label} shared with you read-only answers 403 share_read_only; a read-write share may change it.`
            : ''),
        params: IdParams,
        headers: Type.Object({
          'if-match': Type.Optional(Type.String({ description: 'ETag from a GET' })),
        }),
        body: spec.updateBody,
        response: { 200: dtoRef, ...problemResponses(400, 401, 403, 404, 409, 412, 422) },
      },
    },
    async (request, reply) => {
      const expected = ifMatchVersion(request.headers['if-match']);
      const { row, dto } = await app
        .tenant(request, async (tx) => {
          const current = await lockForWrite(tx, request, request.params.id, false);
          if (expected !== null && expected !== current._version)
            throw new PreconditionFailedError();
          const ctx: WriteContext = {
            tx,
            request,
            ownerId: current.ownerId,
            keys,
            rowId: current.id,
          };
          refuseSharedLinks(request, current.ownerId);
          const before = stripVersion(current);
          const changes = await spec.toUpdate(request.body, before, ctx);
          let row: typeof current | undefined = current;
          if (Object.keys(changes).length > 0) {
            [row] = (await tx
              .update(table)
              .set(changes as never)
              .where(eq(table.id, current.id))
              .returning(withVersion(table) as never)) as Array<typeof current>;
            if (!row) throw new NotFoundError(label);
            await spec.afterWrite?.({ before, after: stripVersion(row), ctx });
          }
          await writeAudit(tx, auditContext(request), {
            action: `${entity}.update`,
            entityType: entity,
            entityId: current.id,
            ownerId: current.ownerId,
            details: { fields: Object.keys(request.body as object) },
          });
          const [dto] = await shared(tx, request, [
            (await toDto(row, readCtx(tx, request))) as { id: string; owner_id: string },
          ]);
          return { row, dto };
        })
        .catch((err) => rethrowWrite(spec, err));
      return reply.header('etag', etagOf(row._version)).send(dto);
    },
  );

  app.delete(
    `${base}/:id`,
    {
      schema: {
        tags: [path],
        summary: `Delete ${a(label)}`,
        description:
          `Deletes the ${label}; links pointing at it are cleared. With If-Match, a stale ETag answers 412.` +
          (spec.share
            ? ` Only its owner (or an admin) deletes it: a user it is shared with gets 403 (owner_only, or share_read_only for a read-only share).`
            : ''),
        params: IdParams,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 412) },
      },
    },
    async (request, reply) => {
      const expected = ifMatchVersion(request.headers['if-match']);
      await app.tenant(request, async (tx) => {
        const current = await lockForWrite(tx, request, request.params.id, true);
        if (expected !== null && expected !== current._version) throw new PreconditionFailedError();
        await tx.delete(table).where(eq(table.id, current.id));
        await writeAudit(tx, auditContext(request), {
          action: `${entity}.delete`,
          entityType: entity,
          entityId: current.id,
          ownerId: current.ownerId,
        });
      });
      if (spec.holdsCredential) app.deps.credentials.forget({ nodeId: request.params.id });
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${base}/bulk`,
    {
      bodyLimit: LIMITS.bulk.bytes,
      config: { heavy: true },
      schema: {
        tags: [path],
        summary: `Create many ${path}`,
        description:
          `Creates up to ${MAX_BULK} ${path} in one transaction. Each item is validated like POST ${base}. ` +
          'When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row ' +
          '(errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the ' +
          'failed ones reported.',
        querystring: Type.Object(
          {
            partial: Type.Boolean({
              default: false,
              description: 'Write the valid items even when some fail',
            }),
          },
          { additionalProperties: false },
        ),
        body: Type.Object(
          {
            items: Type.Array(Type.Object({}, { additionalProperties: true }), {
              minItems: 1,
              maxItems: MAX_BULK,
            }),
          },
          { additionalProperties: false, examples: [{ items: examplesOf(spec.createBody) }] },
        ),
        response: {
          200: Type.Object({
            created: Type.Integer(),
            failed: Type.Integer(),
            ids: Type.Array(Type.String({ format: 'uuid' }), {
              description: 'Ids of the created objects, in item order',
            }),
            errors: Type.Array(
              Type.Object({
                row: Type.Integer({ description: '0-based item index' }),
                errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
              }),
            ),
          }),
          ...problemResponses(400, 401, 403, 413, 422),
        },
      },
    },
    async (request) => {
      const { items } = request.body as { items: Array<Record<string, unknown>> };
      const partial = (request.query as { partial: boolean }).partial;
      const result = await app.tenant(request, async (tx) => {
        const errors: BulkRowError[] = [];
        const prepared: Array<{
          index: number;
          values: Record<string, unknown>;
          ctx: WriteContext;
        }> = [];
        for (const [index, item] of items.entries()) {
          const fieldErrs = validateCreate(item, `body/items/${index}`);
          if (fieldErrs.length > 0) {
            errors.push({ row: index, errors: fieldErrs });
            continue;
          }
          const { owner_id, ...body } = item as Record<string, unknown> & { owner_id?: string };
          try {
            const ownerId = ownerFor(request.actor, owner_id);
            const ctx: WriteContext = { tx, request, ownerId, keys, rowId: uuidv7() };
            prepared.push({
              index,
              values: { ...(await spec.toInsert(body, ctx)), id: ctx.rowId, ownerId },
              ctx,
            });
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            errors.push({
              row: index,
              errors: (err.extra.errors ?? [{ path: '/body', message: err.message }]).map((e) => ({
                ...e,
                path: e.path.replace(/^\/body(?!\/items\/)/, `/body/items/${index}`),
              })),
            });
          }
        }
        if (errors.length > 0 && !partial) throw bulkFailed(errors);
        const ids = await insertRows(tx, spec, prepared, errors);
        if (errors.length > 0 && !partial) throw bulkFailed(errors);
        await writeAudit(tx, auditContext(request), {
          action: `${entity}.bulk_create`,
          entityType: entity,
          details: { created: ids.length, failed: errors.length },
        });
        errors.sort((x, y) => x.row - y.row);
        return { created: ids.length, failed: errors.length, ids, errors };
      });
      return result;
    },
  );

  app.post(
    `${base}/bulk-delete`,
    {
      config: { heavy: true },
      schema: {
        tags: [path],
        summary: `Delete many ${path}`,
        description: `Deletes up to ${MAX_BULK} listed ${path} in one transaction. Ids that do not exist (or are not yours) are reported in not_found.`,
        body: Type.Object(
          {
            ids: Type.Array(Type.String({ format: 'uuid' }), {
              minItems: 1,
              maxItems: MAX_BULK,
              uniqueItems: true,
            }),
          },
          {
            additionalProperties: false,
            examples: [
              {
                ids: [
                  '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
                  '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70',
                ],
              },
            ],
          },
        ),
        response: {
          200: Type.Object({
            deleted: Type.Integer(),
            not_found: Type.Array(Type.String({ format: 'uuid' })),
          }),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { ids } = request.body;
      const answer = await app.tenant(request, async (tx) => {
        const deleted = (await tx
          .delete(table)
          .where(inArray(table.id, ids))
          .returning({ id: table.id } as never)) as Array<{ id: string }>;
        const gone = new Set(deleted.map((d) => d.id));
        await writeAudit(tx, auditContext(request), {
          action: `${entity}.bulk_delete`,
          entityType: entity,
          details: { deleted: deleted.length, ids: deleted.slice(0, 100).map((d) => d.id) },
        });
        return { deleted: deleted.length, not_found: ids.filter((id) => !gone.has(id)) };
      });
      if (spec.holdsCredential && answer.deleted > 0) {
        for (const id of ids) app.deps.credentials.forget({ nodeId: id });
      }
      return answer;
    },
  );

  const extraFormats = spec.exportFormats ?? {};
  const formatNames = ['csv', 'json', ...Object.keys(extraFormats)];
  /** The list filters an export takes, with their defaults (a default is not a filter given). */
  const exportFilterDefaults = new Map(
    Object.entries(filterProperties(spec)).map(([name, schema]) => [
      name,
      (schema as { default?: unknown }).default,
    ]),
  );
  const exportQuery = Type.Object(
    {
      format: Type.Union(
        formatNames.map((f) => Type.Literal(f)),
        {
          default: 'json',
          description: [
            'csv or json: the fields of the API',
            ...Object.entries(extraFormats).map(([name, f]) => `${name}: ${f.description}`),
          ].join('; '),
        },
      ),
      sort: Type.Optional(Type.String({ maxLength: 200, pattern: '^-?[a-z_]+(,-?[a-z_]+)*$' })),
      ...filterProperties(spec),
      ...(spec.exportQuery ?? {}),
      ...(spec.exportQuery ? { reason: ReasonParam } : {}),
    },
    { additionalProperties: false },
  );

  app.get(
    `${base}/export`,
    {
      config: { heavy: true },
      schema: {
        tags: [path],
        summary: `Export ${path}`,
        description:
          `Streams every ${entity} matching the list filters as CSV or a JSON array (same fields as the API). ` +
          `Audited. ${spec.exportDescription ?? ''} ` +
          `A row that cannot be read in the first ${EXPORT_PAGE} fails the request (problem answer). One that fails later, ` +
          'once the file has started, ends it with an error so it never passes for complete: JSON gets a last line ' +
          `{"${EXPORT_ERROR_KEY}": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last ` +
          `record "${EXPORT_FAILED_CSV}: …" with one field more than the header. The HTTP trailer ${EXPORT_STATUS_TRAILER} ` +
          'says ok or failed.',
        querystring: exportQuery,
        produces: ['application/json', 'text/csv'],
        response: {
          200: {
            description: 'The export, sent as a file download',
            content: {
              'application/json': {
                schema: Type.Array(dtoRef, {
                  examples: [dtoExample === undefined ? [] : [dtoExample]],
                }),
              },
              'text/csv': {
                schema: Type.String({
                  description: 'UTF-8 with a byte-order mark, a header row, CRLF line ends',
                  examples: [
                    csvLine(spec.csv.map((c) => c.header)) +
                      (dtoExample === undefined
                        ? ''
                        : csvLine(spec.csv.map((c) => c.value(dtoExample)))),
                  ],
                }),
              },
            },
          } as unknown, // a streamed file: typed loosely so that the stream can be sent
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const query = request.query as FilterQuery & {
        format: string;
        sort?: string;
        reason?: string;
      };
      const sort = listSort(spec, query);
      const extra = extraFormats[query.format];
      const bodyFormat = extra ? extra.body : (query.format as 'csv' | 'json');
      const exporter = extra
        ? await extra.exporter(request, query)
        : spec.exportRow
          ? await spec.exportRow(request, query)
          : null;
      const owner = scopeOwner(request.actor, query);
      // An export with secrets in clear (include_secrets, include_codes) of other users'
      // objects is a reveal: it needs a reason, which the audit entry keeps.
      const revealing = Object.keys(spec.exportQuery ?? {}).some(
        (name) => name.startsWith('include_') && query[name] === true,
      );
      const reason =
        revealing && showsOthers(request.actor, owner)
          ? revealReason(request.actor, owner ?? '', query.reason)
          : undefined;
      const where = await app.tenant(request, async (tx) => {
        const condition = await filterCondition(spec, query, request.actor, readCtx(tx, request));
        // The filters run once before the answer starts: a value the database refuses is then
        // a 4xx (and no audit entry), not a 200 whose stream breaks on its first page.
        await withSearch(
          tx
            .select({ id: table.id } as never)
            .from(table as never)
            .$dynamic(),
          spec,
          query.q,
        )
          .where(condition)
          .limit(1);
        const details = {
          format: query.format,
          // The list filters given (names only); what the export included (include_secrets,
          // include_codes) is its own detail, only when asked, and scope is too.
          filters: Object.keys(query).filter(
            (k) =>
              exportFilterDefaults.has(k) &&
              k !== 'scope' &&
              query[k] !== undefined &&
              query[k] !== exportFilterDefaults.get(k),
          ),
          ...(query.scope === 'all' ? { scope: 'all' } : {}),
          ...(exporter?.auditDetails ?? {}),
          ...(reason !== undefined ? { reason } : {}),
        };
        await writeAudit(tx, auditContext(request), {
          action: `${entity}.export`,
          entityType: entity,
          // One user's objects (owner_id): the entry is theirs, so they see it.
          ...(owner !== null ? { ownerId: owner } : {}),
          details,
        });
        // Everyone's secrets (scope=all): each other user whose objects the export holds gets
        // the entry too, with the reason, in their own audit log.
        if (reason !== undefined && owner === null) {
          const others = await withSearch(
            tx
              .selectDistinct({ ownerId: table.ownerId } as never)
              .from(table as never)
              .$dynamic(),
            spec,
            query.q,
          ).where(condition);
          for (const { ownerId } of others as unknown as Array<{ ownerId: string }>) {
            if (request.actor.kind === 'user' && ownerId === request.actor.userId) continue;
            await writeAudit(tx, auditContext(request), {
              action: `${entity}.export`,
              entityType: entity,
              ownerId,
              details,
            });
          }
        }
        return condition;
      });
      const pages = exportPages({
        app,
        request,
        spec,
        sort,
        where,
        q: query.q,
        toRow: exporter?.toRow,
      });
      // The first page is read before the answer starts: a row that cannot be read there (a
      // secret that does not decrypt…) fails the request as a problem answer, not a 200.
      const first = await pages.next();
      const date = new Date().toISOString().slice(0, 10);
      const outcome = { status: 'ok' as 'ok' | 'failed' };
      reply
        .header(
          'content-type',
          bodyFormat === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        )
        .header(
          'content-disposition',
          `attachment; filename="${path}-${extra ? `${query.format}-` : ''}${date}.${bodyFormat}"`,
        )
        .trailer(EXPORT_STATUS_TRAILER, async () => outcome.status);
      const body = exportBody({
        format: bodyFormat,
        csv: extra?.csv,
        columns: (exporter?.columns ?? spec.csv) as ExportColumn[],
        pages: withFirstPage(first, pages),
        fail: (error, rows) => {
          outcome.status = 'failed';
          request.log.error(
            { ...loggableError(error as Error), rows },
            'export failed after the answer started',
          );
          return {
            code: 'export_failed',
            detail:
              `The export stopped after ${rows} row(s) because of an error; this file is incomplete. ` +
              `Quote request id ${request.id} when reporting it.`,
            rows,
            request_id: request.id,
          };
        },
      });
      return reply.send(Readable.from(body));
    },
  );
}

function bulkFailed(errors: BulkRowError[]): AppError {
  const sorted = [...errors].sort((x, y) => x.row - y.row);
  return new AppError(422, 'bulk_failed', `${errors.length} item(s) failed; nothing was written.`, {
    errors: sorted.flatMap((e) => e.errors),
  });
}

async function* exportPages(options: {
  app: FastifyInstance;
  request: FastifyRequest;
  spec: AnySpec;
  sort: ParsedSort[];
  where: SQL | undefined;
  q: string | undefined;
  toRow?: ((row: unknown, ctx: ReadContext) => Promise<unknown>) | undefined;
}): AsyncGenerator<unknown[]> {
  const { app, request, spec, sort, where } = options;
  const table = spec.table;
  let after: { values: string[]; id: string } | null = null;
  for (;;) {
    const cursor: { values: string[]; id: string } | null = after;
    const { items, last } = await app.tenant(request, async (tx) => {
      const rows = (await withSearch(
        tx
          .select({ ...withVersion(table), ...sortSelection(sort) } as never)
          .from(table as never)
          .$dynamic(),
        spec,
        options.q,
      )
        .where(
          and(
            where,
            cursor ? keysetCondition(sort, table.id, cursor.values, cursor.id) : undefined,
          ),
        )
        .orderBy(...orderBy(sort, table.id))
        .limit(EXPORT_PAGE)) as Array<Versioned<{ id: string }> & Record<string, string>>;
      const ctx: ReadContext = { tx, request, keys: app.deps.keys };
      await spec.prepareRead?.(rows.map((r) => stripVersion(r)) as never, ctx);
      const items = await mapInOrder(rows, (r) =>
        options.toRow
          ? options.toRow(stripVersion(r), ctx)
          : spec.toDto(stripVersion(r) as never, ctx),
      );
      return { items, last: rows.length === EXPORT_PAGE ? rows.at(-1) : undefined };
    });
    if (items.length > 0) yield items;
    if (!last) return;
    after = { values: sort.map((_, i) => String(last[`s${i}`])), id: last.id };
  }
}

const a = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

export type { TSchema };
