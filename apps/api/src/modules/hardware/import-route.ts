import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { auditContext } from '../../http/auth-hooks.js';
import { importErrorFields } from '../../http/import-batches.js';
import { formatBytes, formatCount, LIMITS } from '../../http/limits.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { type Upload, uploadParser, uploadValidatorCompiler } from '../../http/upload.js';
import type { ImportFormat } from '../accounts/import-formats.js';
import { accountUploadScanner, formatOf } from '../accounts/import-readers.js';
import { writeAudit } from '../audit/write-audit.js';
import { hardwareItems } from './hardware-readers.js';
import { HardwareDryRun, importHardware } from './import-hardware.js';

const { bytes, records, errors: listed } = LIMITS.import;

/** Content types a hardware import is read from, as the account import. */
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
    format: Type.String(),
    total: Type.Integer({ description: 'Records read: created + updated + unchanged + failed' }),
    created: Type.Integer(),
    updated: Type.Integer({ description: 'Records matching one of yours, with other values' }),
    unchanged: Type.Integer({ description: 'Records matching one of yours with the same values' }),
    ...importErrorFields('Records'),
  },
  {
    examples: [
      {
        dry_run: false,
        format: 'json',
        total: 4,
        created: 2,
        updated: 1,
        unchanged: 0,
        failed: 1,
        errors: [{ row: 4, message: 'vmid 105: none of your VMs has this VMID' }],
        errors_total: 1,
        errors_truncated: false,
      },
    ],
  },
);

/**
 * POST /hardware/import in a plugin of its own, whose body parser receives uploads as an
 * Upload (bounded and scanned while it arrives, with the account import's formats and limits).
 */
export const importRoute: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    UPLOAD_TYPES,
    uploadParser((request) => {
      const type = request.headers['content-type'];
      const format = formatOf((request.query as { format?: unknown }).format, type);
      // A hardware upload that is not JSON is refused as a whole, whatever its content type.
      return accountUploadScanner(format, { strict: true });
    }),
  );

  app.post(
    '/hardware/import',
    {
      bodyLimit: bytes,
      validatorCompiler: uploadValidatorCompiler,
      config: { heavy: true },
      schema: {
        tags: ['hardware'],
        summary: 'Import hardware',
        description:
          'Uploads hardware records as a JSON array, JSON lines (application/x-ndjson) or CSV with a header row ' +
          "(text/csv). A record uses AccountDB's field names (as POST /hardware, with account_id/vm_id) or is a row " +
          "of the earlier AccountDB's hardware table (its JSON upload, a psql CSV dump or node-postgres rows: id, " +
          'acc_id, bios_vendor, …, mac_address, vmid, pcname, machine_guid, hwprofile_guid, product_id, device_id, ' +
          'owner_id). Earlier rows link by acc_id (the external_id, SteamID64, of one of your accounts) and vmid ' +
          "(one of your VMs); a link that matches none of yours, or a VMID on two of your nodes, is that row's " +
          'error and the row is not written. The earlier id is kept as external_id; owner_id is not kept. A ' +
          'record whose external_id (else smbios_uuid) matches one of your records updates it, or is counted ' +
          'unchanged; others are created, so a second import of the same file changes nothing. Rows are numbered ' +
          `from 1 (CSV: the line). The answer lists the first ${listed} errors and counts them all. dry_run=true ` +
          `checks everything and writes nothing. At most ${formatCount(records)} records and ${formatBytes(bytes)} ` +
          'per upload (400 too_many_records, 413). An upload that is not valid JSON writes nothing (400 invalid_json).',
        querystring: Type.Object(
          {
            dry_run: Type.Boolean({ default: false }),
            format: Type.Optional(
              Type.Union([Type.Literal('json'), Type.Literal('jsonl'), Type.Literal('csv')], {
                description: 'Override the format detected from Content-Type',
              }),
            ),
            owner_id: Type.Optional(
              Type.String({ format: 'uuid', description: 'Admins: import for this user' }),
            ),
          },
          { additionalProperties: false },
        ),
        consumes: UPLOAD_TYPES,
        response: { 200: ImportAnswer, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const { dry_run: dryRun, owner_id } = request.query;
      const ownerId = ownerFor(request.actor, owner_id);
      const upload = request.body as unknown as Upload;
      const format: ImportFormat =
        formatOf(request.query.format, request.headers['content-type']) ??
        (upload.scan.format as ImportFormat | undefined) ??
        'csv';
      try {
        return await app.tenant(request, async (tx) => {
          const result = await importHardware({
            tx,
            request,
            keys: app.deps.keys,
            ownerId,
            format,
            items: hardwareItems(format, upload),
            dryRun,
          });
          await writeAudit(tx, auditContext(request), {
            action: 'hardware.import',
            entityType: 'hardware',
            ownerId,
            details: {
              format,
              created: result.created,
              updated: result.updated,
              unchanged: result.unchanged,
              failed: result.failed,
            },
          });
          return result;
        });
      } catch (err) {
        if (err instanceof HardwareDryRun) return err.result;
        throw err;
      }
    },
  );
};
