import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { type Static, Type } from 'typebox';
import { auditContext } from '../../http/auth-hooks.js';
import { AppError } from '../../http/errors.js';
import { formatBytes, formatCount, LIMITS } from '../../http/limits.js';
import { ownerFor } from '../../http/owner-for.js';
import { problemResponses } from '../../http/problem.js';
import { writeAudit } from '../audit/write-audit.js';
import { DryRunRollback, type ImportResult, importAccounts } from './import-accounts.js';
import { readMaFiles } from './ma-file-set.js';
import { SDA_PBKDF2_ROUNDS } from './sda-encryption.js';

const { files: MAX_FILES, fileBytes: FILE_BYTES } = LIMITS.maFiles;
const listed = LIMITS.import.errors;

export const MaFilesBody = Type.Object(
  {
    files: Type.Array(
      Type.Object(
        {
          name: Type.String({
            minLength: 1,
            maxLength: 500,
            pattern: '^[^\\u0000-\\u001f\\u007f]+$',
            description:
              'The file name (folders before it are ignored), e.g. 76561198000000000.maFile',
          }),
          content: Type.String({
            maxLength: FILE_BYTES,
            description: 'The file as it is on disk: JSON, or base64 ciphertext when encrypted',
          }),
        },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: MAX_FILES,
        description: `The .maFiles, and manifest.json when it is among them; at most ${formatCount(MAX_FILES)}`,
      },
    ),
    manifest: Type.Optional(
      Type.String({
        maxLength: LIMITS.bodyBytes,
        description: 'The text of maFiles/manifest.json, when not sent among the files',
      }),
    ),
    passkey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'The SDA passkey of encrypted files. Never logged, stored or echoed',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        files: [
          {
            name: 'maFiles/manifest.json',
            content:
              '{"encrypted":true,"entries":[{"encryption_iv":"ifChnv66eA+/dYqGsQMIOA==","encryption_salt":"O2K8FAOWK9c=","filename":"76561198000000300.maFile","steamid":76561198000000300}]}',
          },
          { name: 'maFiles/76561198000000300.maFile', content: 'ZQqJk4KW7pb5bndkra24…' },
        ],
        passkey: 'the SDA passkey',
      },
    ],
  },
);

const MaFilesAnswer = Type.Object(
  {
    dry_run: Type.Boolean(),
    total: Type.Integer({ description: 'Steam Guard files read (the manifest not counted)' }),
    created: Type.Integer(),
    updated: Type.Integer(),
    decrypted: Type.Integer({ description: 'Files decrypted with the passkey' }),
    failed: Type.Integer({ description: 'Files with an error (a dry run only: else 422)' }),
    errors: Type.Array(
      Type.Object({
        row: Type.Integer({ description: "The file's 1-based position in files" }),
        file: Type.String(),
        message: Type.String(),
      }),
      { maxItems: listed, description: `The first ${listed} errors, by file` },
    ),
    errors_total: Type.Integer(),
    errors_truncated: Type.Boolean(),
  },
  {
    examples: [
      {
        dry_run: true,
        total: 2,
        created: 1,
        updated: 0,
        decrypted: 2,
        failed: 1,
        errors: [
          {
            row: 3,
            file: 'maFiles/76561198000000301.maFile',
            message: 'shared_secret is 16 bytes; a Steam secret is 20 (…)',
          },
        ],
        errors_total: 1,
        errors_truncated: false,
      },
    ],
  },
);

type Answer = Static<typeof MaFilesAnswer>;

/** A real import with failed files: nothing was written; the files' errors are the problem's. */
class MaFilesRefused extends AppError {
  constructor(answer: Answer) {
    super(
      422,
      'mafiles_refused',
      `${answer.failed} of ${answer.total} files cannot be imported; nothing was written. Fix or leave out the files named in errors.`,
      {
        errors: answer.errors.map((e) => ({
          path: `/body/files/${e.row - 1}`,
          message: `${e.file}: ${e.message}`,
        })),
      },
    );
  }
}

