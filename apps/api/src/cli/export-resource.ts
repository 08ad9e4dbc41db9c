import type { Writable } from 'node:stream';
import { parseCsv } from '../http/resource/csv.js';
import {
  EXPORT_ERROR_KEY,
  EXPORT_FAILED_CSV,
  EXPORT_STATUS_TRAILER,
  type ExportFailure,
} from '../http/resource/export-stream.js';
import { type CliSession, refusal } from './cli-session.js';

/** What `accountdb export` and `import` work on: the API's resources. */
export const RESOURCES = ['accounts', 'hardware', 'cards', 'vms', 'proxmox-nodes'] as const;
export type Resource = (typeof RESOURCES)[number];

export function resourceNamed(name: string): Resource {
  const resource = name === 'nodes' ? 'proxmox-nodes' : name;
  if (!(RESOURCES as readonly string[]).includes(resource)) {
    throw new Error(`unknown resource ${name}; one of ${RESOURCES.join(', ')}`);
  }
  return resource as Resource;
}

/** `--filter status=active` → { status: 'active' } (a repeated name becomes a list). */
export function parseFilters(pairs: string[]): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--filter ${pair}: expected name=value`);
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    const had = query[name];
    query[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return query;
}

export interface ExportResult {
  rows: number;
  bytes: number;
}

/**
 * Streams GET /{resource}/export (CSV or a JSON array, as the web's export) into `out`,
 * counting rows for `onProgress` against the list's total. Filters are the list's.
 */
export async function exportResource(options: {
  session: CliSession;
  resource: Resource;
  /** csv, json, or a resource's other export format (legacy-csv is CSV, legacy-json JSON). */
  format: string;
  query: Record<string, string | string[]>;
  out: Writable;
  onProgress?: (done: number, total: number) => void;
}): Promise<ExportResult> {
  const { session, resource, out } = options;
  const format: 'csv' | 'json' = options.format.endsWith('csv') ? 'csv' : 'json';
  const base = `/api/v1/${resource}`;
  const { include_secrets: _secrets, include_codes: _codes, ...filters } = options.query;
  const count = await session.request({
    method: 'GET',
    url: base,
    query: { ...filters, limit: '1', count: 'true' },
  });
  if (count.statusCode !== 200) throw new Error(`${resource}: ${refusal(count)}`);
  const total = (count.json() as { total: number | null }).total ?? 0;

  const response = await session.request({
    method: 'GET',
    url: `${base}/export`,
    query: { ...options.query, format: options.format },
    stream: true,
  });
  if (response.statusCode !== 200) {
    let body = '';
    for await (const chunk of response.stream()) body += String(chunk);
    throw new Error(
      `${resource}: ${refusal({ statusCode: response.statusCode, json: () => JSON.parse(body) })}`,
    );
  }
  // Rows start on a new line: `\n{` in the JSON array, CRLF-ended lines in CSV (a value
  // holding a line break may count twice; the count stops at the total).
  const rowStart = format === 'json' ? '\n{' : '\r\n';
  let rows = format === 'csv' ? -1 : 0; // the CSV header line
  let bytes = 0;
  let tail = '';
  let end = '';
  for await (const chunk of response.stream()) {
    const text = tail + String(chunk);
    let at = text.indexOf(rowStart);
    while (at !== -1) {
      rows += 1;
      at = text.indexOf(rowStart, at + rowStart.length);
    }
    tail = text.slice(-(rowStart.length - 1));
    end = (end + String(chunk)).slice(-END_KEPT);
    bytes += Buffer.byteLength(String(chunk));
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    options.onProgress?.(Math.min(Math.max(rows, 0), total), total);
  }
  const failure = exportFailure(format, end);
  if (failure !== null || response.trailers[EXPORT_STATUS_TRAILER] === 'failed') {
    throw new Error(
      `${resource}: the export failed and is incomplete: ${failure ?? 'the server reported an error'}`,
    );
  }
  return { rows: Math.min(Math.max(rows, 0), total), bytes };
}

/** How much of the end of an export is kept to look for its error trailer. */
const END_KEPT = 16 * 1024;

/**
 * The detail of the error an export ended with (see exportBody), or null when it ended as a
 * complete file does: JSON's last line is the error object, CSV's last record starts with
 * "EXPORT FAILED: ".
 */
export function exportFailure(format: 'csv' | 'json', end: string): string | null {
  const lastLine = end.trimEnd().split('\n').at(-1) ?? '';
  if (format === 'json') {
    if (!lastLine.startsWith(`{"${EXPORT_ERROR_KEY}"`)) return null;
    try {
      const failure = (JSON.parse(lastLine) as Record<string, ExportFailure>)[EXPORT_ERROR_KEY];
      return failure?.detail ?? lastLine;
    } catch {
      return lastLine;
    }
  }
  const cell = parseCsv(lastLine).at(-1)?.fields[0] ?? '';
  return cell.startsWith(`${EXPORT_FAILED_CSV}: `)
    ? cell.slice(EXPORT_FAILED_CSV.length + 2)
    : null;
}
