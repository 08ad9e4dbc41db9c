import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { auditContext } from '../../http/auth-hooks.js';
import { InvalidJsonError } from '../../http/errors.js';
import { importErrorFields } from '../../http/import-batches.js';
import { formatBytes, formatCount, LIMITS } from '../../http/limits.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { type Upload, uploadParser, uploadValidatorCompiler } from '../../http/upload.js';
import { writeAudit } from '../audit/write-audit.js';
import { encryptedMaFileAware } from './encrypted-upload.js';
import {
  DryRunRollback,
  IGNORED_LISTED,
  type ImportResult,
  importAccounts,
} from './import-accounts.js';
import { IMPORT_FORMATS, type ImportFormat } from './import-formats.js';
import {
  accountRecords,
  accountUploadScanner,
  formatOf,
  type ReadFormat,
} from './import-readers.js';

const { bytes, records, errors: listed } = LIMITS.import;

/** Content types an account import is read from; text/plain is told apart by its content. */
const UPLOAD_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'text/csv',
  'text/plain',
];

const ImportAnswer = Type.Object(
  {
    dry_run: Type.Boolean(),
    format: Type.String({
      description:
        'The format the upload was read in: json, jsonl or csv (AccountDB fields, .maFiles), or one of the ' +
        "earlier AccountDB's: legacy-json (its upload objects), legacy-table-json (rows of its accounts " +
        'table), legacy-csv (its dotted-header upload CSV or template), legacy-table-csv (a CSV dump of its ' +
        'accounts table)',
    }),
    total: Type.Integer({ description: 'Records read: created + updated + failed' }),
    created: Type.Integer(),
    updated: Type.Integer(),
    ...importErrorFields('Records'),
    ignored_fields: Type.Array(
      Type.Object({
        field: Type.String({
          description: 'The field as the records name it (dotted for nested keys: metadata.note)',
        }),
        records: Type.Integer({ description: 'How many records had it' }),
      }),
      {
        maxItems: IGNORED_LISTED,
        description:
          "Fields the import read past instead of importing (keys of the earlier upload format it does not know; other formats refuse unknown fields as a record's error), so that a dry run shows what would be left behind. The first " +
          `${IGNORED_LISTED} names.`,
      },
    ),
    ignored_fields_truncated: Type.Boolean({
      description: 'More ignored fields than the list shows',
    }),
  },
  {
    examples: [
      {
        dry_run: false,
        format: 'json',
        total: 4,
        created: 2,
        updated: 1,
        failed: 1,
        errors: [{ row: 4, message: 'username is required' }],
        errors_total: 1,
        errors_truncated: false,
        ignored_fields: [],
        ignored_fields_truncated: false,
      },
    ],
  },
);

/**
 * POST /accounts/import in a plugin of its own, whose body parser receives uploads of every
 * import format as an Upload (bounded and scanned while it arrives) instead of parsing them.
 */
