import { AppError, BadRequestError, InvalidJsonError } from '../../http/errors.js';
import { LIMITS } from '../../http/limits.js';
import { parseJson } from '../../http/safe-json.js';
import type { ParsedRecord } from './import-formats.js';
import { isMaFile, MaFileError, maFileBody, maFileFieldNames } from './ma-file.js';
import {
  decryptMaFile,
  looksEncrypted,
  type ManifestEntry,
  manifestEntries,
  SdaDecryptError,
} from './sda-encryption.js';

/**
 * A set of Steam Guard files as a user holds them (an SDA or steamguard-cli maFiles/ folder:
 * manifest.json and the .maFiles, some or all encrypted), read into account records. What
 * keeps the whole set from being read (a manifest that is not one, an encrypted file without
 * its manifest entry or the passkey, a passkey that does not open a file) is a 400 naming
 * the file; what is wrong with one file alone is that file's row error.
 */

export interface MaFileInput {
  name: string;
  content: string;
}

export interface ReadMaFiles {
  /** One per file that is not the manifest; row = the file's 1-based position in `files`. */
  records: ParsedRecord[];
  /** row → file name, for the answer. */
  names: Map<number, string>;
  decrypted: number;
}

const MANIFEST = 'manifest.json';
/** The file's own name, without the folders a browser or the CLI put before it. */
export const baseName = (name: string) => name.split(/[\\/]/).pop() ?? name;

function readManifest(options: { text: string; name: string }): Map<string, ManifestEntry> {
  let parsed: unknown;
  try {
    parsed = parseJson(options.text, {
      bigIntegers: true,
      limits: LIMITS.import.recordJson,
      what: `The file ${options.name}`,
    });
  } catch (err) {
    if (err instanceof AppError && !(err instanceof InvalidJsonError)) throw err;
    throw new BadRequestError(`The file ${options.name} is not valid JSON.`, 'manifest_invalid');
  }
  try {
    return manifestEntries(parsed);
  } catch (err) {
    if (!(err instanceof SdaDecryptError)) throw err;
    throw new BadRequestError(`The file ${options.name} ${err.message}.`, 'manifest_invalid');
  }
}

/** Row and name of every file, the manifest taken out. */
function splitManifest(options: { files: MaFileInput[]; manifest?: string | undefined }) {
  let manifest =
    options.manifest !== undefined ? { text: options.manifest, name: MANIFEST } : undefined;
  const files: Array<MaFileInput & { row: number }> = [];
  for (const [i, file] of options.files.entries()) {
    if (baseName(file.name).toLowerCase() !== MANIFEST) {
      files.push({ ...file, row: i + 1 });
      continue;
    }
    if (manifest) {
      throw new BadRequestError(
        `Two manifests were sent (${manifest.name} and ${file.name}): send one folder at a time.`,
        'manifest_twice',
      );
    }
    manifest = { text: file.content, name: file.name };
  }
  return { files, manifest };
}

/** The manifest entry of each file that needs decrypting; 400 when one cannot be. */
function plan(options: {
  files: Array<MaFileInput & { row: number }>;
  entries: Map<string, ManifestEntry> | null;
  passkey: string | undefined;
}): Map<number, { salt: string; iv: string }> {
  const out = new Map<number, { salt: string; iv: string }>();
  for (const file of options.files) {
    const entry = options.entries?.get(baseName(file.name));
    if (entry?.unsupported) {
      throw new BadRequestError(
        `The file ${file.name} is encrypted with steamguard-cli's ${entry.unsupported} scheme, which ` +
          'AccountDB cannot open: decrypt it first (`steamguard decrypt`), then import the folder.',
        'mafile_scheme_unsupported',
      );
    }
    // A file in clear (or damaged) under an entry that says encrypted is read as it is.
    if (entry?.encryption && looksEncrypted(file.content)) {
      if (!options.passkey) {
        throw new BadRequestError(
          `The file ${file.name} is encrypted: give the SDA passkey.`,
          'passkey_required',
        );
      }
      out.set(file.row, entry.encryption);
    } else if (looksEncrypted(file.content)) {
      throw new BadRequestError(
        options.entries
          ? `The file ${file.name} is encrypted, but the manifest has no salt and IV for it: send the manifest.json it was encrypted with.`
          : `The file ${file.name} is encrypted: send the manifest.json beside it (it holds the file's salt and IV) and give the SDA passkey.`,
        'manifest_required',
      );
    }
  }
  return out;
}

/** Decrypts the planned files, the first alone (a wrong passkey stops after one). */
async function decryptAll(options: {
  files: Array<MaFileInput & { row: number }>;
  keys: Map<number, { salt: string; iv: string }>;
  passkey: string;
}): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const encrypted = options.files.filter((f) => options.keys.has(f.row));
  const one = async (file: MaFileInput & { row: number }) => {
    const key = options.keys.get(file.row) as { salt: string; iv: string };
    try {
      out.set(
        file.row,
        await decryptMaFile({ passkey: options.passkey, ...key, content: file.content }),
      );
    } catch (err) {
      if (!(err instanceof SdaDecryptError)) throw err;
      throw new BadRequestError(
        `The file ${file.name} ${err.message}: give the SDA passkey it was encrypted with.`,
        'passkey_wrong',
      );
    }
  };
  const [first, ...rest] = encrypted;
  if (first) await one(first);
  // libuv runs four PBKDF2s at a time; more in flight only queue.
  for (let i = 0; i < rest.length; i += 4) await Promise.all(rest.slice(i, i + 4).map(one));
  return out;
}

function recordOf(file: { name: string; row: number; text: string }): ParsedRecord {
  let value: unknown;
  try {
    value = parseJson(file.text.replace(/^\uFEFF/, ''), {
      bigIntegers: true,
      limits: LIMITS.import.recordJson,
      what: `The file ${file.name}`,
    });
  } catch (err) {
    if (err instanceof AppError && !(err instanceof InvalidJsonError)) throw err;
    return { row: file.row, error: 'is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { row: file.row, error: 'is not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  if (!isMaFile(record)) {
    return {
      row: file.row,
      error: 'is not a Steam Guard file (it needs account_name and shared_secret)',
    };
  }
  try {
    return { row: file.row, body: maFileBody(record), names: maFileFieldNames(record) };
  } catch (err) {
    if (!(err instanceof MaFileError)) throw err;
    return { row: file.row, error: err.message };
  }
}

/** Reads a set of Steam Guard files (manifest among them or apart) into account records. */
export async function readMaFiles(options: {
  files: MaFileInput[];
  manifest?: string | undefined;
  passkey?: string | undefined;
}): Promise<ReadMaFiles> {
  const { files, manifest } = splitManifest(options);
  if (files.length === 0) {
    throw new BadRequestError('No Steam Guard file was sent, only a manifest.', 'no_mafiles');
  }
  const entries = manifest ? readManifest(manifest) : null;
  const keys = plan({ files, entries, passkey: options.passkey });
  const plain =
    keys.size > 0
      ? await decryptAll({ files, keys, passkey: options.passkey as string })
      : new Map<number, string>();
  const names = new Map(files.map((f) => [f.row, f.name]));
  const records = files.map((f) =>
    recordOf({ name: f.name, row: f.row, text: plain.get(f.row) ?? f.content }),
  );
  return { records, names, decrypted: plain.size };
}
