import { KiB, LIMITS } from '../http/limits.js';
import { isCardTableHeader } from '../modules/cards/card-readers.js';
import { LEGACY_CARD_COLUMNS } from '../modules/cards/legacy-card.js';
import { LEGACY_ONLY_KEYS } from '../modules/hardware/legacy-hardware.js';
import { type CliSession, refusal } from './cli-session.js';
import type { Resource } from './export-resource.js';
import { batchesOf, type InputFormat, type InputRecord, splitInput } from './split-input.js';

export interface ImportOutcome {
  created: number;
  updated: number;
  /** Cards whose code was there already (skipped). */
  duplicates: number;
  /** Hardware records matching one of yours with the same values (nothing written). */
  unchanged: number;
  failed: number;
  /**
   * Row numbers are the file's: JSON array items or lines. The API lists the first errors of
   * each request and counts the rest: errorsTotal counts them all.
   */
  errors: Array<{ row: number; message: string }>;
  errorsTotal: number;
  /**
   * Fields the import read past (accounts in the earlier upload format), with how many
   * records had each, over every batch.
   */
  ignored: Map<string, number>;
  /** Set when a batch was refused as a whole: records before it were written, it and the rest not. */
  stoppedAfter?: number;
}

/** Cards' shared fields for a one-card-a-line import (as the web's card import asks). */
export interface CardDefaults {
  value?: string;
  currency?: string;
  tags?: string[];
  expires_at?: string;
}

type Route = 'accounts-import' | 'cards-import' | 'hardware-import' | 'bulk';

/** The first record of a JSON file as a value, or undefined. */
function firstValue(records: InputRecord[]): unknown {
  try {
    return records[0] ? JSON.parse(records[0].text) : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Where a file goes: JSON in the earlier AccountDB's shapes (lists of codes, its cards or
 * hardware rows) to the resource's import; JSON as `accountdb export` writes it to bulk.
 */
function routeFor(resource: Resource, format: InputFormat, records: InputRecord[]): Route {
  if (resource === 'accounts') {
    if (format === 'text') throw new Error('accounts: import JSON, JSON lines or CSV');
    return 'accounts-import';
  }
  if (resource === 'cards' && (format === 'text' || format === 'csv')) return 'cards-import';
  if (resource === 'hardware' && format === 'csv') return 'hardware-import';
  if (format === 'json' || format === 'jsonl') {
    const first = firstValue(records);
    const cardColumns = new Set<string>(LEGACY_CARD_COLUMNS);
    if (
      resource === 'cards' &&
      format === 'json' &&
      (Array.isArray(first) ||
        (isObject(first) && Object.keys(first).every((k) => cardColumns.has(k))))
    ) {
      return 'cards-import';
    }
    if (
      resource === 'hardware' &&
      isObject(first) &&
      ('acc_id' in first ||
        'vmid' in first ||
        /^\d+$/.test(String(first.id ?? '')) ||
        !LEGACY_ONLY_KEYS.some((k) => k in first))
    ) {
      return 'hardware-import';
    }
    return 'bulk';
  }
  throw new Error(
    `${resource}: import JSON or JSON lines (as \`accountdb export ${resource}\` writes them)`,
  );
}

const CONTENT_TYPE: Record<InputFormat, string> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
  text: 'text/plain',
};

/**
 * A batch as one upload and the way back from the API's row numbers to the file's: the
 * API numbers lines of a text upload (or items of a JSON array) within the batch.
 */
function textUpload(format: InputFormat, header: string, batch: InputRecord[]) {
  if (format === 'json') {
    return {
      payload: `[${batch.map((r) => r.text).join(',\n')}]`,
      rowOf: (apiRow: number) => batch[apiRow - 1]?.row ?? apiRow,
    };
  }
  const starts: number[] = [];
  let line = 1 + (header.match(/\n/g)?.length ?? 0);
  for (const record of batch) {
    starts.push(line);
    line += record.text.match(/\n/g)?.length ?? 1;
  }
  return {
    payload: header + batch.map((r) => r.text).join(format === 'jsonl' ? '\n' : ''),
    rowOf: (apiRow: number) => {
      let k = starts.length - 1;
      while (k > 0 && (starts[k] as number) > apiRow) k--;
      const record = batch[k];
      return record ? record.row + (apiRow - (starts[k] as number)) : apiRow;
    },
  };
}

/** The fields of a CSV header line. */
function headerFields(header: string): string[] {
  return header
    .replace(/^\uFEFF/, '')
    .replace(/\r?\n$/, '')
    .split(',');
}

interface Schema {
  $ref?: string;
  properties?: Record<string, unknown>;
}
type Content = Record<string, { schema?: Schema }>;
interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content?: Content }; responses?: Record<string, { content?: Content }> }
    >
  >;
  components?: { schemas?: Record<string, Schema> };
}

/** The fields of a resource's DTO that POST does not take (id, timestamps, has_*…), and owner_id. */
async function readOnlyFields(session: CliSession, resource: Resource): Promise<Set<string>> {
  const response = await session.request({ method: 'GET', url: '/api/openapi.json' });
  const doc = response.json() as OpenApi;
  const resolve = (schema: Schema | undefined) =>
    schema?.$ref ? doc.components?.schemas?.[schema.$ref.split('/').pop() ?? ''] : schema;
  const props = (schema: Schema | undefined) => Object.keys(resolve(schema)?.properties ?? {});
  const base = `/api/v1/${resource}`;
  const create = props(doc.paths[base]?.post?.requestBody?.content?.['application/json']?.schema);
  const dto = props(
    doc.paths[`${base}/{id}`]?.get?.responses?.['200']?.content?.['application/json']?.schema,
  );
  const readOnly = new Set(dto.filter((field) => !create.includes(field)));
  readOnly.add('owner_id');
  return readOnly;
}

