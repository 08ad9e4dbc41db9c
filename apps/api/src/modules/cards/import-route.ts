import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { auditContext } from '../../http/auth-hooks.js';
import { importErrorFields } from '../../http/import-batches.js';
import { formatBytes, formatCount, LIMITS } from '../../http/limits.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { Upload, uploadParser, uploadValidatorCompiler } from '../../http/upload.js';
import { writeAudit } from '../audit/write-audit.js';
import {
  type CardFormat,
  cardJsonItems,
  cardJsonScanner,
  cardJsonText,
  cardTextItems,
  cardTextScanner,
} from './card-readers.js';
import { CardDryRun, importCards } from './import-cards.js';

const { bytes, records, errors: listed } = LIMITS.import;

const ImportAnswer = Type.Object(
  {
    dry_run: Type.Boolean(),
    format: Type.Union(
      [
        Type.Literal('lines'),
        Type.Literal('table-csv'),
        Type.Literal('codes-json'),
        Type.Literal('table-json'),
      ],
      {
        description:
          'What the upload was read as: lines (one card a line), table-csv (a dump of the earlier cards table), ' +
          'codes-json (the earlier card body, lists of codes), table-json (the earlier table rows as JSON)',
      },
    ),
    total: Type.Integer({ description: 'Cards read: created + updated + duplicates + failed' }),
    created: Type.Integer(),
    updated: Type.Integer({
      description: 'Earlier table rows whose code you had with other flags: that card updated',
    }),
    duplicates: Type.Integer({ description: 'Codes you had, or that repeat in the upload' }),
    ...importErrorFields('Lines'),
  },
  {
    examples: [
      {
        dry_run: false,
        format: 'lines',
        total: 5,
        created: 3,
        updated: 0,
        duplicates: 1,
        failed: 1,
        errors: [{ row: 6, message: 'has 3 fields; expected code1[,code2]' }],
        errors_total: 1,
        errors_truncated: false,
      },
    ],
  },
);

/**
 * POST /cards/import in a plugin of its own, whose body parsers receive every upload as an
 * Upload (bounded and counted while it arrives): text (lines or an earlier table dump) and
 * JSON (an array of code lists or table rows; a JSON string is still read as the text).
 */
export const importRoute: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['text/plain', 'text/csv'], uploadParser(cardTextScanner));
  app.addContentTypeParser('application/json', uploadParser(cardJsonScanner));

  app.post(
    '/cards/import',
    {
      bodyLimit: bytes,
      validatorCompiler: uploadValidatorCompiler,
      config: { heavy: true },
      schema: {
        tags: ['cards'],
        summary: 'Import cards',
        description:
          'Plain text (text/plain or text/csv), one card a line: `code1` or `code1,code2`. Blank lines and lines ' +
          "starting with # are skipped. The earlier AccountDB's formats are read too: its card body as " +
          'application/json, a list of lists of 1 or 2 codes (`[["CODE1","CODE2"],["CODE1"]]`); a dump of its cards ' +
          'table as CSV (psql `\\copy cards TO … CSV HEADER`, told by its header `id,code1,code2,redeemed,failed,lock,' +
          'perm_lock,owner_id`, any of those columns with code1) or as a JSON array of row objects. Table rows map ' +
          'redeemed, failed (the message), lock and perm_lock onto status, failure_reason and tags (docs/api.md); ' +
          'their id and owner_id are not kept. Rows and lines are numbered from 1 (JSON: the element). Codes you ' +
          'already have, or that repeat in the upload, are counted as duplicates and skipped, except that a table ' +
          "row whose code you have with other flags updates that card's status (updated). value, currency, tags and " +
          'expires_at apply to every imported card. A JSON upload that is not valid JSON writes nothing (400). ' +
          `dry_run=true checks everything and writes nothing. The answer lists the first ${listed} errors and ` +
          `counts them all (errors_total, errors_truncated). At most ${formatCount(records)} cards and ` +
          `${formatBytes(bytes)} per upload (400 too_many_records, 413): import more with \`accountdb import\`.`,
        querystring: Type.Object(
          {
            dry_run: Type.Boolean({ default: false }),
            value: Type.Optional(Type.Number({ minimum: 0, maximum: 999_999_999_999 })),
            currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$' })),
            tags: Type.Optional(
              Type.Union([
                Type.String({ maxLength: 64 }),
                Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 }),
              ]),
            ),
            expires_at: Type.Optional(Type.String({ format: 'date-time' })),
            owner_id: Type.Optional(
              Type.String({ format: 'uuid', description: 'Admins: import for this user' }),
            ),
          },
          { additionalProperties: false },
        ),
        body: Type.Union([
          Type.String({
            maxLength: bytes,
            description: 'One card a line, or a dump of the earlier cards table (CSV)',
            examples: ['# batch 7\nAAAA-BBBB-CCCC-DDDD\nEEEE-FFFF-GGGG-HHHH,4711\n'],
          }),
          Type.Array(Type.Array(Type.String({ maxLength: 500 }), { minItems: 1, maxItems: 2 }), {
            maxItems: records,
            description: 'The earlier card body: lists of 1 or 2 codes',
            examples: [[['AAAA-BBBB-CCCC-DDDD', '4711'], ['EEEE-FFFF-GGGG-HHHH']]],
          }),
          Type.Array(
            Type.Object(
              {
                id: Type.Optional(Type.Integer()),
                code1: Type.String({ maxLength: 500 }),
                code2: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
                redeemed: Type.Optional(
                  Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })]),
                ),
                failed: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
                lock: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])),
                perm_lock: Type.Optional(
                  Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })]),
                ),
                owner_id: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
              },
              { additionalProperties: false },
            ),
            { maxItems: records, description: 'Rows of the earlier cards table' },
          ),
        ]),
        consumes: ['text/plain', 'text/csv', 'application/json'],
        response: { 200: ImportAnswer, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const q = request.query;
      const ownerId = ownerFor(request.actor, q.owner_id);
      const tags = q.tags === undefined ? undefined : Array.isArray(q.tags) ? q.tags : [q.tags];
      const received = request.body as unknown as Upload;
      // A JSON string body is the text itself, counted like a received upload.
      const upload =
        received.scan.format === 'json-text'
          ? Upload.fromText(cardJsonText(received), cardTextScanner())
          : received;
      let format = (
        upload.scan.format === 'json-array' ? 'codes-json' : upload.scan.format
      ) as CardFormat;
      const items =
        upload.scan.format === 'json-array'
          ? cardJsonItems(upload, (f) => {
              format = f;
            })
          : cardTextItems(upload);
      try {
        return await app.tenant(request, async (tx) => {
          const result = await importCards({
            tx,
            request,
            keys: app.deps.keys,
            ownerId,
            items,
            format: () => format,
            defaults: { value: q.value, currency: q.currency, tags, expires_at: q.expires_at },
            dryRun: q.dry_run,
          });
          await writeAudit(tx, auditContext(request), {
            action: 'card.import',
            entityType: 'card',
            ownerId,
            details: {
              format: result.format,
              created: result.created,
              updated: result.updated,
              duplicates: result.duplicates,
              failed: result.failed,
            },
          });
          return result;
        });
      } catch (err) {
        if (err instanceof CardDryRun) return err.result;
        throw err;
      }
    },
  );
};
