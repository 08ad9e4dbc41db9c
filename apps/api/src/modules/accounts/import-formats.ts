import { parseCsv } from '../../http/resource/csv.js';
import { parseJson } from '../../http/safe-json.js';

/**
 * Account import formats: JSON (an array or one object), JSON lines, and CSV with a header
 * row; each record in AccountDB's own field names, the earlier AccountDB upload format, or a
 * Steam Guard .maFile. Every record becomes a create/update body for POST /accounts.
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

/** A Steam Guard .maFile: {shared_secret, account_name, Session: {SteamID}, …}. */
function fromMaFile(r: Obj): Obj {
  const session = isObj(r.Session) ? r.Session : {};
  const { account_name, ...guard } = r;
  return compact({
    service: 'steam',
    username: str(account_name),
    external_id: str(session.SteamID),
    ...steamGuardFields(guard),
  });
}

/** One record in any supported shape → a body in AccountDB's field names. */
export function toAccountBody(record: unknown): Obj {
  if (!isObj(record)) throw new Error('is not an object');
  if (isObj(record.user)) return fromLegacy(record);
  if (typeof record.account_name === 'string' && typeof record.shared_secret === 'string')
    return fromMaFile(record);
  return record;
}

const CSV_ARRAY_FIELDS = new Set(['tags']);
const CSV_OBJECT_FIELDS = new Set(['attributes', 'steam_guard']);

function csvRecords(text: string): ParsedRecord[] {
  const rows = parseCsv(text);
  const header = rows.shift();
  if (!header) return [];
  const names = header.fields.map((h) => h.trim().toLowerCase());
  return rows.map(({ line, fields }) => {
    const body: Obj = {};
    for (const [i, name] of names.entries()) {
      const raw = fields[i];
      if (!name || raw === undefined || raw.trim() === '') continue;
      if (CSV_ARRAY_FIELDS.has(name)) body[name] = splitTags(raw);
      else if (CSV_OBJECT_FIELDS.has(name)) {
        try {
          body[name] = JSON.parse(raw);
        } catch {
          return { row: line, error: `column ${name} is not JSON` };
        }
      } else body[name] = raw;
    }
    if (fields.length > names.length)
      return { row: line, error: `has ${fields.length} fields, the header ${names.length}` };
    return { row: line, body };
  });
}

export function detectFormat(contentType: string | undefined, text: string): ImportFormat {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/csv') return 'csv';
  if (
    type === 'application/x-ndjson' ||
    type === 'application/jsonl' ||
    type === 'application/x-jsonlines'
  )
    return 'jsonl';
  if (type === 'application/json') return 'json';
  const start = text.trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) {
    try {
      JSON.parse(text);
      return 'json';
    } catch {
      return 'jsonl';
    }
  }
  return 'csv';
}

/** Splits an upload into records, each with its body or the reason it cannot be read. */
export function parseImport(format: ImportFormat, payload: string | unknown): ParsedRecord[] {
  if (format === 'csv') return csvRecords(String(payload));
  if (format === 'jsonl') {
    const out: ParsedRecord[] = [];
    String(payload)
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (!line.trim()) return;
        try {
          out.push({ row: i + 1, body: toAccountBody(parseJson(line, { bigIntegers: true })) });
        } catch (err) {
          out.push({
            row: i + 1,
            error: err instanceof SyntaxError ? 'is not valid JSON' : (err as Error).message,
          });
        }
      });
    return out;
  }
  let data = payload;
  if (typeof payload === 'string') {
    try {
      data = parseJson(payload, { bigIntegers: true });
    } catch {
      return [{ row: 1, error: 'the upload is not valid JSON' }];
    }
  }
  const list = Array.isArray(data) ? data : [data];
  return list.map((record, i) => {
    try {
      return { row: i + 1, body: toAccountBody(record) };
    } catch (err) {
      return { row: i + 1, error: (err as Error).message };
    }
  });
}