/**
 * Imports a file through the API in batches: accounts through POST /accounts/import (any
 * of its formats; bad records reported, the rest imported; an external_id already there
 * updates), one-card-a-line text through POST /cards/import (codes already there skipped),
 * JSON of any resource through POST /{resource}/bulk (each batch all or nothing; the fields
 * an export adds and POST does not take are left out). Stops at a bulk batch that fails.
 */
export async function importResource(options: {
  session: CliSession;
  resource: Resource;
  format: InputFormat;
  text: string;
  batchSize: number;
  skip?: number;
  dryRun?: boolean;
  cardDefaults?: CardDefaults;
  onProgress?: (done: number, total: number) => void;
}): Promise<ImportOutcome> {
  const { session, resource } = options;
  let format = options.format;
  let split = splitInput(format, options.text);
  // A card CSV without the earlier table's header is one card a line, its first line a card.
  if (resource === 'cards' && format === 'csv' && !isCardTableHeader(headerFields(split.header))) {
    format = 'text';
    split = splitInput(format, options.text);
  }
  const route = routeFor(resource, format, split.records);
  if (options.dryRun && route === 'bulk') {
    throw new Error(
      `--dry-run checks account imports and one-card-a-line card imports; ${resource} from JSON is written batch by batch, each all or nothing`,
    );
  }
  const { header, records } = split;
  const skip = Math.min(options.skip ?? 0, records.length);
  const total = records.length - skip;
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
  const readOnly = route === 'bulk' ? await readOnlyFields(session, resource) : new Set<string>();
  let done = 0;
  options.onProgress?.(0, total);
  // Each request stays under the route's byte limit, with room for the CSV header and the
  // JSON around the records.
  const limit = route === 'bulk' ? LIMITS.bulk.bytes : LIMITS.import.bytes;
  const maxBytes = limit - Buffer.byteLength(header) - 64 * KiB;
  for (const batch of batchesOf(records, { size: options.batchSize, maxBytes, skip })) {
    if (route === 'bulk') {
      const items = batch.map((record) => {
        let item: unknown;
        try {
          item = JSON.parse(record.text);
        } catch {
          throw new Error(`row ${record.row}: not valid JSON`);
        }
        if (item === null || typeof item !== 'object' || Array.isArray(item))
          throw new Error(`row ${record.row}: not a JSON object`);
        return Object.fromEntries(Object.entries(item).filter(([k]) => !readOnly.has(k)));
      });
      const response = await session.request({
        method: 'POST',
        url: `/api/v1/${resource}/bulk`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ items }),
      });
      if (response.statusCode === 422) {
        const problem = response.json() as { errors?: Array<{ path: string; message: string }> };
        for (const e of problem.errors ?? []) {
          const match = /^\/body\/items\/(\d+)(\/.*)?$/.exec(e.path);
          const record = match ? batch[Number(match[1])] : undefined;
          outcome.errors.push({
            row: record?.row ?? 0,
            message: `${match?.[2] ? `${match[2].slice(1)}: ` : ''}${e.message}`,
          });
        }
        outcome.failed += new Set(outcome.errors.map((e) => e.row)).size;
        outcome.errorsTotal += outcome.errors.length;
        outcome.stoppedAfter = skip + done;
        return outcome;
      }
      if (response.statusCode !== 200) throw new Error(`${resource}: ${refusal(response)}`);
      outcome.created += (response.json() as { created: number }).created;
    } else {
      const upload = textUpload(format, header, batch);
      const query: Record<string, string | string[]> = {
        dry_run: String(Boolean(options.dryRun)),
        ...(route === 'accounts-import' || route === 'hardware-import' ? { format } : {}),
      };
      if (route === 'cards-import') {
        const d = options.cardDefaults ?? {};
        if (d.value !== undefined) query.value = d.value;
        if (d.currency !== undefined) query.currency = d.currency;
        if (d.tags?.length) query.tags = d.tags;
        if (d.expires_at !== undefined) query.expires_at = d.expires_at;
      }
      const response = await session.request({
        method: 'POST',
        url: `/api/v1/${resource}/import`,
        query,
        headers: {
          'content-type':
            route === 'cards-import' && format !== 'json' ? 'text/plain' : CONTENT_TYPE[format],
        },
        payload: upload.payload,
      });
      if (response.statusCode !== 200) throw new Error(`${resource}: ${refusal(response)}`);
      const result = response.json() as {
        created: number;
        updated?: number;
        duplicates?: number;
        unchanged?: number;
        failed: number;
        errors: Array<{ row: number; message: string }>;
        errors_total: number;
        ignored_fields?: Array<{ field: string; records: number }>;
      };
      outcome.created += result.created;
      outcome.updated += result.updated ?? 0;
      outcome.duplicates += result.duplicates ?? 0;
      outcome.unchanged += result.unchanged ?? 0;
      outcome.failed += result.failed;
      outcome.errorsTotal += result.errors_total;
      for (const { field, records } of result.ignored_fields ?? [])
        outcome.ignored.set(field, (outcome.ignored.get(field) ?? 0) + records);
      for (const e of result.errors)
        outcome.errors.push({ row: upload.rowOf(e.row), message: e.message });
    }
    done += batch.length;
    options.onProgress?.(done, total);
  }
  return outcome;
}
