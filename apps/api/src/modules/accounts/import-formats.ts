import { AppError } from '../../http/errors.js';
import { LIMITS } from '../../http/limits.js';
import { parseJson } from '../../http/safe-json.js';
import { isMaFile, maFileBody } from './ma-file.js';

/**
 * The shapes an imported account record may have: AccountDB's own field names, the earlier
 * AccountDB upload format, or a Steam Guard .maFile (a CSV record: AccountDB's field names as
 * columns). Every record becomes a create/update body for POST /accounts. How an upload is
 * split into records is import-readers.ts.
 */

export type ImportFormat = 'json' | 'jsonl' | 'csv';

export interface ParsedRecord {
  /** 1-based position of the record in the upload (for CSV: its line number). */
  row: number;
  body?: Record<string, unknown>;
  error?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.trim() === ''
      ? undefined
      : v
    : typeof v === 'number' || typeof v === 'bigint'
      ? String(v)
      : undefined;

function splitTags(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((t): t is string => typeof t === 'string');
  if (typeof v === 'string')
    return v
      .split(/[;,|]/)
      .map((t) => t.trim())
      .filter(Boolean);
  return undefined;
}

function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The earlier AccountDB upload format: {id, user, email?, vault, metadata, steamguard?}. */
function fromLegacy(r: Obj): Obj {
  const user = isObj(r.user) ? r.user : {};
  const email = isObj(r.email) ? r.email : {};
  const vault = isObj(r.vault) ? r.vault : {};
  const meta = isObj(r.metadata) ? r.metadata : {};
  const guard = isObj(r.steamguard) ? { ...r.steamguard } : null;
  const attributes = compact({
    vault_address: str(vault.address),
    source_created_at: str(meta.createdAt),
    session_start: str(meta.sessionStart),
    guard: meta.guard,
  });
  const body: Obj = {
    external_id: str(r.id),
    service: 'steam',
    username: str(user.username),
    password: str(user.password),
    email: str(email.address),
    email_password: str(email.password),
    vault_password: str(vault.password),
    tags: splitTags(meta.tags),
    attributes: Object.keys(attributes).length ? attributes : undefined,
  };
  if (guard) Object.assign(body, steamGuardFields(guard));
  return compact(body);
}

/** shared/identity secrets and revocation code as fields, the rest of Steam Guard together. */
function steamGuardFields(guard: Obj): Obj {
  const { shared_secret, identity_secret, revocation_code, ...rest } = guard;
  const extras = compact(rest);
  return compact({
    shared_secret: str(shared_secret),
    identity_secret: str(identity_secret),
    revocation_code: str(revocation_code),
    steam_guard: Object.keys(extras).length ? extras : undefined,
  });
}

/** One record in any supported shape → a body in AccountDB's field names. */
export function toAccountBody(record: unknown): Obj {
  if (!isObj(record)) throw new Error('is not an object');
  if (isObj(record.user)) return fromLegacy(record);
  if (isMaFile(record)) return maFileBody(record);
  return record;
}

const CSV_ARRAY_FIELDS = new Set(['tags']);
const CSV_OBJECT_FIELDS = new Set(['attributes', 'steam_guard']);

/**
 * One CSV record under its header's (lower-case) column names → a body. Empty cells are left
 * out; tags are split, attributes and steam_guard read as JSON (within the JSON limits of an
 * import record: over them the whole upload is refused).
 */
export function csvRecordBody(names: string[], line: number, fields: string[]): ParsedRecord {
  const body: Obj = {};
  for (const [i, name] of names.entries()) {
    const raw = fields[i];
    if (!name || raw === undefined || raw.trim() === '') continue;
    if (CSV_ARRAY_FIELDS.has(name)) body[name] = splitTags(raw);
    else if (CSV_OBJECT_FIELDS.has(name)) {
      try {
        body[name] = parseJson(raw, {
          limits: LIMITS.import.recordJson,
          what: `Column ${name} on line ${line}`,
        });
      } catch (err) {
        if (err instanceof AppError) throw err;
        return { row: line, error: `column ${name} is not JSON` };
      }
    } else body[name] = raw;
  }
  if (fields.length > names.length)
    return { row: line, error: `has ${fields.length} fields, the header ${names.length}` };
  return { row: line, body };
}
