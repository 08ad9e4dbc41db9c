import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { auditContext } from '../../http/auth-hooks.js';
import { importErrorFields } from '../../http/import-batches.js';
import { registerJsonBodyParser } from '../../http/json-body.js';
import { formatBytes, formatCount, LIMITS } from '../../http/limits.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { Upload, uploadParser, uploadValidatorCompiler } from '../../http/upload.js';
import { writeAudit } from '../audit/write-audit.js';
import { CardDryRun, cardLines, cardUploadScanner, importCards } from './import-cards.js';

const { bytes, records, errors: listed } = LIMITS.import;

const ImportAnswer = Type.Object(
  {
    dry_run: Type.Boolean(),
    total: Type.Integer({ description: 'Cards read: created + duplicates + failed' }),
    created: Type.Integer(),
    duplicates: Type.Integer({ description: 'Codes you had, or that repeat in the upload' }),
    ...importErrorFields('Lines'),
  },
  {
    examples: [
      {
        dry_run: false,
        total: 5,
        created: 3,
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
 * POST /cards/import in a plugin of its own, whose body parser receives text uploads as an
 * Upload (bounded and counted while it arrives); a JSON string body is still read as the text.
 */
export const importRoute: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
  registerJsonBodyParser(app);
  app.addContentTypeParser(['text/plain', 'text/csv'], uploadParser(cardUploadScanner));

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
          'starting with # are skipped. Codes you already have, or that repeat in the upload, are counted as ' +
          'duplicates and skipped. value, currency, tags and expires_at apply to every imported card. ' +
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
        body: Type.String({
          maxLength: bytes,
          description: 'One card a line',
          examples: ['# batch 7\nAAAA-BBBB-CCCC-DDDD\nEEEE-FFFF-GGGG-HHHH,4711\n'],
        }),
        consumes: ['text/plain', 'text/csv'],
        response: { 200: ImportAnswer, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const q = request.query;
      const ownerId = ownerFor(request.actor, q.owner_id);
      const tags = q.tags === undefined ? undefined : Array.isArray(q.tags) ? q.tags : [q.tags];
      // A JSON string body is the text itself, counted like a received upload.
      const body = request.body as Upload | string;
      const upload = body instanceof Upload ? body : Upload.fromText(body, cardUploadScanner());
      try {
        return await app.tenant(request, async (tx) => {
          const result = await importCards({
            tx,
            request,
            keys: app.deps.keys,
            ownerId,
            lines: cardLines(upload),
            defaults: { value: q.value, currency: q.currency, tags, expires_at: q.expires_at },
            dryRun: q.dry_run,
          });
          await writeAudit(tx, auditContext(request), {
            action: 'card.import',
            entityType: 'card',
            ownerId,
            details: {
              created: result.created,
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