export const importRoute: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    UPLOAD_TYPES,
    uploadParser((request) => {
      const type = request.headers['content-type'];
      return encryptedMaFileAware(
        accountUploadScanner(formatOf((request.query as { format?: unknown }).format, type), {
          strict: isJsonType(type),
        }),
      );
    }),
  );

  app.post(
    '/accounts/import',
    {
      bodyLimit: bytes,
      validatorCompiler: uploadValidatorCompiler,
      config: { heavy: true },
      schema: {
        tags: ['accounts'],
        summary: 'Import accounts',
        description:
          'Uploads accounts as a JSON array (or one object), JSON lines (application/x-ndjson) or CSV with a header ' +
          "row (text/csv). Each record may use AccountDB's field names (as POST /accounts), the earlier AccountDB's " +
          'upload format ({id, user:{username,password}, email, vault, metadata, steamguard, prime, lock, ' +
          'perm_lock}), a row of its accounts table ({acc_id, acc_username, …}), or be a Steam Guard .maFile. A CSV ' +
          "whose header has the earlier system's dotted columns (user.username, …; its web UI's template too) or its " +
          "accounts table's columns (acc_id, …: a psql CSV dump) is read as that format; the answer's format says " +
          'which was read. Earlier flags become status and tags (perm_lock: disabled; lock: locked; prime: tag ' +
          'prime), metadata.createdAt/acc_created_at the created_at. ' +
          'A record whose external_id matches one of your accounts updates it; others are created. Bad ' +
          'records are reported by row (1-based; CSV: line number), each error naming the field as the record ' +
          "names it (user.username, acc_username, a .maFile's account_name; never the value), and the rest " +
          'imported; the answer lists the ' +
          `first ${listed} errors and counts them all (errors_total, errors_truncated). dry_run=true checks ` +
          `everything and writes nothing. At most ${formatCount(records)} records and ${formatBytes(bytes)} per ` +
          'upload (400 too_many_records, 413): import more with `accountdb import`, which sends batches. A JSON ' +
          'upload that is not valid JSON writes nothing: 400 invalid_json as application/json, else one error.',
        querystring: Type.Object(
          {
            dry_run: Type.Boolean({ default: false }),
            format: Type.Optional(
              Type.Union(
                IMPORT_FORMATS.map((f) => Type.Literal(f)),
                {
                  description:
                    'Override the format detected from Content-Type and the content. legacy-csv and ' +
                    'legacy-table-csv also require the CSV header to be of that kind (400 otherwise); ' +
                    'legacy-json and legacy-table-json read every record in that shape.',
                },
              ),
            ),
            owner_id: Type.Optional(
              Type.String({ format: 'uuid', description: 'Admins: import for this user' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: ImportAnswer, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const { dry_run: dryRun, owner_id } = request.query;
      const ownerId = ownerFor(request.actor, owner_id);
      const upload = request.body as Upload;
      const format: ImportFormat =
        formatOf(request.query.format, request.headers['content-type']) ??
        (upload.scan.format as ImportFormat | undefined) ??
        'csv';
      if (upload.scan.error instanceof InvalidJsonError) {
        return notJsonAnswer({ dryRun, format, error: upload.scan.error });
      }
      const read: ReadFormat = { format };
      try {
        return await app.tenant(request, async (tx) => {
          const result = await importAccounts({
            tx,
            request,
            keys: app.deps.keys,
            ownerId,
            format: () => read.format,
            records: accountRecords(format, upload, read),
            dryRun,
          });
          await writeAudit(tx, auditContext(request), {
            action: 'account.import',
            entityType: 'account',
            ownerId,
            details: {
              format: result.format,
              created: result.created,
              updated: result.updated,
              failed: result.failed,
            },
          });
          return result;
        });
      } catch (err) {
        if (err instanceof DryRunRollback) return err.result;
        // Not JSON sent as something else (text/plain, a chosen format): reported as the
        // upload's one error, as a text upload always was; nothing was written.
        if (err instanceof InvalidJsonError && !isJsonType(request.headers['content-type'])) {
          return notJsonAnswer({ dryRun, format, error: err });
        }
        throw err;
      }
    },
  );
};

const isJsonType = (type: string | undefined) => formatOf(undefined, type) === 'json';

/** The answer to a JSON upload that is not JSON, sent as text: its one error, nothing written. */
function notJsonAnswer(options: {
  dryRun: boolean;
  format: ImportFormat;
  error: InvalidJsonError;
}): ImportResult {
  const reason = options.error.message
    .replace(/^The upload is not valid JSON:? ?/, '')
    .replace(/\.$/, '');
  return {
    dry_run: options.dryRun,
    format: options.format,
    total: 1,
    created: 0,
    updated: 0,
    failed: 1,
    errors: [
      {
        row: options.error.row ?? 1,
        message: `the upload is not valid JSON${reason ? `: ${reason}` : ''}`,
      },
    ],
    errors_total: 1,
    errors_truncated: false,
    ignored_fields: [],
    ignored_fields_truncated: false,
  };
}
