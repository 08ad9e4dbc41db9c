import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { KiB, LIMITS } from '../http/limits.js';
import { type CliSession, refusal } from './cli-session.js';
import type { ImportOutcome } from './import-resource.js';

/**
 * A Steam Guard folder (SDA's or steamguard-cli's maFiles/: manifest.json and the .maFiles)
 * imported through POST /accounts/import/mafiles, in batches that each carry the manifest.
 * Each batch is all or nothing; the import stops at the first batch refused, naming its
 * files. Encrypted files are decrypted by the API with the passkey (asked only when needed).
 */

export interface MaFolder {
  manifest: string | undefined;
  files: Array<{ name: string; content: string }>;
}

const MANIFEST = 'manifest.json';

/** The folder's manifest and .maFiles (by name), or an error saying what is missing. */
export async function readMaFolder(dir: string): Promise<MaFolder> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  const maFiles = names.filter((n) => n.toLowerCase().endsWith('.mafile'));
  if (maFiles.length === 0) throw new Error(`${dir} holds no .maFile`);
  const manifestName = names.find((n) => n.toLowerCase() === MANIFEST);
  return {
    manifest: manifestName ? await readFile(path.join(dir, manifestName), 'utf8') : undefined,
    files: await Promise.all(
      maFiles.map(async (name) => ({
        name,
        content: await readFile(path.join(dir, name), 'utf8'),
      })),
    ),
  };
}

/** True when some file of the folder is not JSON (SDA writes encrypted files as base64). */
export const needsPasskey = (folder: MaFolder) =>
  folder.files.some(
    (f) =>
      !f.content
        .replace(/^\uFEFF/, '')
        .trimStart()
        .startsWith('{'),
  );

function* batches(options: { folder: MaFolder; size: number; skip: number }) {
  const { files } = options.folder;
  const size = Math.min(options.size, LIMITS.maFiles.files);
  const room = LIMITS.import.bytes - 64 * KiB - Buffer.byteLength(options.folder.manifest ?? '');
  let batch: Array<{ index: number }> = [];
  let bytes = 0;
  for (let index = options.skip; index < files.length; index++) {
    const file = files[index] as { name: string; content: string };
    // JSON escaping can double a character; a .maFile is ASCII, so this is generous.
    const cost = Buffer.byteLength(file.content) * 2 + file.name.length + 64;
    if (batch.length > 0 && (batch.length >= size || bytes + cost > room)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push({ index });
    bytes += cost;
  }
  if (batch.length > 0) yield batch;
}

export async function importMaFolder(options: {
  session: CliSession;
  folder: MaFolder;
  passkey: string | undefined;
  batchSize: number;
  skip?: number;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}): Promise<ImportOutcome> {
  const { folder } = options;
  const skip = Math.min(options.skip ?? 0, folder.files.length);
  const total = folder.files.length - skip;
  const outcome: ImportOutcome = {
    created: 0,
    updated: 0,
    duplicates: 0,
    unchanged: 0,
    failed: 0,
    errors: [],
    errorsTotal: 0,
    ignored: new Map(),
  };
  let done = 0;
  options.onProgress?.(0, total);
  for (const batch of batches({ folder, size: options.batchSize, skip })) {
    const files = batch.map(
      ({ index }) => folder.files[index] as { name: string; content: string },
    );
    const response = await options.session.request({
      method: 'POST',
      url: '/api/v1/accounts/import/mafiles',
      query: { dry_run: String(Boolean(options.dryRun)) },
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        files,
        ...(folder.manifest !== undefined ? { manifest: folder.manifest } : {}),
        ...(options.passkey !== undefined ? { passkey: options.passkey } : {}),
      }),
    });
    // Row numbers of the API are positions in the batch; the CLI's are in the folder.
    const rowOf = (apiRow: number) => (batch[apiRow - 1]?.index ?? 0) + 1;
    if (response.statusCode === 422) {
      const problem = response.json() as { errors?: Array<{ path: string; message: string }> };
      for (const e of problem.errors ?? []) {
        const at = /^\/body\/files\/(\d+)$/.exec(e.path);
        outcome.errors.push({ row: at ? rowOf(Number(at[1]) + 1) : 0, message: e.message });
      }
      outcome.failed += outcome.errors.length;
      outcome.errorsTotal += outcome.errors.length;
      outcome.stoppedAfter = skip + done;
      return outcome;
    }
    if (response.statusCode !== 200) throw new Error(`maFiles: ${refusal(response)}`);
    const result = response.json() as {
      created: number;
      updated: number;
      failed: number;
      errors: Array<{ row: number; file: string; message: string }>;
      errors_total: number;
    };
    outcome.created += result.created;
    outcome.updated += result.updated;
    outcome.failed += result.failed;
    outcome.errorsTotal += result.errors_total;
    for (const e of result.errors)
      outcome.errors.push({ row: rowOf(e.row), message: `${e.file}: ${e.message}` });
    done += batch.length;
    options.onProgress?.(done, total);
  }
  return outcome;
}