function answerOf(options: {
  result: ImportResult;
  names: Map<number, string>;
  decrypted: number;
}): Answer {
  const { result, names } = options;
  const nameOf = (row: number) => names.get(row) ?? `file ${row}`;
  return {
    dry_run: result.dry_run,
    total: result.total,
    created: result.created,
    updated: result.updated,
    decrypted: options.decrypted,
    failed: result.failed,
    errors: result.errors.map((e) => ({
      row: e.row,
      file: nameOf(e.row),
      message: e.message.replace(
        /was already in row (\d+)/,
        (_, r) => `is also in ${nameOf(Number(r))}`,
      ),
    })),
    errors_total: result.errors_total,
    errors_truncated: result.errors_truncated,
  };
}

/** POST /accounts/import/mafiles: a whole SDA or steamguard-cli maFiles/ folder at once. */
export const maFileImportRoute: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/accounts/import/mafiles',
    {
      bodyLimit: LIMITS.import.bytes,
      config: { heavy: true },
      schema: {
        tags: ['accounts'],
        summary: 'Import Steam Guard files (a maFiles folder)',
        description:
          'Imports Steam Guard files as their tools write them: Steam Desktop Authenticator .maFiles (older ' +
          'Session shape with a numeric SteamID, and the current one with AccessToken/RefreshToken), steamguard-cli ' +
          "(SDA's shape, and its current one with steam_id and tokens) and the Steam mobile app's v2 backup (steamid). " +
          'Each file becomes one account: the SteamID is external_id (importing again updates the account), ' +
          'account_name the username, shared_secret/identity_secret/revocation_code its secrets, and the rest of the ' +
          'file (device_id, serial_number, session and tokens…) its encrypted steam_guard. Send manifest.json among ' +
          'the files (or as manifest) to import encrypted SDA files, with the passkey: each file is decrypted with ' +
          `its manifest entry's salt and IV (PBKDF2-HMAC-SHA1, ${formatCount(SDA_PBKDF2_ROUNDS)} rounds, AES-256-CBC). ` +
          'All or nothing: with any file in error a real import writes nothing and answers 422 mafiles_refused ' +
          'naming each file; dry_run=true answers what would happen, errors included. 400 passkey_required / ' +
          'passkey_wrong name the encrypted file; 400 manifest_required: an encrypted file without its manifest ' +
          `entry. At most ${formatCount(MAX_FILES)} files of ${formatBytes(FILE_BYTES)} each per request ` +
          '(`accountdb import accounts <folder>` sends larger folders in batches).',
        querystring: Type.Object(
          {
            dry_run: Type.Boolean({ default: false }),
            owner_id: Type.Optional(
              Type.String({ format: 'uuid', description: 'Admins: import for this user' }),
            ),
          },
          { additionalProperties: false },
        ),
        body: MaFilesBody,
        response: { 200: MaFilesAnswer, ...problemResponses(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request) => {
      const { dry_run: dryRun, owner_id } = request.query;
      const ownerId = ownerFor(request.actor, owner_id);
      const { files, manifest, passkey } = request.body;
      const read = await readMaFiles({ files, manifest, passkey });
      try {
        return await app.tenant(request, async (tx) => {
          const result = await importAccounts({
            tx,
            request,
            keys: app.deps.keys,
            ownerId,
            format: () => 'json',
            records: read.records,
            dryRun,
          });
          const answer = answerOf({ result, names: read.names, decrypted: read.decrypted });
          // All or nothing: throwing rolls the transaction back.
          if (result.failed > 0) throw new MaFilesRefused(answer);
          await writeAudit(tx, auditContext(request), {
            action: 'account.import',
            entityType: 'account',
            ownerId,
            details: {
              format: 'mafile',
              created: result.created,
              updated: result.updated,
              decrypted: read.decrypted,
            },
          });
          return answer;
        });
      } catch (err) {
        if (err instanceof DryRunRollback) {
          return answerOf({ result: err.result, names: read.names, decrypted: read.decrypted });
        }
        throw err;
      }
    },
  );
};
